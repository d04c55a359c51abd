import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadHandlers } from '../../local/handlers';
import { drainPipeline } from '../../local/ingest';
import { openLocalStack, type RequestCounts } from '../../local/stack';
import type { BenchSuite, Metric } from '../harness';

/**
 * `pipeline.papersPerSecond`: a local ingest of a generated day of 520 papers,
 * fetched over HTTP in pages of 100 from a server on 127.0.0.1, through the four
 * handlers and both queues, on the stand-ins.
 *
 * `pipeline.awsRequestsPerPaper`: every request the stand-ins served during that
 * ingest (each is one SDK call: the handlers' and the event-source driver's,
 * which stands in for Lambda's pollers), divided by the papers, with the count
 * per service and operation in the note.
 */

const PAPERS = 520;
const DAY = '2026-06-20';
const FIXTURES = [
  'hf-daily-papers-2026-06-12.json',
  'hf-daily-papers-2026-07-10+13.json',
  'hf-daily-papers-2026-08-03.json',
];

/** Real API items, re-identified so every one is a distinct paper listed on {@link DAY}. */
async function generatedListing(): Promise<unknown[]> {
  const templates: Record<string, unknown>[] = [];
  for (const name of FIXTURES) {
    const text = await readFile(new URL(`../../test/fixtures/listings/${name}`, import.meta.url), 'utf8');
    templates.push(...(JSON.parse(text) as Record<string, unknown>[]));
  }
  return Array.from({ length: PAPERS }, (_, i) => {
    const item = structuredClone(templates[i % templates.length]) as { paper: Record<string, unknown> };
    item.paper.id = `2606.${String(90000 + i)}`;
    item.paper.title = `${String(item.paper.title)} (variant ${i})`;
    item.paper.submittedOnDailyAt = `${DAY}T00:00:00.000Z`;
    item.paper.upvotes = (i * 37) % 200;
    return item;
  });
}

function total(counts: RequestCounts): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).map(([service, ops]) => [service, Object.values(ops).reduce((a, b) => a + b, 0)]),
  );
}

function difference(after: RequestCounts, before: RequestCounts): RequestCounts {
  const out: RequestCounts = { dynamodb: {}, sqs: {}, s3: {} };
  for (const service of Object.keys(out) as (keyof RequestCounts)[]) {
    for (const [op, n] of Object.entries(after[service])) {
      const delta = n - (before[service][op] ?? 0);
      if (delta > 0) out[service][op] = delta;
    }
  }
  return out;
}

export const suite: BenchSuite = {
  name: 'pipeline',
  async run(): Promise<Metric[]> {
    const listing = await generatedListing();
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const limit = Number(url.searchParams.get('limit'));
      const page = Number(url.searchParams.get('p') ?? 0);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(listing.slice(page * limit, (page + 1) * limit)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    process.env.LISTING_URL_TEMPLATE = `http://127.0.0.1:${port}/api/daily_papers?date={date}&limit=100`;
    process.env.FETCH_PAGE_DELAY_MS = '0';
    const dataDir = path.join(os.tmpdir(), `papers-bench-${process.pid}`);
    const stack = await openLocalStack({ dataDir });
    try {
      const handlers = await loadHandlers(stack);
      const before = stack.requestCounts();
      const start = performance.now();
      const report = await handlers.fetchListing({ date: DAY });
      const consumers = await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });
      const seconds = (performance.now() - start) / 1000;
      const counts = difference(stack.requestCounts(), before);
      const byService = total(counts);
      const requests = Object.values(byService).reduce((a, b) => a + b, 0);
      const failed = consumers.reduce((sum, consumer) => sum + consumer.failedRecords, 0);
      if (report.papers !== PAPERS || failed > 0) {
        throw new Error(`bench ingest was not clean: ${report.papers} papers sent, ${failed} records failed`);
      }
      const perService = Object.entries(byService)
        .map(([service, n]) => `${service} ${(n / PAPERS).toFixed(2)}`)
        .join(', ');
      const perOperation = Object.entries(counts)
        .flatMap(([service, ops]) => Object.entries(ops).map(([op, n]) => `${service}.${op}=${n}`))
        .join(' ');
      return [
        {
          name: 'pipeline.papersPerSecond',
          value: PAPERS / seconds,
          unit: 'papers/s',
          note: `${PAPERS} papers, fetch (6 pages over HTTP) + parse + classify, ${seconds.toFixed(2)} s`,
        },
        {
          name: 'pipeline.awsRequestsPerPaper',
          value: requests / PAPERS,
          unit: 'requests',
          target: { max: 3 },
          note: `${perService}; ${perOperation}`,
        },
      ];
    } finally {
      await stack.close();
      server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
