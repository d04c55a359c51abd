import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import * as z from 'zod';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeS3Client } from '../shared/aws/s3';
import { makeSqsClient } from '../shared/aws/sqs';
import { resolveUserPath } from '../shared/command-line';
import { localResourceNames, papersTable, type QueueDefinition, queues } from '../shared/resources';

/**
 * The local stack: DynamoDB (dynalite, persisted with LevelDB under the data
 * folder) and SQS + S3 (fauxqs, in memory) on 127.0.0.1, holding the same
 * table, queues, dead-letter queues and bucket the CDK stack defines — both
 * built from `shared/resources.ts`.
 *
 * One process owns the stack for a data folder and records its endpoints in
 * `<dataDir>/stack.json`; another process (the CLI in a second terminal) finds
 * that file and connects instead of failing on LevelDB's lock.
 *
 * fauxqs keeps S3 in memory, so the owner mirrors the archive bucket into
 * `<dataDir>/archive/` (see {@link LocalStack.persistArchive}) and loads it back
 * at start: archived listings survive restarts like the table does. Archive
 * keys are content-addressed, so the mirror only ever adds files.
 */

export interface LocalStack {
  /** Environment for the handlers: resource names, queue URLs, stand-in endpoints. */
  env: Record<string, string>;
  dataDir: string;
  /** `owner` started the stand-ins; `client` connected to another process's. */
  role: 'owner' | 'client';
  queueUrls: { parse: string; parseDeadLetter: string; classify: string; classifyDeadLetter: string };
  sqs: SQSClient;
  s3: S3Client;
  /** Copies archive objects not yet on disk into `<dataDir>/archive/`. */
  persistArchive(): Promise<number>;
  /**
   * Every request the stand-ins served, by service and operation (`dynamodb` →
   * `Query` → 12): each is one AWS SDK call (or an SDK retry). Counted by the owner
   * only; a client sees an empty count.
   */
  requestCounts(): RequestCounts;
  close(): Promise<void>;
}

export interface LocalStackOptions {
  /** Default: `PAPERS_DATA_DIR`, else `.papers-data` in the working directory. */
  dataDir?: string;
}

export type RequestCounts = Record<'dynamodb' | 'sqs' | 's3', Record<string, number>>;

const StackFileSchema = z.object({
  pid: z.number().int(),
  dynamodb: z.url(),
  sqsS3: z.url(),
  queueUrls: z.object({
    parse: z.url(),
    parseDeadLetter: z.url(),
    classify: z.url(),
    classifyDeadLetter: z.url(),
  }),
  startedAt: z.string(),
});
type StackFile = z.infer<typeof StackFileSchema>;

const ArchiveSidecarSchema = z.object({
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
});

/**
 * `PAPERS_DATA_DIR` (a relative one from the folder the user ran the command in), else
 * `.papers-data` in the project root, wherever the command was run from.
 */
export function defaultDataDir(): string {
  return process.env.PAPERS_DATA_DIR
    ? resolveUserPath(process.env.PAPERS_DATA_DIR)
    : fileURLToPath(new URL('../.papers-data', import.meta.url));
}

/** Starts the stand-ins for `dataDir`, or connects to the ones another live process holds. */
export async function openLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir());
  await mkdir(dataDir, { recursive: true });
  const stackFile = path.join(dataDir, 'stack.json');
  const running = await readRunningStack(stackFile);
  if (running)
    return connectTo(
      dataDir,
      running,
      'client',
      () => ({ dynamodb: {}, sqs: {}, s3: {} }),
      async () => {},
    );
  return startOwnStack(dataDir, stackFile);
}

