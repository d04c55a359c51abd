import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { localResourceNames } from '../../shared/resources';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { PROJECT_ROOT } from '../support/papers-cli';
import {
  archiveKeys,
  checkInvariants,
  deadLetters,
  expectListing,
  expectNoViolations,
  generateListing,
  type HfItem,
  poisonItem,
  queueDepth,
  sha256,
  startUpstream,
  type Upstream,
} from './harness';

/**
 * The CLI as a user runs it, in a child process on a data folder: killed with
 * SIGKILL mid-ingest (no handler runs, nothing is flushed) and run again.
 */

let upstream: Upstream;
let dataDir: string;

beforeAll(async () => {
  upstream = await startUpstream();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-faults-cli-'));
});

afterAll(async () => {
  await upstream?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `papers <args>` in one node process (tsx as a loader, so a signal reaches the CLI itself). */
function papers(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/cli.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PAPERS_DATA_DIR: dataDir,
      PAPERS_LOG_LEVEL: 'SILENT',
      LISTING_URL_TEMPLATE: upstream.urlTemplate,
      FETCH_PAGE_DELAY_MS: '0',
      FETCH_TIMEOUT_MS: '5000',
      FETCH_MAX_ATTEMPTS: '2',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, done };
}

/** The running CLI's table, once it has written `stack.json`. */
async function tableOf(timeoutMs: number): Promise<DynamoPaperStore> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const file = JSON.parse(await readFile(path.join(dataDir, 'stack.json'), 'utf8')) as {
        dynamodb: string;
      };
      return new DynamoPaperStore(makeDocumentClient(file.dynamodb), localResourceNames.table);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('the CLI never started its stack');
}

/** Opens the data folder's stack in this process, runs `check`, closes it. */
async function withStack<T>(
  check: (stack: Awaited<ReturnType<typeof openLocalStack>>) => Promise<T>,
): Promise<T> {
  const stack = await openLocalStack({ dataDir });
  try {
    return await check(stack);
  } finally {
    await stack.close();
  }
}

const killedDay = '2026-01-12';
const killedListing = generateListing(killedDay, 250);
let storedAtKill = 0;

describe('a killed CLI', () => {
  beforeAll(async () => {
    // An ingest of 250 papers, killed once some of them are stored.
    upstream.script(killedDay, [{ listing: killedListing }]);
    const { child, done } = papers(['ingest', '--date', killedDay]);
    const store = await tableOf(60_000);
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      storedAtKill = (await store.papersListedOn(killedDay, { limit: 100 }).catch(() => ({ items: [] })))
        .items.length;
      if (storedAtKill >= 20) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    await done;
  }, 150_000);

  it('#4 a process killed mid-ingest keeps the archive, its in-flight messages and its dead letters', async () => {
    expect(storedAtKill, 'the kill came mid-ingest').toBeGreaterThanOrEqual(20);
    expect(storedAtKill).toBeLessThan(250);
    const { archived, waiting, stored } = await withStack(async (stack) => {
      const keys = await archiveKeys(stack);
      const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
      const store = new DynamoPaperStore(client, localResourceNames.table);
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await store.papersListedOn(killedDay, { limit: 100, cursor });
        count += page.items.length;
        cursor = page.cursor;
      } while (cursor);
      client.destroy();
      return {
        archived: [...upstream.served(killedDay).keys()].filter((digest) =>
          keys.some((key) => key.includes(digest)),
        ),
        // A paper is still queued in either queue: parsed but not yet stored, it waits for classify-paper.
        waiting:
          (await queueDepth(stack.sqs, stack.queueUrls.parse)) +
          (await queueDepth(stack.sqs, stack.queueUrls.classify)),
        stored: count,
      };
    });
    expect(archived, 'the archive kept every page fetched before the kill').toHaveLength(
      upstream.served(killedDay).size,
    );
    expect(stored + waiting, 'every paper is stored or still queued').toBeGreaterThanOrEqual(250);

    // Dead letters survive a restart too.
    const poisonDay = '2026-01-13';
    const poisoned = [...generateListing(poisonDay, 4), poisonItem(poisonDay, '2601.13999')];
    upstream.script(poisonDay, [{ listing: poisoned }]);
    const { code } = await papers(['ingest', '--date', poisonDay]).done;
    expect(code, 'the ingest reports the dead letter').toBe(1);
    const letters = await withStack((stack) => deadLetters(stack));
    expect(letters.filter((letter) => letter.paperId === '2601.13999').map((letter) => letter.queue)).toEqual(
      ['parse'],
    );
  }, 120_000);

  it('a process killed with SIGKILL mid-ingest and run again stores every paper once', async () => {
    const { code, stderr } = await papers(['ingest', '--date', killedDay]).done;
    expect(code, stderr).toBe(0);

    const problems = await withStack(async (stack) => {
      const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
      try {
        return await checkInvariants(stack, client, {
          papers: expectListing(killedDay, killedListing),
          rawBodies: upstream.served(killedDay).values(),
        });
      } finally {
        client.destroy();
      }
    });
    expectNoViolations(problems);
  }, 120_000);

  it('#6 replaying an older saved listing (--fetched-at) never rolls upvotes back', async () => {
    const day = '2026-01-14';
    const newer = generateListing(day, 5, { upvotes: (index) => 40 + index });
    const older: HfItem[] = generateListing(day, 5, { upvotes: (index) => 2 + index });
    upstream.script(day, [{ listing: newer }]);
    const live = await papers(['ingest', '--date', day]).done;
    expect(live.code, live.stderr).toBe(0);
    const file = path.join(dataDir, `saved-${day}.json`);
    await writeFile(file, JSON.stringify(older));

    // A capture made before the live fetch, replayed after it.
    const replay = await papers(['ingest', '--source', file, '--fetched-at', `${day}T06:00:00Z`]).done;
    expect(replay.code, replay.stderr).toBe(0);

    const problems = await withStack(async (stack) => {
      const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
      try {
        return await checkInvariants(stack, client, {
          papers: expectListing(day, newer),
          rawBodies: [...upstream.served(day).values(), Buffer.from(JSON.stringify(older))],
        });
      } finally {
        client.destroy();
      }
    });
    expectNoViolations(problems);
    expect(sha256(JSON.stringify(older))).not.toBe(sha256(JSON.stringify(newer)));
  }, 120_000);
});
