/**
 * Several `papers` commands started at the same moment on one data folder: one
 * of them starts the local stack, the others share it or wait for it. None may
 * crash, and none may lose its ingest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { runPapersCli } from '../support/papers-cli';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('papers commands run at the same moment on one data folder', () => {
  it('all complete: each ingest is stored, no command crashes', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-concurrent-'));
    dirs.push(dataDir);
    const env = { ...process.env, PAPERS_DATA_DIR: dataDir };
    const sources = [
      'test/fixtures/listings/hf-daily-papers-2026-08-03.json',
      'test/fixtures/listings/hf-daily-papers-2026-06-12.json',
      'test/fixtures/listings/hf-daily-papers-2026-08-03.json',
      'test/fixtures/listings/hf-daily-papers-2026-07-10+13.json',
    ];

    // Act: four ingests and a query, all at once.
    const outcomes = await Promise.all([
      ...sources.map((source) => runPapersCli(['ingest', '--source', source], { env })),
      runPapersCli(['query', '--days'], { env }),
    ]);

    // Assess: every command succeeded, none printed a stack trace.
    for (const outcome of outcomes) {
      expect(outcome.stderr).not.toMatch(/Database is|\n\s+at /);
      expect(outcome.code, outcome.stderr).toBe(0);
    }
    const stack = await openLocalStack({ dataDir });
    try {
      expect(stack.role).toBe('owner');
      const store = new DynamoPaperStore(
        makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
        stack.env.TABLE_NAME ?? '',
      );
      const days = await store.ingestedDays({ limit: 100 });
      const papers = Object.fromEntries(days.items.map((day) => [day.day, day.papers]));
      expect(papers['2026-08-03']).toBe(3);
      expect(papers['2026-06-12']).toBe(30);
      expect(papers['2026-07-13']).toBeGreaterThan(0);
    } finally {
      await stack.close();
    }
  }, 180_000);
});
