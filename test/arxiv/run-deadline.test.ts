/**
 * The run's deadline reaches arXiv: an enrichment asked for near the end of a run (fetch-listing's
 * Lambda time nearly spent) makes no attempt it could not finish, and leaves the papers pending
 * for `papers enrich` or the revisit, instead of running past the function's timeout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { enrichmentFromEnv } from '../../shared/arxiv/enrichment-from-env';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { ArxivEnvSchema } from '../../shared/env/arxiv';
import { type ArxivServer, startArxivServer } from '../support/arxiv-server';

const IDS = ['2606.11111', '2606.22222'];
const TIMEOUT_MS = 2_000;

let stack: LocalStack;
let dataDir: string;
let arxiv: ArxivServer;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-arxiv-deadline-'));
  stack = await openLocalStack({ dataDir });
  arxiv = await startArxivServer();
});

afterAll(async () => {
  await arxiv?.close();
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function enrichment() {
  const env = ArxivEnvSchema.parse({
    ARXIV_API_URL: arxiv.url,
    ARXIV_REQUEST_SPACING_MS: '50',
    ARXIV_TIMEOUT_MS: String(TIMEOUT_MS),
    ARXIV_MAX_ATTEMPTS: '2',
  });
  return enrichmentFromEnv(env, {
    client: makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    tableName: stack.env.TABLE_NAME ?? '',
    s3: stack.s3,
    bucket: stack.env.ARCHIVE_BUCKET ?? '',
  });
}

describe('an enrichment within a run', () => {
  it('asks arXiv nothing when the run ends before an attempt could', async () => {
    // Act
    const before = arxiv.requests.length;
    const answers = await enrichment()(IDS, '2026-06-14', { deadline: Date.now() + TIMEOUT_MS / 2 });

    // Assess
    expect(arxiv.requests.length - before).toBe(0);
    expect(IDS.map((id) => answers.get(id)?.state)).toEqual(['pending', 'pending']);
  });

  it('asks arXiv when the run has time for an attempt', async () => {
    // Act
    const before = arxiv.requests.length;
    const answers = await enrichment()(IDS, '2026-06-14', { deadline: Date.now() + 10 * TIMEOUT_MS });

    // Assess
    expect(arxiv.requests.length - before).toBe(1);
    expect(IDS.map((id) => answers.get(id)?.state)).toEqual(['enriched', 'enriched']);
  });
});
