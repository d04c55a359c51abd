import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadQueryHandler } from '../../local/handlers';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { openLocalStack, type RequestCounts } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { classifyPaper } from '../../shared/classify';
import type { IsoDate, Paper } from '../../shared/paper';
import { papersTable } from '../../shared/resources';
import { queryTerms } from '../../shared/search/terms';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { dayPk, postingRange, TERM_BUCKETS, termBucket, termBucketPk } from '../../shared/store/keys';
import { type BenchSuite, type Metric, median } from '../harness';
import { benchPapers } from '../seed-papers';

/**
 * Keyword search's costs, on the stand-ins.
 *
 * `search.indexRequestsPerPaper`: the DynamoDB requests keyword search adds to the write path per
 * paper: listings stored for the first time with their classification (`store.storeListings`, as
 * classify-paper does, in batches of {@link BATCH}), minus the same writes of other papers by a
 * store that writes no postings. The note gives the same for the postings layouts around the one
 * chosen, what a refresh of upvotes adds (the same text, new figures), and what one word's range
 * read costs in read units (DynamoDB bills the range's items before the filter) for each layout.
 *
 * `query.searchRatioToRawQuery`: the median time of a two-word search through the Function URL
 * handler (a page of {@link PAGE}) divided by the median time of one raw DynamoDB Query giving a page
 * of the same size (a day's papers by upvotes), samples alternating.
 */

const DAYS: IsoDate[] = ['2026-06-10', '2026-06-11', '2026-06-12'];
const PAPERS_PER_DAY = 120;
const BATCH = 10;
const PAGE = 50;
const SEARCH = 'language models';
const SAMPLES = 30;
const ITERATIONS = 5;
/** Layouts compared in the note (0: no postings, the baseline), each on days of its own. */
const COMPARED_BUCKETS = [0, 4, TERM_BUCKETS, 16];
/** A frequent word (in most abstracts) and a rare one, for the read cost of one word's range. */
const READ_TERMS = ['model', 'panoram'];

/** The bench's papers, listed on `days`, ids from `firstId`. */
const papers = (days: readonly IsoDate[] = DAYS, firstId = 20000): Promise<Paper[]> =>
  benchPapers({ days, papersPerDay: PAPERS_PER_DAY, firstId });

function dynamoRequests(after: RequestCounts, before: RequestCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.dynamodb)) {
    const delta = n - (before.dynamodb[op] ?? 0);
    if (delta > 0) out[op] = delta;
  }
  return out;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const describe = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([op, n]) => `${op.replace('DynamoDB_20120810.', '')}=${n}`)
    .join(' ');