async function startOwnStack(dataDir: string, stackFile: string): Promise<LocalStack> {
  const dynamo = dynalite({ path: path.join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(0, '127.0.0.1', () => resolve());
  });
  const fauxqs = buildApp({ logger: false });
  await fauxqs.listen({ port: 0, host: '127.0.0.1' });
  const counts: RequestCounts = { dynamodb: {}, sqs: {}, s3: {} };
  dynamo.on('request', (request: IncomingMessage) => count(counts.dynamodb, operationOf(request)));
  fauxqs.server.on('request', (request: IncomingMessage) => {
    const operation = operationOf(request);
    if (operation.startsWith('AmazonSQS.')) count(counts.sqs, operation.slice('AmazonSQS.'.length));
    else count(counts.s3, operation);
  });
  const endpoints = {
    dynamodb: `http://127.0.0.1:${portOf(dynamo)}`,
    sqsS3: `http://127.0.0.1:${portOf(fauxqs.server)}`,
  };
  const file: StackFile = {
    pid: process.pid,
    ...endpoints,
    queueUrls: await createResources(endpoints),
    startedAt: new Date().toISOString(),
  };
  let closed = false;
  const stack = await connectTo(
    dataDir,
    file,
    'owner',
    () => structuredClone(counts),
    async () => {
      if (closed) return;
      closed = true;
      await stack.persistArchive();
      await rm(stackFile, { force: true });
      await fauxqs.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  );
  await restoreArchive(stack);
  await writeFile(stackFile, `${JSON.stringify(file, null, 2)}\n`);
  return stack;
}

async function connectTo(
  dataDir: string,
  file: StackFile,
  role: LocalStack['role'],
  requestCounts: () => RequestCounts,
  closeServers: () => Promise<void>,
): Promise<LocalStack> {
  const sqs = makeSqsClient(file.sqsS3);
  const s3 = makeS3Client(file.sqsS3);
  const { queueUrls } = file;

  const archiveDir = path.join(dataDir, 'archive');
  return {
    env: {
      TABLE_NAME: localResourceNames.table,
      ARCHIVE_BUCKET: localResourceNames.bucket,
      PARSE_QUEUE_URL: queueUrls.parse,
      CLASSIFY_QUEUE_URL: queueUrls.classify,
      AWS_ENDPOINT_URL_DYNAMODB: file.dynamodb,
      AWS_ENDPOINT_URL_SQS: file.sqsS3,
      AWS_ENDPOINT_URL_S3: file.sqsS3,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    dataDir,
    role,
    queueUrls,
    sqs,
    s3,
    persistArchive: () => mirrorArchive(s3, archiveDir),
    requestCounts,
    async close() {
      await closeServers();
      sqs.destroy();
      s3.destroy();
    },
  };
}

/** Creates (or finds, after a restart) the table, the queues and the bucket; returns the queue URLs. */
async function createResources(endpoints: {
  dynamodb: string;
  sqsS3: string;
}): Promise<StackFile['queueUrls']> {
  // The document client passes table commands through unchanged.
  const dynamo = makeDocumentClient(endpoints.dynamodb);
  try {
    const { partitionKey, sortKey, indexes } = papersTable;
    const indexList = Object.values(indexes);
    const attributes = new Map<string, string>();
    for (const key of [
      partitionKey,
      sortKey,
      ...indexList.flatMap((index) => [index.partitionKey, index.sortKey]),
    ]) {
      attributes.set(key.name, key.type);
    }
    await dynamo
      .send(
        new CreateTableCommand({
          TableName: localResourceNames.table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
            AttributeName,
            AttributeType: AttributeType as 'S' | 'N',
          })),
          KeySchema: [
            { AttributeName: partitionKey.name, KeyType: 'HASH' },
            { AttributeName: sortKey.name, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: indexList.map((index) => ({
            IndexName: index.indexName,
            KeySchema: [
              { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        }),
      )
      .catch((error: unknown) => {
        // The table persists in the data folder: on a restart it is already there.
        if (!(error instanceof ResourceInUseException)) throw error;
      });
    await dynamo.send(new DescribeTableCommand({ TableName: localResourceNames.table }));
  } finally {
    dynamo.destroy();
  }

  const sqs = makeSqsClient(endpoints.sqsS3);
  const s3 = makeS3Client(endpoints.sqsS3);
  try {
    const parse = await createQueuePair(
      sqs,
      localResourceNames.parseQueue,
      localResourceNames.parseDeadLetterQueue,
      queues.parse,
    );
    const classify = await createQueuePair(
      sqs,
      localResourceNames.classifyQueue,
      localResourceNames.classifyDeadLetterQueue,
      queues.classify,
    );
    await s3.send(new CreateBucketCommand({ Bucket: localResourceNames.bucket }));
    return {
      parse: parse.queueUrl,
      parseDeadLetter: parse.deadLetterQueueUrl,
      classify: classify.queueUrl,
      classifyDeadLetter: classify.deadLetterQueueUrl,
    };
  } finally {
    sqs.destroy();
    s3.destroy();
  }
}

async function createQueuePair(
  sqs: SQSClient,
  name: string,
  dlqName: string,
  definition: QueueDefinition,
): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: dlqName,
      Attributes: { MessageRetentionPeriod: String(definition.deadLetterRetentionPeriodSeconds) },
    }),
  );
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(definition.retentionPeriodSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes?.QueueArn,
          maxReceiveCount: definition.maxReceiveCount,
        }),
      },
    }),
  );
  if (!queue.QueueUrl || !dlq.QueueUrl) throw new Error(`stand-in did not return a URL for queue ${name}`);
  return { queueUrl: queue.QueueUrl, deadLetterQueueUrl: dlq.QueueUrl };
}

