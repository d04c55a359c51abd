/**
 * The CLI as a process: killed with SIGKILL mid-ingest, it loses nothing the next
 * run cannot finish; stopped with SIGTERM through `npm start`, it leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { queueDepth } from '../../local/queue-depth';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { readListing, startFixtureServer } from '../support/fixture-server';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'papers-lifecycle-'));
  dirs.push(dir);
  return dir;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const depthIn = (stack: Awaited<ReturnType<typeof openLocalStack>>, url: string) =>
  queueDepth(stack.sqs, url);

describe('papers ingest killed with SIGKILL', () => {
  it('keeps the archive, the dead letters and the queued papers; the next run completes each paper once', async () => {
    // Prepare: run 1 leaves a poison paper in the parse DLQ.
    const dataDir = await tempDataDir();
    const env = { ...process.env, PAPERS_DATA_DIR: dataDir };
    const good = await readListing('hf-daily-papers-2026-06-12.json');
    const poisoned = Buffer.from(
      JSON.stringify([
        ...JSON.parse((await readListing('hf-daily-papers-2026-08-03.json')).toString()),
        { paper: { id: 42, title: ['not', 'a', 'title'] }, publishedAt: '2026-08-03T00:00:00.000Z' },
      ]),
    );
    const server = await startFixtureServer((url) => ({ body: url.pathname === '/good' ? good : poisoned }));
    try {
      const first = await runPapersCli(
        ['ingest', '--date', '2026-08-03', '--source', `${server.origin}/poisoned`],
        {
          env,
        },
      );
      expect(first.stderr).toMatch(/in the DLQ 1 \(parse 1/);

      // Act: run 2 is killed as soon as the parse queue's first batch is received.
      const journal = path.join(dataDir, 'queues', 'journal.jsonl');
      const journalBefore = (await readFile(journal, 'utf8')).length;
      const child = spawn(
        'node_modules/.bin/tsx',
        ['local/cli.ts', 'ingest', '--date', '2026-06-12', '--source', `${server.origin}/good`],
        { cwd: PROJECT_ROOT, env, stdio: 'ignore' },
      );
      children.push(child);
      await until(
        async () => {
          const text = await readFile(journal, 'utf8').catch(() => '');
          return text.slice(journalBefore).includes('{"received":"daily-papers-parse"') ? true : undefined;
        },
        60_000,
        'the parse queue to be received from',
      );
      // The node process tsx runs holds the stack (its pid is in the lock): tsx cannot pass a SIGKILL on.
      const owner = Number((await readFile(path.join(dataDir, 'stack.lock'), 'utf8')).trim());
      process.kill(owner, 'SIGKILL');
      await exited(child);

      // Assess: the raw listing was archived before anything was sent.
      const sha = createHash('sha256').update(good).digest('hex');
      const archived = path.join(dataDir, 'archive', 'listings', '2026', '06', '12', `${sha}.json`);
      expect((await stat(archived)).size).toBe(good.length);
      expect((await stat(`${archived}.meta.json`)).isFile()).toBe(true);
      const stack = await openLocalStack({ dataDir });
      try {
        expect(stack.role).toBe('owner');
        expect(await depthIn(stack, stack.queueUrls.parseDeadLetter)).toBe(1);
        const queued =
          (await depthIn(stack, stack.queueUrls.parse)) + (await depthIn(stack, stack.queueUrls.classify));
        expect(queued).toBeGreaterThan(0);
      } finally {
        await stack.close();
      }

      // Act: run 3, the same ingest again.
      const third = await runPapersCli(
        ['ingest', '--date', '2026-06-12', '--source', `${server.origin}/good`],
        { env },
      );

      // Assess: complete, every paper once, the dead letter still there, nothing left queued.
      expect(third.code, third.stderr).toBe(0);
      const after = await openLocalStack({ dataDir });
      try {
        const store = new DynamoPaperStore(
          makeDocumentClient(after.env.AWS_ENDPOINT_URL_DYNAMODB),
          after.env.TABLE_NAME ?? '',
        );
        const listed = await store.papersListedOn('2026-06-12', { limit: 100 });
        const ids = listed.items.map((paper) => paper.id);
        expect(ids).toHaveLength(30);
        expect(new Set(ids).size).toBe(30);
        expect(await depthIn(after, after.queueUrls.parseDeadLetter)).toBe(1);
        expect(await depthIn(after, after.queueUrls.parse)).toBe(0);
        expect(await depthIn(after, after.queueUrls.classify)).toBe(0);
      } finally {
        await after.close();
      }
    } finally {
      await server.close();
    }
  }, 240_000);
});

describe('npm start stopped with SIGTERM', () => {
  it('stops everything it started: the port is free, the data folder reusable', async () => {
    // Prepare
    const dataDir = await tempDataDir();
    const npm = spawn(
      'npm',
      ['start', '--', '--source', 'test/fixtures/listings/hf-daily-papers-2026-08-03.json', '--port', '0'],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PAPERS_DATA_DIR: dataDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(npm);
    let stderr = '';
    npm.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const port = await until(
      async () => {
        const match = /query API on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
        return match ? Number(match[1]) : undefined;
      },
      120_000,
      'npm start to serve',
    );
    const owner: number = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')).pid;
    expect(await isListening(port)).toBe(true);

    // Act: what a script, systemd or CI does.
    npm.kill('SIGTERM');
    await exited(npm);

    // Assess: the process holding the stack is gone with its servers and files.
    await until(
      async () => {
        try {
          process.kill(owner, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      20_000,
      `the stack's owner (pid ${owner}) to exit`,
    );
    expect(await isListening(port)).toBe(false);
    // npm 11 exits on SIGTERM without passing it on: the command saw its launcher go, and says so.
    expect(stderr).toContain('papers start: the process that launched it exited, stopping');
    await expect(stat(path.join(dataDir, 'stack.json'))).rejects.toThrow();
    await expect(stat(path.join(dataDir, 'stack.lock'))).rejects.toThrow();
    const stack = await openLocalStack({ dataDir, waitMs: 5_000 });
    try {
      expect(stack.role).toBe('owner');
      const store = new DynamoPaperStore(
        makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
        stack.env.TABLE_NAME ?? '',
      );
      expect((await store.papersListedOn('2026-08-03', { limit: 10 })).items).toHaveLength(3);
    } finally {
      await stack.close();
    }
  }, 240_000);
});
