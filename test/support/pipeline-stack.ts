import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type LocalHandlers, loadHandlers } from '../../local/handlers';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import type { FixtureServer } from './fixture-server';

/** The real handlers on a local stack in a fresh data folder, fetching listings from `upstream`. */
export interface PipelineTestStack {
  stack: LocalStack;
  handlers: LocalHandlers;
  /** The table, read as the query API reads it. */
  store: DynamoPaperStore;
  dataDir: string;
  /** Closes the stack and removes its data folder. */
  close(): Promise<void>;
}

export interface PipelineTestOptions {
  /** Names the temp data folder (`papers-<name>-…`). */
  name: string;
  /** The `limit` of the listing URL the handlers fetch. */
  pageSize: number;
  fetchMaxAttempts?: number;
}

/**
 * Points fetch-listing at `upstream` (no delay between pages), opens a stack in a temp folder
 * and loads the handlers for it. Handlers read their environment once, at import: call this
 * once per test file (vitest runs each file in a process of its own).
 */
export async function openPipelineTestStack(
  upstream: FixtureServer,
  options: PipelineTestOptions,
): Promise<PipelineTestStack> {
  process.env.LISTING_URL_TEMPLATE = `${upstream.origin}/api/daily_papers?date={date}&limit=${options.pageSize}`;
  process.env.FETCH_PAGE_DELAY_MS = '0';
  if (options.fetchMaxAttempts !== undefined)
    process.env.FETCH_MAX_ATTEMPTS = String(options.fetchMaxAttempts);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `papers-${options.name}-`));
  const stack = await openLocalStack({ dataDir });
  const handlers = await loadHandlers(stack);
  const store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
  return {
    stack,
    handlers,
    store,
    dataDir,
    async close() {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
