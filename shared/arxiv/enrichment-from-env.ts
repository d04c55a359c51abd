import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArxivEnv } from '../env/arxiv';
import { type EnrichmentSource, enrichmentOff, liveArxivEnrichment } from './enrich';
import { createTableRequestGate } from './request-gate';

/** What a process tells its operator about arXiv (fetch-listing logs it; the CLI prints it). */
export interface ArxivEvents {
  onPending?: (problem: string, ids: readonly string[]) => void;
  onRetry?: (problem: string, attempt: number, waitMs: number) => void;
}

/**
 * The enrichment a process runs, from its environment: the export API at `ARXIV_API_URL` through
 * the table's request gate (one per process, shared by every run in it), or, with no URL set
 * (a local quick start), none at all: every arXiv paper `pending`.
 */
export function enrichmentFromEnv(
  env: ArxivEnv,
  targets: { client: DynamoDBDocumentClient; tableName: string; s3: S3Client; bucket: string },
  events: ArxivEvents = {},
): EnrichmentSource {
  const baseUrl = env.ARXIV_API_URL;
  if (baseUrl === undefined) return enrichmentOff();
  const gate = createTableRequestGate({
    client: targets.client,
    tableName: targets.tableName,
    upstream: 'arxiv',
    spacingMs: env.ARXIV_REQUEST_SPACING_MS,
    // A holder keeps the gate for one attempt at most; a dead one loses it a little after.
    leaseMs: env.ARXIV_TIMEOUT_MS + 5_000,
  });
  return (ids, listedOn, run) =>
    liveArxivEnrichment({
      baseUrl,
      s3: targets.s3,
      bucket: targets.bucket,
      fetch: {
        userAgent: env.ARXIV_USER_AGENT,
        timeoutMs: env.ARXIV_TIMEOUT_MS,
        maxAttempts: env.ARXIV_MAX_ATTEMPTS,
        limiter: gate,
        deadline: run?.deadline,
        onRetry: events.onRetry,
      },
      onPending: events.onPending,
    })(ids, listedOn);
}
