/**
 * One definition of the pipeline's stateful resources and the settings that
 * carry correctness (keys, indexes, redrive, visibility, batch sizes). The CDK
 * stack builds AWS resources from it and the local runner creates the same
 * table, queues and bucket on the stand-ins from it, so the two cannot drift.
 *
 * Plain data only: no CDK or SDK imports, so Lambda bundles stay small.
 */

export type KeyType = 'S' | 'N';

export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  /**
   * The non-key attributes the index keeps besides the table's and its own keys (DynamoDB's
   * `INCLUDE` projection; top-level names only); every attribute (`ALL`) when absent.
   */
  includes?: readonly string[];
}

/**
 * The papers table. Single-table design; see `shared/store/keys.ts` for the items.
 * - base table: `pk`/`sk` — a paper's listings and category entries under `PAPER#<id>`, ingested days under `DAYS`.
 * - `byDay`: papers listed on a day, ordered by upvotes (a live ranking: it changes while a client pages).
 * - `byDayId`: papers listed on a day, ordered by paper id (its sort key is the table's `pk`, `PAPER#<id>`,
 *   which never changes: paging it is stable while upvotes change).
 * - `byCategory`: papers in a category, ordered by listing day (date-range queries).
 * - `byDayRanking`: `byDayId`'s keys, holding only what ranking a range and counting its categories
 *   read of a listing (its day, figures and classification, about a fifth of the item): reading a
 *   week of listings to rank them reads that fifth, on DynamoDB (read units follow the index item's
 *   size) as on dynalite (it stores each index's items apart).
 */
export const papersTable = {
  logicalName: 'Papers',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: {
    byDay: {
      indexName: 'byDay',
      partitionKey: { name: 'dayPk', type: 'S' },
      sortKey: { name: 'upvotes', type: 'N' },
    },
    byDayId: {
      indexName: 'byDayId',
      partitionKey: { name: 'dayPk', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
    },
    byCategory: {
      indexName: 'byCategory',
      partitionKey: { name: 'categoryPk', type: 'S' },
      sortKey: { name: 'categorySk', type: 'S' },
    },
    byDayRanking: {
      indexName: 'byDayRanking',
      partitionKey: { name: 'dayPk', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
      includes: ['listedOn', 'upvotes', 'upvotesFetchedAt', 'classification'],
    },
  },
} as const satisfies {
  logicalName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  indexes: Record<string, IndexDefinition>;
};

export interface QueueDefinition {
  logicalName: string;
  /** Lambda's timeout for the consumer; the visibility timeout is six times it, as AWS advises. */
  consumerTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  retentionPeriodSeconds: number;
  /** Longer than the queue's, so a message never expires in the DLQ before its source would have. */
  deadLetterRetentionPeriodSeconds: number;
  /** Records per invocation (the event source mapping's BatchSize). */
  batchSize: number;
  maxBatchingWindowSeconds: number;
  /** Concurrent invocations the event source mapping may run (at least 2 on AWS). */
  maxConcurrency: number;
}

const DAY_SECONDS = 24 * 60 * 60;

function consumerQueue(logicalName: string, consumerTimeoutSeconds: number): QueueDefinition {
  return {
    logicalName,
    consumerTimeoutSeconds,
    visibilityTimeoutSeconds: consumerTimeoutSeconds * 6,
    maxReceiveCount: 3,
    retentionPeriodSeconds: 4 * DAY_SECONDS,
    deadLetterRetentionPeriodSeconds: 14 * DAY_SECONDS,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxConcurrency: 5,
  };
}

export const queues = {
  parse: consumerQueue('ParseQueue', 30),
  classify: consumerQueue('ClassifyQueue', 30),
} as const satisfies Record<string, QueueDefinition>;

/**
 * fetch-listing's own failures. The schedule invokes it asynchronously, so a run that
 * throws is retried by Lambda (`retryAttempts`, within `maxEventAgeSeconds`) and then
 * sent, as Lambda's on-failure destination record, to the fetch dead-letter queue. The
 * local runner emulates the same retries and writes the same record to its own queue.
 */
export const fetchInvocation = {
  deadLetterLogicalName: 'FetchDeadLetter',
  retryAttempts: 2,
  maxEventAgeSeconds: 6 * 60 * 60,
  deadLetterRetentionPeriodSeconds: 14 * DAY_SECONDS,
} as const;

export const archiveBucket = {
  logicalName: 'ListingArchive',
  /** Raw listings live under this prefix; see `shared/archive.ts` for the key layout. */
  listingsPrefix: 'listings/',
  /**
   * Bytes that did not parse as any listing (an HTML error page, an empty body, a junk
   * file): kept, never thrown away, but apart from the real listings and expired after
   * `quarantineExpiryDays`.
   */
  quarantinePrefix: 'quarantine/',
  quarantineExpiryDays: 90,
  /**
   * The arXiv export API's raw answers (Atom), content-addressed and date-partitioned like the
   * listings (`arxiv/<yyyy>/<mm>/<dd>/<sha256>.xml`, the listing day): a replay reads them back.
   */
  arxivPrefix: 'arxiv/',
} as const;

/** Names the local runner gives the resources (on AWS, CloudFormation names them). */
export const localResourceNames = {
  table: 'daily-papers',
  bucket: 'daily-papers-archive',
  parseQueue: 'daily-papers-parse',
  parseDeadLetterQueue: 'daily-papers-parse-dlq',
  classifyQueue: 'daily-papers-classify',
  classifyDeadLetterQueue: 'daily-papers-classify-dlq',
  fetchDeadLetterQueue: 'daily-papers-fetch-dlq',
} as const;

/**
 * The backfill state machine's pace (`infra/backfill-state-machine.ts`). A day costs one or two
 * requests to HF (a page holds 100 papers; no day has had 150). With `maxConcurrency` days at once
 * and a wait after each, the run makes at most 2 × 2 requests per 6 s, about 200 per 5 minutes:
 * well under HF's ~500, with room for fetch-listing's own retries. A failed run of a day is tried
 * `retryAttempts` more times, after 1 then 2 minutes (jittered), as Lambda retries the schedule's.
 */
export const backfillRun = {
  maxConcurrency: 2,
  waitBetweenDaysSeconds: 6,
  retryAttempts: 2,
  retryIntervalSeconds: 60,
} as const;
