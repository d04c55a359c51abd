import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type LocalHandlers, loadHandlers } from '../../local/handlers';
import { drainPipeline } from '../../local/ingest';
import { type LocalStack, openLocalStack, type RequestCounts } from '../../local/stack';
import { type CpuProfile, STAND_IN_SCRIPTS as STAND_IN_SHARED_SCRIPTS, standInShare } from '../cpu-profile';
import type { BenchSuite, Metric } from '../harness';

/**
 * `pipeline.papersPerSecond`: a local ingest of a generated day of 520 papers,
 * fetched over HTTP in pages of 100 from a server on 127.0.0.1, through the four
 * handlers and both queues, on the stand-ins.
 *
 * `pipeline.awsRequestsPerPaper`: every request the stand-ins served during that
 * ingest (each is one SDK call: the handlers' and the event-source driver's,
 * which stands in for Lambda's pollers), divided by the papers, with the count
 * per service and operation, per paper, in the note.
 *
 * `pipeline.standInCpuShare`: a second, identical ingest under the CPU profiler, its samples
 * split between the stand-ins (dynalite, fauxqs and what they run on: their modules, the local
 * TransactWriteItems front, the durable-queue journal, and Node's HTTP server side, which only
 * the stand-ins use) and the rest (the handlers, the SDK, the event-source driver). Profiled
 * apart so the timed run is not slowed by the profiler. The profile is the main thread's: the
 * local DynamoDB's own thread (`local/dynalite-thread.ts`) counts whole, by its busy time,
 * against the main thread's busy time split by the profile.
 */

const PAPERS = 520;
/** Pages of 100: the sixth holds the last 20 papers (the default stops at five pages). */
const PAGES = 6;
/** In this process only the stand-ins serve HTTP, so Node's HTTP server side counts as theirs. */
const STAND_IN_SCRIPTS = [...STAND_IN_SHARED_SCRIPTS, /node:_http_server|_http_server\.js/];
/** Far above the 12 page requests of the two ingests: the limiter never holds one back. */
const LOCAL_UPSTREAM_REQUESTS_PER_5_MIN = 30_000;
const DAY = '2026-06-20';
/** The profiled ingest's day: other papers on another day, so it stores as much as the timed one. */
const PROFILED_DAY = '2026-06-21';
const FIXTURES = [
  'hf-daily-papers-2026-06-12.json',
  'hf-daily-papers-2026-07-10+13.json',
  'hf-daily-papers-2026-08-03.json',
];

