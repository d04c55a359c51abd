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
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { dayPk } from '../../shared/store/keys';
import { type BenchSuite, type Metric, median } from '../harness';
import { benchPapers, seedPapers } from '../seed-papers';

/**
 * Keyword search's costs, on the stand-ins.
 *
 * `search.indexRequestsPerPaper`: DynamoDB requests the parse stage's search hook
 * (`store.indexForSearch`) makes per paper, for listings stored for the first time, indexed in
 * batches of {@link BATCH} as the parse queue delivers them; the note gives the same figure for a
 * re-fetch of the same text (a redelivery, a daily refresh) and the postings written per paper.
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
      const store = new DynamoPaperStore(client, tableName);
      const all = await benchPapers({ days: DAYS, papersPerDay: PAPERS_PER_DAY, firstId: 20000 });
      await seedPapers(store, all, { classify: (paper) => classifyPaper(paper) });

      const indexAll = async () => {
        const before = stack.requestCounts();
        for (let i = 0; i < all.length; i += BATCH) {
          const batch = all
            .slice(i, i + BATCH)
            .map((paper) => ({ id: paper.id, listedOn: paper.listedOn ?? '' }));
          const failures = await store.indexForSearch(batch);
          if (failures.size > 0) throw new Error(`indexing failed: ${[...failures.values()][0]?.message}`);
        }
        return dynamoRequests(stack.requestCounts(), before);
      };
      const first = await indexAll();
      const again = await indexAll();
      const postings = await postingsWritten(client, tableName, all);

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
      const firstPerPaper = sum(first) / all.length;
      return [
        {
          name: 'search.indexRequestsPerPaper',
          value: firstPerPaper,
          unit: 'requests',
          note:
            `${all.length} new listings indexed in batches of ${BATCH}: ${describe(first)}; ` +
            `${(postings / all.length).toFixed(1)} postings per paper; ` +
            `the same text again: ${(sum(again) / all.length).toFixed(2)} requests per paper (${describe(again)})`,
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

/** Postings in the table for these papers: the sum of their markers' term sets. */
async function postingsWritten(
  client: ReturnType<typeof makeDocumentClient>,
  tableName: string,
  papers: readonly Paper[],
): Promise<number> {
  let total = 0;
  for (const paper of papers) {
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :search)',
        ExpressionAttributeValues: { ':pk': `PAPER#${paper.id}`, ':search': 'SEARCH#' },
      }),
    );
    for (const item of result.Items ?? []) total += item.terms instanceof Set ? item.terms.size : 0;
  }
  return total;
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