export const suite: BenchSuite = {
  name: 'search',
  async run(): Promise<Metric[]> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-bench-search-'));
    const stack = await openLocalStack({ dataDir });
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    try {
      const tableName = stack.env.TABLE_NAME ?? '';
      const silent = { warn: () => undefined };
      const now = () => new Date('2026-06-13T00:00:00.000Z');
      /** Stores `listed` as classify-paper does, in batches; the requests it made. */
      const storeAll = async (
        store: DynamoPaperStore,
        listed: readonly Paper[],
        fetchedAt: (p: Paper) => string,
      ) => {
        const before = stack.requestCounts();
        for (let i = 0; i < listed.length; i += BATCH) {
          const results = await store.storeListings(
            listed.slice(i, i + BATCH).map((paper) => ({
              paper,
              origin: { listedOn: paper.listedOn ?? '', fetchedAt: fetchedAt(paper), archiveKey: 'x' },
              classification: classifyPaper(paper),
            })),
          );
          const failed = results.find((result) => result.error);
          if (failed?.error) throw new Error(`storing failed: ${failed.error.message}`);
        }
        return dynamoRequests(stack.requestCounts(), before);
      };
      const firstFetch = (paper: Paper) => `${paper.listedOn}T08:00:00.000Z`;
      const refresh = (paper: Paper) => `${paper.listedOn}T20:00:00.000Z`;
      const layouts: {
        buckets: number;
        first: Record<string, number>;
        refresh: Record<string, number>;
        reads: { units: number; scanned: number; matched: number }[];
        searchMs: number;
      }[] = [];
      for (const [n, buckets] of COMPARED_BUCKETS.entries()) {
        // The chosen layout stores the papers searched below; the others, the same texts on days of their own.
        const days =
          buckets === TERM_BUCKETS ? DAYS : DAYS.map((day) => `2026-0${5 - Math.min(n, 3)}-${day.slice(8)}`);
        const listed = buckets === TERM_BUCKETS ? await papers() : await papers(days, 40000 + 1000 * n);
        const store = new DynamoPaperStore(client, tableName, now, silent, buckets);
        const first = await storeAll(store, listed, firstFetch);
        const refreshed = await storeAll(
          store,
          listed.map((paper) => ({ ...paper, upvotes: (paper.upvotes ?? 0) + 1 })),
          refresh,
        );
        const reads =
          buckets === 0
            ? []
            : await Promise.all(READ_TERMS.map((term) => wordRead(client, tableName, term, buckets, days)));
        const searchMs = buckets === 0 ? Number.NaN : await timeSearch(store, days);
        layouts.push({ buckets, first, refresh: refreshed, reads, searchMs });
      }
      const all = await papers();
      const byDay = new Map<IsoDate, string[]>();
      for (const paper of all)
        byDay.set(paper.listedOn ?? '', [...(byDay.get(paper.listedOn ?? '') ?? []), paper.id]);
      await new DynamoPaperStore(client, tableName, now, silent).recordListedDays(byDay);
      const perPaper = (counts: Record<string, number>) => sum(counts) / all.length;
      const baseline = layouts.find(({ buckets }) => buckets === 0);
      const chosen = layouts.find(({ buckets }) => buckets === TERM_BUCKETS);
      if (!baseline || !chosen) throw new Error('the baseline and the chosen layout are compared');
      const added = (layout: (typeof layouts)[number]) => perPaper(layout.first) - perPaper(baseline.first);
      const layoutNotes = layouts
        .filter(({ buckets }) => buckets > 0)
        .map(
          (layout) =>
            `k=${layout.buckets}: +${added(layout).toFixed(2)}/paper (${describe(layout.first)}), a word's range ` +
            layout.reads
              .map(
                (read, i) =>
                  `"${READ_TERMS[i]}" ${read.units} RCU (${read.scanned} items read, ${read.matched} kept)`,
              )
              .join(', ') +
            `, "${SEARCH}" through the store ${layout.searchMs.toFixed(2)} ms`,
        )
        .join('; ');

      process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
      const handler = await loadQueryHandler(stack.env);
      const url = `/papers?q=${encodeURIComponent(SEARCH)}&limit=${PAGE}`;
      const viaHandler = async () => {
        const result = await handler(functionUrlEvent({ method: 'GET', url }), localLambdaContext('query'));
        if (typeof result !== 'object' || result.statusCode !== 200) throw new Error(`${url} failed`);
        const body = JSON.parse(result.body ?? '{}') as { items?: unknown[] };
        if ((body.items?.length ?? 0) !== PAGE) throw new Error(`${url} gave a short page`);
      };
      const raw = new QueryCommand({
        TableName: tableName,
        IndexName: papersTable.indexes.byDay.indexName,
        KeyConditionExpression: 'dayPk = :dayPk',
        ExpressionAttributeValues: { ':dayPk': dayPk(DAYS[0] ?? '') },
        ScanIndexForward: false,
        Limit: PAGE,
      });
      const direct = async () => {
        const result = await client.send(raw);
        if ((result.Items?.length ?? 0) !== PAGE) throw new Error('raw query gave a short page');
      };
      const before = stack.requestCounts();
      await viaHandler();
      const perSearch = dynamoRequests(stack.requestCounts(), before);
      const { handlerMs, rawMs } = await alternate(viaHandler, direct);
      return [
        {
          name: 'search.indexRequestsPerPaper',
          value: added(chosen),
          unit: 'requests',
          note:
            `${all.length} new listings stored in batches of ${BATCH} with their postings (k=${TERM_BUCKETS} ` +
            `buckets): ${describe(chosen.first)}, against ${describe(baseline.first)} without; ` +
            `a refresh of upvotes adds ${(perPaper(chosen.refresh) - perPaper(baseline.refresh)).toFixed(2)}/paper ` +
            `(${describe(chosen.refresh)}); ${layoutNotes} (${DAYS.length} days of ${PAPERS_PER_DAY}, eventually consistent)`,
        },
        {
          name: 'query.searchRatioToRawQuery',
          value: median(handlerMs) / median(rawMs),
          unit: 'x',
          target: { max: 3 },
          note:
            `"${SEARCH}", page of ${PAGE} over ${all.length} papers: handler ${median(handlerMs).toFixed(2)} ms ` +
            `(${describe(perSearch)}) vs one raw Query of ${PAGE} ${median(rawMs).toFixed(2)} ms, median of ${SAMPLES}×${ITERATIONS}`,
        },
      ];
    } finally {
      client.destroy();
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

/** The median time of the two-word search through `store` over `days` (a page of {@link PAGE}). */
async function timeSearch(store: DynamoPaperStore, days: readonly IsoDate[]): Promise<number> {
  const search = () =>
    store.searchPapers({
      terms: queryTerms(SEARCH),
      range: { from: days[0] ?? '', to: days.at(-1) ?? '' },
      order: 'relevance',
      limit: PAGE,
    });
  for (let i = 0; i < 5; i++) await search();
  const samples: number[] = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    await search();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/**
 * What one word's range read costs with `buckets`: the read units DynamoDB bills for the bucket's
 * range over `days` (every item read, before the filter), the items read and those kept.
 */
async function wordRead(
  client: ReturnType<typeof makeDocumentClient>,
  tableName: string,
  term: string,
  buckets: number,
  days: readonly IsoDate[],
): Promise<{ units: number; scanned: number; matched: number }> {
  const bounds = postingRange(days[0] ?? '', days.at(-1) ?? '');
  let units = 0;
  let scanned = 0;
  let matched = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
        FilterExpression: 'attribute_exists(tf.#t)',
        ExpressionAttributeNames: { '#t': term },
        ExpressionAttributeValues: {
          ':pk': termBucketPk(termBucket(term, buckets), buckets),
          ':low': bounds.low,
          ':high': bounds.high,
        },
        ProjectionExpression: 'sk, dl, h, tf.#t',
        ReturnConsumedCapacity: 'TOTAL',
        ExclusiveStartKey: start,
      }),
    );
    units += page.ConsumedCapacity?.CapacityUnits ?? 0;
    scanned += page.ScannedCount ?? 0;
    matched += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return { units, scanned, matched };
}

async function alternate(a: () => Promise<unknown>, b: () => Promise<unknown>) {
  for (let i = 0; i < 10; i++) {
    await a();
    await b();
  }
  const handlerMs: number[] = [];
  const rawMs: number[] = [];
  const time = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) await fn();
    return (performance.now() - start) / ITERATIONS;
  };
  for (let s = 0; s < SAMPLES; s++) {
    handlerMs.push(await time(a));
    rawMs.push(await time(b));
  }
  return { handlerMs, rawMs };
}