/** Real API items, re-identified so every one is a distinct paper listed on {@link DAY}. */
async function generatedListing(day: string, firstId: number): Promise<unknown[]> {
  const templates: Record<string, unknown>[] = [];
  for (const name of FIXTURES) {
    const text = await readFile(new URL(`../../test/fixtures/listings/${name}`, import.meta.url), 'utf8');
    templates.push(...(JSON.parse(text) as Record<string, unknown>[]));
  }
  return Array.from({ length: PAPERS }, (_, i) => {
    const item = structuredClone(templates[i % templates.length]) as { paper: Record<string, unknown> };
    item.paper.id = `2606.${String(firstId + i)}`;
    item.paper.title = `${String(item.paper.title)} (variant ${i})`;
    item.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
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

interface IngestRun {
  seconds: number;
  counts: RequestCounts;
}

/** One ingest of `day`, timed, with the stand-ins' request counts. */
async function ingestOnce(stack: LocalStack, handlers: LocalHandlers, day: string): Promise<IngestRun> {
  {
    const before = stack.requestCounts();
    const start = performance.now();
    const report = await handlers.fetchListing({ date: day });
    const consumers = await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });
    const seconds = (performance.now() - start) / 1000;
    const failed = consumers.reduce((sum, consumer) => sum + consumer.failedRecords, 0);
    if (report.papers !== PAPERS || failed > 0) {
      throw new Error(`bench ingest was not clean: ${report.papers} papers sent, ${failed} records failed`);
    }
    return { seconds, counts: difference(stack.requestCounts(), before) };
  }
}

export const suite: BenchSuite = {
  name: 'pipeline',
  async run(): Promise<Metric[]> {
    const listings = new Map([
      [DAY, await generatedListing(DAY, 90000)],
      [PROFILED_DAY, await generatedListing(PROFILED_DAY, 80000)],
    ]);
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const listing = listings.get(url.searchParams.get('date') ?? '') ?? [];
      const limit = Number(url.searchParams.get('limit'));
      const page = Number(url.searchParams.get('p') ?? 0);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(listing.slice(page * limit, (page + 1) * limit)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    process.env.LISTING_URL_TEMPLATE = `http://127.0.0.1:${port}/api/daily_papers?date={date}&limit=100`;
    // The upstream is this process's own server, not HF: neither the pause between pages nor HF's
    // request limit applies. At the limit's default (250 per 5 minutes, a request every 1.2 s) the
    // 6 pages of each ingest alone took 6 s, and the figure measured the limiter, not the pipeline.
    process.env.FETCH_PAGE_DELAY_MS = '0';
    process.env.FETCH_MAX_REQUESTS_PER_5_MIN = String(LOCAL_UPSTREAM_REQUESTS_PER_5_MIN);
    process.env.FETCH_MAX_PAGES = String(PAGES);
    const dataDir = path.join(os.tmpdir(), `papers-bench-${process.pid}`);
    const stack = await openLocalStack({ dataDir });
    try {
      const handlers = await loadHandlers(stack);
      const cpuBefore = process.cpuUsage();
      const { seconds, counts } = await ingestOnce(stack, handlers, DAY);
      const cpu = process.cpuUsage(cpuBefore);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;

      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 500 });
      await session.post('Profiler.start');
      const mainBefore = performance.eventLoopUtilization();
      const dynamoBefore = stack.dynamoThreadBusyMs() ?? 0;
      await ingestOnce(stack, handlers, PROFILED_DAY);
      const mainBusyMs = performance.eventLoopUtilization(mainBefore).active;
      const dynamoBusyMs = (stack.dynamoThreadBusyMs() ?? 0) - dynamoBefore;
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      // The profile is this thread's; the local DynamoDB has a thread of its own, all stand-in.
      const mainShare = standInShare(profile as CpuProfile, STAND_IN_SCRIPTS);
      const share = (mainShare * mainBusyMs + dynamoBusyMs) / (mainBusyMs + dynamoBusyMs);

      const byService = total(counts);
      const requests = Object.values(byService).reduce((a, b) => a + b, 0);
      const perPaper = (n: number) => (n / PAPERS).toFixed(2);
      const perService = Object.entries(byService)
        .map(([service, n]) => `${service} ${perPaper(n)}`)
        .join(', ');
      const perOperation = Object.entries(counts)
        .flatMap(([service, ops]) =>
          Object.entries(ops)
            .sort(([, a], [, b]) => b - a)
            .map(([op, n]) => `${service}.${op} ${perPaper(n)} (${n})`),
        )
        .join(', ');
      return [
        {
          name: 'pipeline.papersPerSecond',
          value: PAPERS / seconds,
          unit: 'papers/s',
          note: `${PAPERS} papers, fetch (${PAGES} pages over HTTP) + parse + classify, ${seconds.toFixed(2)} s, ${cpuSeconds.toFixed(2)} s of CPU`,
        },
        {
          name: 'pipeline.awsRequestsPerPaper',
          value: requests / PAPERS,
          unit: 'requests',
          target: { max: 1.5 },
          note: `${perService}; per paper: ${perOperation}`,
        },
        {
          name: 'pipeline.standInCpuShare',
          value: share,
          unit: 'of CPU',
          note: `a second ingest under the CPU profiler: ${(share * 100).toFixed(0)}% of the busy time in the stand-ins (dynalite, fauxqs, the local transaction front, Node's HTTP server side), ${((1 - share) * 100).toFixed(0)}% in the handlers, the SDK and the driver; the main thread ${(mainBusyMs / 1000).toFixed(2)} s busy (${(mainShare * 100).toFixed(0)}% of its samples the stand-ins'), dynalite's thread ${(dynamoBusyMs / 1000).toFixed(2)} s`,
        },
      ];
    } finally {
      await stack.close();
      server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
