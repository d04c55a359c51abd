import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { loadQueryHandler } from '../../local/handlers';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import type { Classification } from '../../shared/classification';
import type { IsoDate } from '../../shared/paper';
import { papersTable } from '../../shared/resources';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { categoryPk, categoryRange, dayPk } from '../../shared/store/keys';
import { type BenchSuite, type Metric, median } from '../harness';
import { benchPapers, seedPapers } from '../seed-papers';

/**
 * `query.ratioToRawQuery`: the median time of a query through the Function URL
 * handler (event → validation → store → JSON response) divided by the median
 * time of the same DynamoDB Query made directly with the document client, on
 * the local stand-in, for a page of {@link PAGE} papers. Reported per route (a
 * day, a category over three days) and overall as the worse of the two.
 * Samples of the two alternate, so drift in the machine's speed hits both alike.
 */

const DAYS: IsoDate[] = ['2026-06-10', '2026-06-11', '2026-06-12'];
const PAPERS_PER_DAY = 120;
const PAGE = 50;
const SAMPLES = 40;
const ITERATIONS = 5;
const CATEGORY = 'cs.CL';
const CODES = ['cs.CL', 'cs.CV', 'cs.LG', 'cs.AI', 'stat.ML'];

function classification(rank: number): Classification {
  const codes = [...CODES.slice(rank % CODES.length), ...CODES.slice(0, rank % CODES.length)];
  return {
    categories: codes.map((code, i) => ({
      code,
      name: `Name of ${code}`,
      group: 'Computer Science',
      score: 0.9 - i * 0.15,
      assigned: i < 2,
      terms: ['language', 'model', 'benchmark', 'reasoning', 'agents'],
    })),
    primaryCategory: codes[0] ?? CATEGORY,
    classifierVersion: 'bench-1',
    categorySource: 'model',
  };
}

interface Route {
  name: 'day' | 'category';
  url: string;
  raw: QueryCommand;
}

export const suite: BenchSuite = {
  name: 'query',
  async run(): Promise<Metric[]> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-bench-query-'));
    const stack = await openLocalStack({ dataDir });
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    try {
      const tableName = stack.env.TABLE_NAME ?? '';
      await seedPapers(
        new DynamoPaperStore(client, tableName),
        await benchPapers({ days: DAYS, papersPerDay: PAPERS_PER_DAY, firstId: 10000 }),
        { classify: (_, n) => classification(n) },
      );
      // The handler logs every request at INFO on stdout, which would interleave with the report.
      process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
      const handler = await loadQueryHandler(stack.env);
      const [day] = DAYS;
      const from = DAYS[0] ?? '';
      const to = DAYS[DAYS.length - 1] ?? '';
      const { low, high } = categoryRange(from, to);
      const routes: Route[] = [
        {
          name: 'day',
          url: `/papers?date=${day}&limit=${PAGE}`,
          raw: new QueryCommand({
            TableName: tableName,
            IndexName: papersTable.indexes.byDay.indexName,
            KeyConditionExpression: 'dayPk = :dayPk',
            ExpressionAttributeValues: { ':dayPk': dayPk(day ?? '') },
            ScanIndexForward: false,
            Limit: PAGE,
          }),
        },
        {
          name: 'category',
          url: `/papers?category=${CATEGORY}&from=${from}&to=${to}&limit=${PAGE}`,
          raw: new QueryCommand({
            TableName: tableName,
            IndexName: papersTable.indexes.byCategory.indexName,
            KeyConditionExpression: 'categoryPk = :categoryPk AND categorySk BETWEEN :low AND :high',
            ExpressionAttributeValues: { ':categoryPk': categoryPk(CATEGORY), ':low': low, ':high': high },
            Limit: PAGE,
          }),
        },
      ];
      const metrics: Metric[] = [];
      const ratios: number[] = [];
      for (const route of routes) {
        const viaHandler = async () => {
          const result = await handler(
            functionUrlEvent({ method: 'GET', url: route.url }),
            localLambdaContext('query'),
          );
          if (typeof result !== 'object' || result.statusCode !== 200) throw new Error(`${route.url} failed`);
          return result;
        };
        const direct = async () => {
          const result = await client.send(route.raw);
          if ((result.Items?.length ?? 0) !== PAGE)
            throw new Error(`raw ${route.name} query gave a short page`);
          return result;
        };
        const { handlerMs, rawMs } = await alternate(viaHandler, direct);
        const ratio = median(handlerMs) / median(rawMs);
        ratios.push(ratio);
        metrics.push({
          name: `query.ratioToRawQuery.${route.name}`,
          value: ratio,
          unit: 'x',
          target: { max: 1.1 },
          note: `handler ${median(handlerMs).toFixed(2)} ms vs raw Query ${median(rawMs).toFixed(2)} ms, page of ${PAGE}`,
        });
      }
      metrics.unshift({
        name: 'query.ratioToRawQuery',
        value: Math.max(...ratios),
        unit: 'x',
        target: { max: 1.1 },
        note: `worse of day and category; ${DAYS.length * PAPERS_PER_DAY} papers seeded, median of ${SAMPLES}×${ITERATIONS}`,
      });
      return metrics;
    } finally {
      client.destroy();
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

/** Times `a` and `b` in alternating samples of {@link ITERATIONS} calls each; milliseconds per call. */
async function alternate(
  viaHandler: () => Promise<unknown>,
  direct: () => Promise<unknown>,
): Promise<{ handlerMs: number[]; rawMs: number[] }> {
  for (let i = 0; i < 20; i++) {
    await viaHandler();
    await direct();
  }
  const handlerMs: number[] = [];
  const rawMs: number[] = [];
  const time = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    for (let i = 0; i < ITERATIONS; i++) await fn();
    return (performance.now() - start) / ITERATIONS;
  };
  for (let s = 0; s < SAMPLES; s++) {
    handlerMs.push(await time(viaHandler));
    rawMs.push(await time(direct));
  }
  return { handlerMs, rawMs };
}
