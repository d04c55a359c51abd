import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { localOptions } from '../shared/aws/local-options';
import { makeS3Client } from '../shared/aws/s3';
import { makeSqsClient } from '../shared/aws/sqs';
import { resolveUserPath } from '../shared/command-line';
import { fetchInvocation, localResourceNames, type QueueDefinition, queues } from '../shared/resources';
import { localCursorKey } from './cursor-key';
import { startDurableFauxqs } from './durable-fauxqs';
import { startDynaliteThread } from './dynalite-thread';
import { startDynamoFront, WRITES_ANSWERED_PATH } from './dynamo-transactions';
import { openPapersTable } from './papers-table';
import { isAlive, onShutdown, stopRequested } from './shutdown';
import { lockHolder, registerClient, StackBusyError, tryLock, waitForClients } from './stack-lock';

/**
 * The local stack: DynamoDB (dynalite, persisted with LevelDB under the data
 * folder, on a thread of its own: `local/dynalite-thread.ts`) and SQS + S3 (fauxqs, made durable by `local/durable-fauxqs.ts`: the
 * queues journaled, the archive bucket written through to disk) on 127.0.0.1,
 * holding the same table, queues, dead-letter queues and bucket the CDK stack
 * defines — both built from `shared/resources.ts`.
 *
 * One process owns the stack for a data folder: it holds `<dataDir>/stack.lock`
 * (see `local/stack-lock.ts`) and records its endpoints in `<dataDir>/stack.json`.
 * Any other process (the CLI in a second terminal, or several commands started
 * at once) waits for that file and connects as a client. The owner, when it is
 * done, waits for its clients to finish before it stops (bounded); a client
 * whose owner stopped anyway gets a {@link LocalStackStoppedError}.
 *
 * A signal (SIGINT, SIGTERM, SIGHUP) closes every stack the process holds
 * (see `local/shutdown.ts`), so no server is left holding the data folder.
 */

