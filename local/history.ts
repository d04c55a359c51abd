import { type EnrichPendingReport, enrichPendingDays } from '../shared/arxiv/enrich-pending';
import { enrichmentFromEnv } from '../shared/arxiv/enrichment-from-env';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { classifierVersion } from '../shared/classify';
import { ArxivEnvSchema, loadConfig } from '../shared/config';
import { replayArchivedDay } from '../shared/history/archive-replay';
import { sendForReclassification, staleListings } from '../shared/history/reclassify';
import type { IsoDate } from '../shared/paper';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import type { ConsumerReport } from './event-source';
import type { LocalHandlers } from './handlers';
import { allDays, deadLetterCounts, drainPipeline } from './ingest';
import type { LocalStack } from './stack';

/**
 * Replay and reclassify on the local stack: the domain steps of `shared/history/`, then the
 * parse and classify queues drained through their handlers, as `papers ingest` drains them.
 */

export interface ReplayReport {
  listings: number;
  /** Papers sent to the parse queue again. */
  papers: number;
  /** Days with nothing archived. */
  empty: IsoDate[];
  deadLettered: { parse: number; classify: number };
  consumers: ConsumerReport[];
}

/**
 * Papers a replay sends before it drains the queues: each drain ends by waiting for empty queues,
 * so draining per day would pay that wait per day; this bound keeps the queues small anyway.
 */
const REPLAY_DRAIN_EVERY = 1_000;

/** Replays the archived listings of `days`, oldest day first, draining every ~1,000 papers. */
export async function runReplay(
  stack: LocalStack,
  handlers: LocalHandlers,
  days: readonly IsoDate[],
  options: { retryDelaySeconds?: number } = {},
): Promise<ReplayReport> {
  const targets = {
    s3: stack.s3,
    sqs: stack.sqs,
    bucket: stack.env.ARCHIVE_BUCKET ?? '',
    parseQueueUrl: stack.queueUrls.parse,
  };
  const before = await deadLetterCounts(stack);
  const report: ReplayReport = {
    listings: 0,
    papers: 0,
    empty: [],
    deadLettered: { parse: 0, classify: 0 },
    consumers: [],
  };
  let queued = 0;
  for (const [index, day] of days.entries()) {
    const replayed = await replayArchivedDay(day, targets);
    if (replayed.length === 0) report.empty.push(day);
    const papers = replayed.reduce((sum, listing) => sum + listing.papers, 0);
    report.listings += replayed.length;
    report.papers += papers;
    queued += papers;
    if (queued >= REPLAY_DRAIN_EVERY || index === days.length - 1) {
      report.consumers.push(...(await drainPipeline(stack, handlers, options)));
      queued = 0;
    }
  }
  const after = await deadLetterCounts(stack);
  report.deadLettered = { parse: after.parse - before.parse, classify: after.classify - before.classify };
  return report;
}

export interface ReclassifyReport {
  version: string;
  days: number;
  /** Listings read. */
  examined: number;
  /** Of those, the ones not classified by `version`. */
  stale: number;
  /** Of the stale ones, those now classified by `version`. */
  redone: number;
  consumers: ConsumerReport[];
}

/**
 * Reclassifies the stale listings of `days` (default: every ingested day) and checks, by
 * reading them again, how many now carry the shipped model's version.
 */
export async function runReclassify(
  stack: LocalStack,
  handlers: LocalHandlers,
  days?: readonly IsoDate[],
  options: { retryDelaySeconds?: number } = {},
): Promise<ReclassifyReport> {
  const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
  const tableName = stack.env.TABLE_NAME ?? '';
  const range = days ?? (await allDays(new DynamoPaperStore(client, tableName))).map((day) => day.day).sort();
  const version = classifierVersion();
  const before = await staleListings(range, version, { client, tableName });
  await sendForReclassification(before.stale, { sqs: stack.sqs, classifyQueueUrl: stack.queueUrls.classify });
  const consumers = await drainPipeline(stack, handlers, options);
  const touchedDays = [...new Set(before.stale.map((listing) => listing.origin.listedOn))];
  const key = (listing: { paperId: string; origin: { listedOn: string } }) =>
    `${listing.paperId} ${listing.origin.listedOn}`;
  const stillStale = new Set(
    (await staleListings(touchedDays, version, { client, tableName })).stale.map(key),
  );
  return {
    version,
    days: range.length,
    examined: before.examined,
    stale: before.stale.length,
    redone: before.stale.filter((listing) => !stillStale.has(key(listing))).length,
    consumers,
  };
}

export interface EnrichReport extends EnrichPendingReport {
  days: number;
  /** True when no ARXIV_API_URL is set: nothing was asked. */
  off: boolean;
  /** Records that reached the classify dead-letter queue meanwhile. */
  deadLettered: number;
  consumers: ConsumerReport[];
}

/**
 * Asks arXiv about the pending listings of `days` (default: every ingested day) through the
 * table's request gate, and drains the classify queue so the answers are stored.
 */
export async function runEnrich(
  stack: LocalStack,
  handlers: LocalHandlers,
  days?: readonly IsoDate[],
  options: {
    retryDelaySeconds?: number;
    env?: NodeJS.ProcessEnv;
    onPending?: (problem: string) => void;
  } = {},
): Promise<EnrichReport> {
  const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
  const tableName = stack.env.TABLE_NAME ?? '';
  const bucket = stack.env.ARCHIVE_BUCKET ?? '';
  const range = days ?? (await allDays(new DynamoPaperStore(client, tableName))).map((day) => day.day).sort();
  const env = loadConfig(ArxivEnvSchema, options.env ?? process.env);
  const enrich = enrichmentFromEnv(
    env,
    { client, tableName, s3: stack.s3, bucket },
    { onPending: (problem) => options.onPending?.(problem) },
  );
  const before = await deadLetterCounts(stack);
  const report = await enrichPendingDays(range, {
    client,
    tableName,
    sqs: stack.sqs,
    classifyQueueUrl: stack.queueUrls.classify,
    enrich,
  });
  const consumers = await drainPipeline(stack, handlers, options);
  await stack.persistArchive();
  const after = await deadLetterCounts(stack);
  return {
    ...report,
    days: range.length,
    off: env.ARXIV_API_URL === undefined,
    deadLettered: after.classify - before.classify,
    consumers,
  };
}