async function readRunningStack(stackFile: string): Promise<StackFile | undefined> {
  let file: StackFile;
  try {
    file = StackFileSchema.parse(JSON.parse(await readFile(stackFile, 'utf8')));
  } catch {
    return undefined;
  }
  if (file.pid === process.pid || !isAlive(file.pid)) return undefined;
  const reachable = await Promise.all([isListening(file.dynamodb), isListening(file.sqsS3)]);
  return reachable.every(Boolean) ? file : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isListening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** `x-amz-target` names the operation of DynamoDB's and SQS's JSON protocols; S3 is REST: its method. */
function operationOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return target.replace(/^DynamoDB_\d+\./, '');
  return request.method ?? 'UNKNOWN';
}

function count(counts: Record<string, number>, operation: string): void {
  counts[operation] = (counts[operation] ?? 0) + 1;
}

function portOf(server: Pick<Server, 'address'>): number {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('stand-in is not listening on a TCP port');
  return address.port;
}

/** Files under `archive/` mirror keys; `<file>.meta.json` beside each keeps its content type and metadata. */
async function mirrorArchive(s3: S3Client, archiveDir: string): Promise<number> {
  let written = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: localResourceNames.bucket, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key) continue;
      const file = path.join(archiveDir, ...object.Key.split('/'));
      if (await exists(`${file}.meta.json`)) continue;
      const got = await s3.send(new GetObjectCommand({ Bucket: localResourceNames.bucket, Key: object.Key }));
      const bytes = await got.Body?.transformToByteArray();
      if (!bytes) continue;
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
      await writeFile(
        `${file}.meta.json`,
        JSON.stringify({ contentType: got.ContentType, metadata: got.Metadata ?? {} }, null, 2),
      );
      written++;
    }
    token = page.NextContinuationToken;
  } while (token);
  return written;
}

async function restoreArchive(stack: LocalStack): Promise<void> {
  const archiveDir = path.join(stack.dataDir, 'archive');
  const files = await readdir(archiveDir, { recursive: true }).catch(() => [] as string[]);
  for (const relative of files) {
    if (!relative.endsWith('.meta.json')) continue;
    const dataFile = path.join(archiveDir, relative.slice(0, -'.meta.json'.length));
    const key = path.relative(archiveDir, dataFile).split(path.sep).join('/');
    const sidecar = ArchiveSidecarSchema.parse(
      JSON.parse(await readFile(path.join(archiveDir, relative), 'utf8')),
    );
    const exists = await stack.s3
      .send(new HeadObjectCommand({ Bucket: localResourceNames.bucket, Key: key }))
      .then(() => true)
      .catch(() => false);
    if (exists) continue;
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: localResourceNames.bucket,
        Key: key,
        Body: await readFile(dataFile),
        ContentType: sidecar.contentType,
        Metadata: sidecar.metadata,
      }),
    );
  }
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}