export interface LocalStack {
  /** Environment for the handlers: resource names, queue URLs, stand-in endpoints. */
  env: Record<string, string>;
  dataDir: string;
  /** `owner` started the stand-ins; `client` connected to another process's. */
  role: 'owner' | 'client';
  /** The pid of the process that owns the stand-ins. */
  ownerPid: number;
  queueUrls: StackFile['queueUrls'];
  sqs: SQSClient;
  s3: S3Client;
  /**
   * Copies archive objects not yet on disk into `<dataDir>/archive/`. The owner writes
   * every PutObject through as it happens; this catches what bypasses PutObject (multipart).
   */
  persistArchive(): Promise<number>;
  /**
   * Every request the stand-ins served, by service and operation (`dynamodb` →
   * `Query` → 12): each is one AWS SDK call (or an SDK retry). Counted by the owner
   * only; a client sees an empty count.
   */
  requestCounts(): RequestCounts;
  /**
   * A token that changes whenever the table may have changed: the owner's start and the
   * writes its DynamoDB front has answered (`DynamoFront.writesAnswered`). An answer computed
   * from the table while the token was t is still the table's answer while the token is t.
   * The owner reads it in-process; a client asks the owner's front over loopback.
   */
  tableVersion(): Promise<string>;
  /**
   * For the owner: milliseconds the local DynamoDB's own thread (`local/dynalite-thread.ts`) has
   * been busy since the stack started; undefined for a client, whose stand-ins run elsewhere.
   */
  dynamoThreadBusyMs(): number | undefined;
  /** For a client: true once the owner has stopped (or is stopping). Always false for the owner. */
  ownerStopped(): Promise<boolean>;
  /**
   * A client that runs until stopped (`papers serve`) calls this so the owner does not
   * wait for it before stopping; it then watches {@link ownerStopped} itself.
   */
  stopHoldingOwner(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalStackOptions {
  /** Default: `PAPERS_DATA_DIR`, else `.papers-data` in the working directory. */
  dataDir?: string;
  /** How long to wait for another process that holds the data folder to start its stack. Default 120 s. */
  waitMs?: number;
}

export type RequestCounts = Record<'dynamodb' | 'sqs' | 's3', Record<string, number>>;

/** This process was using another process's stack, and that process stopped. */
export class LocalStackStoppedError extends Error {
  override name = 'LocalStackStoppedError';
}

const StackFileSchema = z.object({
  pid: z.number().int(),
  dynamodb: z.url(),
  sqsS3: z.url(),
  queueUrls: z.object({
    parse: z.url(),
    parseDeadLetter: z.url(),
    classify: z.url(),
    classifyDeadLetter: z.url(),
    fetchDeadLetter: z.url(),
  }),
  startedAt: z.string(),
});
type StackFile = z.infer<typeof StackFileSchema>;

/** How long an owner that finished its own work waits for its clients to finish theirs. */
const CLIENT_WAIT_MS = 10 * 60_000;
/** The same, when the owner was told to stop by a signal. */
const CLIENT_WAIT_ON_SIGNAL_MS = 3_000;

/**
 * `PAPERS_DATA_DIR` (a relative one from the folder the user ran the command in), else
 * `.papers-data` in the project root, wherever the command was run from.
 */
export function defaultDataDir(): string {
  return process.env.PAPERS_DATA_DIR
    ? resolveUserPath(process.env.PAPERS_DATA_DIR)
    : fileURLToPath(new URL('../.papers-data', import.meta.url));
}

/** Where `npm start`'s offline fallback keeps the sample listing: a folder of its own in `dataDir`. */
export function sampleDataDir(dataDir: string = defaultDataDir()): string {
  return path.join(dataDir, 'sample');
}

/**
 * Starts the stand-ins for `dataDir`, or connects to the ones another live process
 * holds, waiting (up to `waitMs`) for one that is still starting them.
 * @throws StackBusyError when another live process holds the data folder and has not
 *   started its stack within `waitMs`.
 */
export async function openLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir());
  const waitMs = options.waitMs ?? 120_000;
  await mkdir(dataDir, { recursive: true });
  const stackFile = path.join(dataDir, 'stack.json');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const running = await readRunningStack(stackFile);
    if (running) {
      const unregister = await registerClient(dataDir);
      // Registered before looking again: an owner that removed stack.json before
      // seeing this record is stopping, so wait for the next one instead.
      const still = await readRunningStack(stackFile);
      if (still?.startedAt === running.startedAt && still.pid === running.pid) {
        return connectAsClient(dataDir, running, unregister);
      }
      await unregister();
    } else {
      const lock = await tryLock(dataDir);
      if (lock) {
        try {
          return await startOwnStack(dataDir, stackFile, lock.release);
        } catch (error) {
          await lock.release();
          throw error;
        }
      }
    }
    if (Date.now() > deadline) {
      const holder = await lockHolder(dataDir);
      throw new StackBusyError(
        `the data folder ${dataDir} is held by another papers process (pid ${holder ?? 'unknown'}), ` +
          `which has not started its local stack within ${Math.round(waitMs / 1000)} s. Wait for it to ` +
          'finish, or stop it.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startOwnStack(
  dataDir: string,
  stackFile: string,
  releaseLock: () => Promise<void>,
): Promise<LocalStack> {
  // A stack.json left by a process that died without cleaning up: it describes nothing.
  await rm(stackFile, { force: true });
  const dynamo = await startDynaliteThread(path.join(dataDir, 'dynamodb'));
  const fauxqs = await startDurableFauxqs({ dataDir, archiveBucket: localResourceNames.bucket });
  await fauxqs.app.listen({ port: 0, host: '127.0.0.1' });
  // dynalite has no TransactWriteItems: the handlers reach it through a front that adds it.
  const front = await startDynamoFront(dynamo.url);
  const counts: RequestCounts = { dynamodb: {}, sqs: {}, s3: {} };
  // Counted at the front: the requests the handlers make, not the ones a transaction makes of dynalite.
  front.server.on('request', (request: IncomingMessage) => {
    if (request.url !== WRITES_ANSWERED_PATH) count(counts.dynamodb, operationOf(request));
  });
  fauxqs.app.server.on('request', (request: IncomingMessage) => {
    const operation = operationOf(request);
    if (operation.startsWith('AmazonSQS.')) count(counts.sqs, operation.slice('AmazonSQS.'.length));
    else count(counts.s3, operation);
  });
  const endpoints = {
    dynamodb: `http://127.0.0.1:${portOf(front.server)}`,
    sqsS3: `http://127.0.0.1:${portOf(fauxqs.app.server)}`,
  };
  const file: StackFile = {
    pid: process.pid,
    ...endpoints,
    queueUrls: await createResources(endpoints, dataDir),
    startedAt: new Date().toISOString(),
  };
  await fauxqs.restore();
  let closing: Promise<void> | undefined;
  const closeServers = () => {
    closing ??= (async () => {
      unregisterShutdown();
      // New commands stop connecting; the ones connected may finish.
      await rm(stackFile, { force: true });
      await waitForClients(dataDir, stopRequested() ? CLIENT_WAIT_ON_SIGNAL_MS : CLIENT_WAIT_MS);
      await stack.persistArchive().catch(() => 0);
      await fauxqs.app.close();
      fauxqs.close();
      await front.close();
      await dynamo.close();
      await releaseLock();
    })();
    return closing;
  };
  const stack = connectTo(dataDir, file, 'owner', () => structuredClone(counts), closeServers, {
    tableVersion: async () => `${file.startedAt}#${front.writesAnswered()}`,
    dynamoThreadBusyMs: () => dynamo.busyMs(),
  });
  const unregisterShutdown = onShutdown(() => stack.close());
  await writeFile(stackFile, `${JSON.stringify(file, null, 2)}\n`);
  return stack;
}

function connectAsClient(dataDir: string, file: StackFile, unregister: () => Promise<void>): LocalStack {
  let registered = true;
  const stopHoldingOwner = async () => {
    if (!registered) return;
    registered = false;
    await unregister();
  };
  const stack = connectTo(
    dataDir,
    file,
    'client',
    () => ({ dynamodb: {}, sqs: {}, s3: {} }),
    stopHoldingOwner,
    {
      tableVersion: () => ownerTableVersion(file),
      // Stopped once its servers are gone: an owner that removed stack.json is still serving
      // the clients it waits for.
      ownerStopped: async () => {
        if (!isAlive(file.pid)) return true;
        const reachable = await Promise.all([isListening(file.dynamodb), isListening(file.sqsS3)]);
        return !reachable.every(Boolean);
      },
    },
  );
  stack.stopHoldingOwner = stopHoldingOwner;
  const unregisterShutdown = onShutdown(() => stack.close());
  const close = stack.close;
  stack.close = async () => {
    unregisterShutdown();
    await close();
  };
  return stack;
}

function connectTo(
  dataDir: string,
  file: StackFile,
  role: LocalStack['role'],
  requestCounts: () => RequestCounts,
  closeServers: () => Promise<void>,
  {
    tableVersion,
    ownerStopped = async () => false,
    dynamoThreadBusyMs = () => undefined,
  }: Pick<LocalStack, 'tableVersion'> & Partial<Pick<LocalStack, 'ownerStopped' | 'dynamoThreadBusyMs'>>,
): LocalStack {
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
      PARSE_DEAD_LETTER_QUEUE_URL: queueUrls.parseDeadLetter,
      CLASSIFY_DEAD_LETTER_QUEUE_URL: queueUrls.classifyDeadLetter,
      AWS_ENDPOINT_URL_DYNAMODB: file.dynamodb,
      AWS_ENDPOINT_URL_SQS: file.sqsS3,
      AWS_ENDPOINT_URL_S3: file.sqsS3,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      QUERY_CURSOR_KEY: localCursorKey(dataDir),
    },
    dataDir,
    role,
    ownerPid: file.pid,
    queueUrls,
    sqs,
    s3,
    persistArchive: () => mirrorArchive(s3, archiveDir),
    requestCounts,
    tableVersion,
    dynamoThreadBusyMs,
    ownerStopped,
    stopHoldingOwner: async () => {},
    async close() {
      await closeServers();
      sqs.destroy();
      s3.destroy();
    },
  };
}

