import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalStack } from '../../local/stack';
import { StackBusyError } from '../../local/stack-lock';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { type IndexDefinition, papersTable, queues } from '../../shared/resources';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';

const dirs: string[] = [];

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'papers-local-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('openLocalStack', () => {
  it('creates the table, queues and dead-letter queues that shared/resources.ts defines', async () => {
    const stack = await openLocalStack({ dataDir: await tempDataDir() });
    try {
      const table = await makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB).send(
        new DescribeTableCommand({ TableName: stack.env.TABLE_NAME }),
      );
      const keys = (schema: { AttributeName?: string; KeyType?: string }[] = []) =>
        schema.map((key) => `${key.KeyType}:${key.AttributeName}`);
      expect(keys(table.Table?.KeySchema)).toEqual([
        `HASH:${papersTable.partitionKey.name}`,
        `RANGE:${papersTable.sortKey.name}`,
      ]);
      const indexes = Object.fromEntries(
        (table.Table?.GlobalSecondaryIndexes ?? []).map((index) => [
          index.IndexName,
          { keys: keys(index.KeySchema), projection: index.Projection },
        ]),
      );
      const definitions: readonly IndexDefinition[] = Object.values(papersTable.indexes);
      expect(indexes).toEqual(
        Object.fromEntries(
          definitions.map((index) => [
            index.indexName,
            {
              keys: [`HASH:${index.partitionKey.name}`, `RANGE:${index.sortKey.name}`],
              projection: index.includes
                ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.includes] }
                : { ProjectionType: 'ALL' },
            },
          ]),
        ),
      );
      const types = Object.fromEntries(
        (table.Table?.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]),
      );
      expect(types.upvotes).toBe(papersTable.indexes.byDay.sortKey.type);

      for (const [url, definition] of [
        [stack.queueUrls.parse, queues.parse],
        [stack.queueUrls.classify, queues.classify],
      ] as const) {
        const { Attributes = {} } = await stack.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
        );
        expect(Number(Attributes.VisibilityTimeout)).toBe(definition.visibilityTimeoutSeconds);
        expect(Number(Attributes.MessageRetentionPeriod)).toBe(definition.retentionPeriodSeconds);
        expect(JSON.parse(Attributes.RedrivePolicy ?? '{}').maxReceiveCount).toBe(definition.maxReceiveCount);
      }
    } finally {
      await stack.close();
    }
  });

  it('keeps the table and the archive across a restart', async () => {
    // Prepare: a first run writes a day and an archived listing.
    const dataDir = await tempDataDir();
    const first = await openLocalStack({ dataDir });
    const store = (stack: typeof first) =>
      new DynamoPaperStore(
        makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
        stack.env.TABLE_NAME ?? '',
      );
    await store(first).recordListedDays(new Map([['2026-06-12', ['2606.00001']]]));
    await first.s3.send(
      new PutObjectCommand({
        Bucket: first.env.ARCHIVE_BUCKET,
        Key: 'listings/2026/06/12/abc.json',
        Body: '[]',
        ContentType: 'application/json',
        Metadata: { 'listed-on': '2026-06-12' },
      }),
    );
    await first.close();

    // Act
    const second = await openLocalStack({ dataDir });
    try {
      // Assess
      const days = await store(second).ingestedDays({ limit: 10 });
      expect(days.items.map((day) => [day.day, day.papers])).toEqual([['2026-06-12', 1]]);
      const object = await second.s3.send(
        new GetObjectCommand({ Bucket: second.env.ARCHIVE_BUCKET, Key: 'listings/2026/06/12/abc.json' }),
      );
      expect(await object.Body?.transformToString()).toBe('[]');
      expect(object.Metadata).toEqual({ 'listed-on': '2026-06-12' });
    } finally {
      await second.close();
    }
  });

  it('lets a second process use the stack this one holds instead of failing on the lock', async () => {
    // Prepare: this process owns the stack for the data folder.
    const dataDir = await tempDataDir();
    const owner = await openLocalStack({ dataDir });
    try {
      expect(JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')).pid).toBe(process.pid);

      // Act: the CLI in another process ingests a saved listing into it.
      const child = await runPapersCli(
        ['ingest', '--source', 'test/fixtures/listings/hf-daily-papers-2026-08-03.json'],
        { env: { ...process.env, PAPERS_DATA_DIR: dataDir } },
      );
      expect(child.code).toBe(0);

      // Assess: the papers are in the owner's table.
      expect(child.stderr).toMatch(/listed 3, new 3/);
      const store = new DynamoPaperStore(
        makeDocumentClient(owner.env.AWS_ENDPOINT_URL_DYNAMODB),
        owner.env.TABLE_NAME ?? '',
      );
      const listed = await store.papersListedOn('2026-08-03', { limit: 10 });
      expect(listed.items).toHaveLength(3);

      // A --date the saved file contradicts is a usage mistake: exit 2 with the usage, nothing stored.
      const refused = await runPapersCli(
        [
          'ingest',
          '--date',
          '2026-08-04',
          '--source',
          'test/fixtures/listings/hf-daily-papers-2026-08-03.json',
        ],
        { env: { ...process.env, PAPERS_DATA_DIR: dataDir } },
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/is the listing of 2026-08-03, not of --date 2026-08-04/);
      expect(refused.stderr).toMatch(/usage: npm run -s papers -- ingest/);
      const days = await store.ingestedDays({ limit: 100 });
      expect(days.items.map((day) => day.day)).not.toContain('2026-08-04');
    } finally {
      await owner.close();
    }
  });

  it('breaks the lock of a process that died holding it (SIGKILL) and starts the stack', async () => {
    // Prepare: a lock and a stack.json naming a pid that has exited.
    const dataDir = await tempDataDir();
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    await writeFile(path.join(dataDir, 'stack.lock'), `${dead}\n`);
    await writeFile(
      path.join(dataDir, 'stack.json'),
      JSON.stringify({ pid: Number(dead), dynamodb: 'http://127.0.0.1:9', sqsS3: 'http://127.0.0.1:9' }),
    );

    // Act
    const stack = await openLocalStack({ dataDir, waitMs: 5_000 });
    try {
      // Assess
      expect(stack.role).toBe('owner');
      expect((await readFile(path.join(dataDir, 'stack.lock'), 'utf8')).trim()).toBe(String(process.pid));
    } finally {
      await stack.close();
    }
    await expect(readFile(path.join(dataDir, 'stack.lock'))).rejects.toThrow();
  });

  it('waits a bounded time for a live process that holds the lock, then says who holds it', async () => {
    // Prepare: a live process (not a papers one) named in the lock.
    const dataDir = await tempDataDir();
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(path.join(dataDir, 'stack.lock'), `${holder.pid}\n`);

      // Act
      const started = Date.now();
      const opening = openLocalStack({ dataDir, waitMs: 800 });

      // Assess
      await expect(opening).rejects.toThrow(StackBusyError);
      await expect(opening).rejects.toThrow(`held by another papers process (pid ${holder.pid})`);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('tells a client whose owner stopped what happened, instead of a stack trace', async () => {
    // Prepare: this process owns the stack; `papers serve` in another process uses it.
    const dataDir = await tempDataDir();
    const owner = await openLocalStack({ dataDir });
    const serve = spawn('node_modules/.bin/tsx', ['local/cli.ts', 'serve', '--port', '0'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PAPERS_DATA_DIR: dataDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    serve.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!stderr.includes('query API on') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stderr).toContain('query API on');

      // Act: the owner stops (it does not wait for a server that would never finish).
      const closing = Date.now();
      await owner.close();
      const code = await exited;

      // Assess
      expect(Date.now() - closing).toBeLessThan(20_000);
      expect(code).toBe(1);
      expect(stderr).toContain(
        `the local stack this command was using (started by pid ${process.pid}) stopped`,
      );
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      serve.kill('SIGKILL');
      await owner.close();
    }
  });
});