/**
 * Runs `use` with the data folder's local stack and closes it after. When this process
 * was a client and the owner stopped meanwhile, the failure is reported as what it is.
 * @throws LocalStackStoppedError when the owner stopped while `use` was running.
 */
export async function withLocalStack<T>(
  use: (stack: LocalStack) => Promise<T>,
  options: LocalStackOptions = {},
): Promise<T> {
  const stack = await openLocalStack(options);
  try {
    return await use(stack);
  } catch (error) {
    if (await stack.ownerStopped()) throw stoppedError(stack, error);
    throw error;
  } finally {
    await stack.close();
  }
}

/**
 * For a client that runs until stopped: resolves when the owner of its stack stops.
 * Never resolves for the owner. `cancel` ends the watch.
 */
export function watchOwner(stack: LocalStack, intervalMs = 1000): { stopped: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<void>((resolve) => {
    if (stack.role === 'owner') return;
    timer = setInterval(async () => {
      if (await stack.ownerStopped()) {
        clearInterval(timer);
        resolve();
      }
    }, intervalMs);
  });
  return { stopped, cancel: () => clearInterval(timer) };
}

/** The error a client gets when the stack it used went away under it. */
export function stoppedError(stack: Pick<LocalStack, 'ownerPid' | 'dataDir'>, cause?: unknown) {
  return new LocalStackStoppedError(
    `the local stack this command was using (started by pid ${stack.ownerPid}) stopped before the ` +
      `command finished. What it had stored and queued is kept in ${stack.dataDir}; run the command again.`,
    { cause },
  );
}

/** Creates (or finds, after a restart) the table, the queues and the bucket; returns the queue URLs. */
async function createResources(
  endpoints: { dynamodb: string; sqsS3: string },
  dataDir: string,
): Promise<StackFile['queueUrls']> {
  const dynamo = new DynamoDBClient(localOptions(endpoints.dynamodb));
  try {
    await openPapersTable(dynamo, localResourceNames.table, path.join(dataDir, 'table-rebuild.json'));
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
    const fetchDeadLetter = await sqs.send(
      new CreateQueueCommand({
        QueueName: localResourceNames.fetchDeadLetterQueue,
        Attributes: { MessageRetentionPeriod: String(fetchInvocation.deadLetterRetentionPeriodSeconds) },
      }),
    );
    if (!fetchDeadLetter.QueueUrl) throw new Error('stand-in did not return a URL for the fetch DLQ');
    await s3.send(new CreateBucketCommand({ Bucket: localResourceNames.bucket }));
    return {
      fetchDeadLetter: fetchDeadLetter.QueueUrl,
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

async function readStackFile(stackFile: string): Promise<StackFile | undefined> {
  try {
    return StackFileSchema.parse(JSON.parse(await readFile(stackFile, 'utf8')));
  } catch {
    return undefined;
  }
}

/** The stack another live process (or another part of this one) holds, if its servers answer. */
async function readRunningStack(stackFile: string): Promise<StackFile | undefined> {
  const file = await readStackFile(stackFile);
  if (!file || !isAlive(file.pid)) return undefined;
  const reachable = await Promise.all([isListening(file.dynamodb), isListening(file.sqsS3)]);
  return reachable.every(Boolean) ? file : undefined;
}

const WritesAnsweredSchema = z.object({ writes: z.number().int().nonnegative() });

/** The owner's {@link LocalStack.tableVersion}, from its front. @throws when the owner does not answer. */
async function ownerTableVersion(file: StackFile): Promise<string> {
  const response = await fetch(new URL(WRITES_ANSWERED_PATH, file.dynamodb), {
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`the local stack's DynamoDB front answered ${response.status}`);
  const { writes } = WritesAnsweredSchema.parse(await response.json());
  return `${file.startedAt}#${writes}`;
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

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}
