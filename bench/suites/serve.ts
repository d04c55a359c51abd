import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { classifyPaper } from '../../shared/classify';
import type { IsoDate } from '../../shared/paper';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { type CpuProfile, standInShare } from '../cpu-profile';
import type { BenchSuite, Metric } from '../harness';
import { benchPapers, seedPapers } from '../seed-papers';

/**
 * `query.p99Ms`, `query.requestsPerSecond`: `papers serve` as a user runs it (its own process,
 * owning the local stack of a data folder a first process seeded with {@link DAYS}×{@link
 * PAPERS_PER_DAY} papers and closed, as after `papers ingest`), loaded from this process over
 * loopback by {@link CONCURRENCY} keep-alive clients sending {@link REQUESTS} requests in a fixed
 * mix of routes ({@link routes}). Bounded: the request count is fixed, each request times out
 * after {@link REQUEST_TIMEOUT_MS}. Latency is from sending a request to reading the last byte of
 * its answer; an answer other than 2xx or 304, or no answer, is an error (`query.serveErrors`).
 * `query.serveCacheHitShare`: the share of those answers `papers serve`'s cache gave
 * (`x-cache: Hit`, `local/response-cache.ts`); the paper route asks for a different paper each
 * time, so its answers are all computed.
 *
 * `query.uncachedP99Ms`, `query.uncachedRequestsPerSecond`: the same load on `papers serve
 * --no-cache`, where every request is answered by the handler and the stand-ins.
 *
 * `query.serveStandInCpuShare`: a third `papers serve`, `--no-cache`, on the same data under
 * `--cpu-prof`, loaded with {@link PROFILED_REQUESTS} requests of the same mix (apart, so the
 * profiler does not slow the timed runs): the share of its samples, within the load, in the
 * stand-ins (dynalite, LevelDB, the local transaction front) against the rest (the HTTP adapter,
 * the handler, the SDK, zod, JSON).
 *
 * `query.serveProcessCores`: the serving process's CPU time (it runs the handler and the
 * stand-ins, on one thread) over the uncached load's wall time, with the clients' CPU in the
 * note: near 1, the server is bound by its one event loop; well under, by something else.
 */

const DAYS: IsoDate[] = Array.from({ length: 20 }, (_, i) => `2026-06-${String(i + 1).padStart(2, '0')}`);
const PAPERS_PER_DAY = 100;
const CONCURRENCY = 16;
const REQUESTS = 2_000;
const WARMUP_REQUESTS = 80;
/** The profiled second run's requests: enough samples to split, few enough to keep the suite short. */
const PROFILED_REQUESTS = 400;
/** A bound, not a target: on a loaded machine a cold route's first answers take seconds. */
const REQUEST_TIMEOUT_MS = 30_000;
const SERVER_START_TIMEOUT_MS = 60_000;
const LAUNCHER = fileURLToPath(new URL('../../bin/papers.mjs', import.meta.url));

interface Route {
  name: string;
  /** The n-th request of this route's path and query. */
  url(n: number): string;
}

/** The routes a reader's browsing touches, each once in turn: pages, ranges, search, a paper, the indexes, a feed. */
function routes(paperIds: readonly string[]): Route[] {
  const day = (n: number) => DAYS[n % DAYS.length] as IsoDate;
  const week = (n: number) => {
    const start = n % (DAYS.length - 6);
    return `from=${DAYS[start]}&to=${DAYS[start + 6]}`;
  };
  const categories = ['cs.CL', 'cs.CV', 'cs.LG', 'cs.AI'];
  const searches = ['language models', 'diffusion', 'reinforcement learning', 'benchmark'];
  return [
    { name: 'day', url: (n) => `/papers?date=${day(n)}&limit=50` },
    {
      name: 'category',
      url: (n) => `/papers?category=${categories[n % categories.length]}&${week(n)}&limit=50`,
    },
    { name: 'ranked', url: (n) => `/papers?${week(n)}&sort=upvotes&limit=50` },
    { name: 'search', url: (n) => `/papers?q=${encodeURIComponent(searches[n % searches.length] ?? '')}` },
    { name: 'paper', url: (n) => `/papers/${paperIds[(n * 7919) % paperIds.length]}` },
    { name: 'days', url: () => '/days' },
    { name: 'categories', url: (n) => `/categories?${week(n)}` },
    { name: 'feed', url: () => '/feeds/daily.xml' },
  ];
}

interface Sample {
  route: string;
  ms: number;
  /** The status, or the error's message when no answer came. */
  outcome: number | string;
  /** The answer's `x-cache`. */
  cache?: string;
}

const isSuccess = (outcome: number | string) =>
  typeof outcome === 'number' && ((outcome >= 200 && outcome < 300) || outcome === 304);

/** One GET, timed to the end of its body. Never rejects: a failure is its sample's outcome. */
function timedGet(agent: Agent, base: URL, route: string, url: string): Promise<Sample> {
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (outcome: number | string, cache?: string) =>
      resolve({ route, ms: performance.now() - start, outcome, ...(cache ? { cache } : {}) });
    const req = request(new URL(url, base), { agent, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      response.on('data', () => {});
      response.on('end', () => {
        const cache = response.headers['x-cache'];
        done(response.statusCode ?? 'no status', typeof cache === 'string' ? cache : undefined);
      });
      response.on('error', (error) => done(error.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error) => done(error.message));
    req.end();
  });
}

/** `total` requests over the routes in turn (the `first`-th of the sequence on), `concurrency` in flight at a time, on one keep-alive agent. */
async function load(
  base: URL,
  mix: readonly Route[],
  total: number,
  concurrency: number,
  /** Where in the mix's sequence to start: a load after the warm-up asks for what it did not. */
  first = 0,
): Promise<Sample[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const samples: Sample[] = [];
  let next = first;
  const client = async () => {
    while (next < first + total) {
      const n = next++;
      const route = mix[n % mix.length] as Route;
      samples.push(await timedGet(agent, base, route.name, route.url(Math.floor(n / mix.length))));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    agent.destroy();
  }
  return samples;
}

/** The nearest-rank percentile `p` (0–100) of `values`. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** `papers serve --port 0 <serveArgs>` on `dataDir`; resolves with its URL once it says it is listening. */
async function startServe(
  dataDir: string,
  serveArgs: readonly string[] = [],
  nodeOptions: readonly string[] = [],
): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, [...nodeOptions, LAUNCHER, 'serve', '--port', '0', ...serveArgs], {
    env: { ...process.env, PAPERS_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`papers serve did not start in ${SERVER_START_TIMEOUT_MS} ms:\n${stderr}`)),
      SERVER_START_TIMEOUT_MS,
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      const listening = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (listening?.[1]) {
        clearTimeout(timer);
        resolve(new URL(listening[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`papers serve exited (${code}) before listening:\n${stderr}`));
    });
  });
  return { child, url };
}

/** SIGTERM (papers serve closes its stack on it), SIGKILL if it is still there after 15 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Linux's USER_HZ: the unit of /proc's CPU times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A process's CPU time (user + system, ms) from /proc: the serving child's, which `process.cpuUsage` cannot read. */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The first request of the sequence the warm-up did not send. */
const AFTER_WARM_UP = (mix: readonly Route[]) => mix.length + WARMUP_REQUESTS;

/** Each route once, one at a time (their first answers are the slowest), then the mix at full concurrency; returns the failures. */
async function warmUp(base: URL, mix: readonly Route[]): Promise<number> {
  const samples = [
    ...(await load(base, mix, mix.length, 1)),
    ...(await load(base, mix, WARMUP_REQUESTS, CONCURRENCY, mix.length)),
  ];
  return samples.filter((sample) => !isSuccess(sample.outcome)).length;
}

/** The stand-ins' share of a profiled `papers serve`'s CPU while it answers the mix. */
async function profiledShare(dataDir: string, mix: readonly Route[]): Promise<number> {
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'papers-bench-serve-profile-'));
  try {
    const served = await startServe(dataDir, ['--no-cache'], ['--cpu-prof', '--cpu-prof-dir', profileDir]);
    let window: { fromUs: number; toUs: number };
    try {
      await warmUp(served.url, mix);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      await load(served.url, mix, PROFILED_REQUESTS, CONCURRENCY, AFTER_WARM_UP(mix));
      window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    } finally {
      await stop(served.child);
    }
    // One profile per thread (tsx's loader runs in a worker): the main thread's serves HTTP.
    for (const name of await readdir(profileDir)) {
      const text = await readFile(path.join(profileDir, name), 'utf8');
      if (text.includes('http-adapter.ts'))
        return standInShare(JSON.parse(text) as CpuProfile, undefined, window);
    }
    return Number.NaN;
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

interface TimedLoad {
  samples: Sample[];
  ms: number[];
  seconds: number;
  /** The serving process's CPU during the load, and this process's (the clients'). */
  childCpuMs: number;
  ownCpuMs: number;
  warmupErrors: number;
  /** `route p50/p99, …` */
  byRoute: string;
}

/** A `papers serve <serveArgs>` of its own on `dataDir`, warmed up, then the timed load. */
async function timedLoad(
  dataDir: string,
  mix: readonly Route[],
  serveArgs: readonly string[],
): Promise<TimedLoad> {
  const { child, url } = await startServe(dataDir, serveArgs);
  try {
    const warmupErrors = await warmUp(url, mix);
    const childCpuBefore = await processCpuMs(child.pid ?? 0);
    const ownCpuBefore = process.cpuUsage();
    const start = performance.now();
    const samples = await load(url, mix, REQUESTS, CONCURRENCY, AFTER_WARM_UP(mix));
    const seconds = (performance.now() - start) / 1000;
    const childCpuMs = (await processCpuMs(child.pid ?? 0)) - childCpuBefore;
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const byRoute = mix
      .map(({ name }) => {
        const own = samples.filter((sample) => sample.route === name).map((sample) => sample.ms);
        return `${name} ${percentile(own, 50).toFixed(1)}/${percentile(own, 99).toFixed(1)}`;
      })
      .join(', ');
    return {
      samples,
      ms: samples.map((sample) => sample.ms),
      seconds,
      childCpuMs,
      ownCpuMs: (ownCpu.user + ownCpu.system) / 1000,
      warmupErrors,
      byRoute,
    };
  } finally {
    await stop(child);
  }
}

export const suite: BenchSuite = {
  name: 'serve',
  async run(): Promise<Metric[]> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-bench-serve-'));
    try {
      const papers = await benchPapers({ days: DAYS, papersPerDay: PAPERS_PER_DAY, firstId: 30000 });
      {
        const stack = await openLocalStack({ dataDir });
        const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
        try {
          const store = new DynamoPaperStore(client, stack.env.TABLE_NAME ?? '');
          await seedPapers(store, papers, { classify: (paper) => classifyPaper(paper) });
        } finally {
          client.destroy();
          await stack.close();
        }
      }
      const mix = routes(papers.map((paper) => paper.id));
      const setting = `${REQUESTS} requests at concurrency ${CONCURRENCY} over ${mix.length} routes, ${papers.length} papers on ${DAYS.length} days`;
      const cached = await timedLoad(dataDir, mix, []);
      const uncached = await timedLoad(dataDir, mix, ['--no-cache']);
      const share = await profiledShare(dataDir, mix);
      const errors = [...cached.samples, ...uncached.samples].filter((sample) => !isSuccess(sample.outcome));
      const firstError = errors[0] ? `; first: ${errors[0].route} ${errors[0].outcome}` : '';
      const hits = cached.samples.filter((sample) => sample.cache?.startsWith('Hit')).length;
      return [
        { name: 'query.p50Ms', value: percentile(cached.ms, 50), unit: 'ms', note: setting },
        { name: 'query.p95Ms', value: percentile(cached.ms, 95), unit: 'ms', note: setting },
        {
          name: 'query.p99Ms',
          value: percentile(cached.ms, 99),
          unit: 'ms',
          target: { max: 50 },
          note: `${setting}; p50/p99 ms by route: ${cached.byRoute}`,
        },
        {
          name: 'query.requestsPerSecond',
          value: REQUESTS / cached.seconds,
          unit: 'req/s',
          note: `${setting}, ${cached.seconds.toFixed(2)} s`,
        },
        {
          name: 'query.serveCacheHitShare',
          value: hits / cached.samples.length,
          unit: 'of answers',
          note: `x-cache: Hit on ${hits} of ${cached.samples.length} (every paper route answer is a different paper)`,
        },
        {
          name: 'query.uncachedP99Ms',
          value: percentile(uncached.ms, 99),
          unit: 'ms',
          note: `papers serve --no-cache, same load; p50 ${percentile(uncached.ms, 50).toFixed(0)} ms; p50/p99 ms by route: ${uncached.byRoute}`,
        },
        {
          name: 'query.uncachedRequestsPerSecond',
          value: REQUESTS / uncached.seconds,
          unit: 'req/s',
          note: `papers serve --no-cache, ${uncached.seconds.toFixed(2)} s`,
        },
        {
          name: 'query.serveErrors',
          value: errors.length,
          unit: 'requests',
          target: { max: 0 },
          note: `answers other than 2xx/304, or none, in both runs${firstError}; ${cached.warmupErrors + uncached.warmupErrors} in the warm-ups (not counted)`,
        },
        {
          name: 'query.serveStandInCpuShare',
          value: share,
          unit: 'of CPU',
          note: `papers serve --no-cache under --cpu-prof, ${PROFILED_REQUESTS} requests: ${(share * 100).toFixed(0)}% of its samples in the stand-ins (dynalite, LevelDB, the transaction front), ${((1 - share) * 100).toFixed(0)}% in the adapter, the handler, the SDK`,
        },
        {
          name: 'query.serveProcessCores',
          value: uncached.childCpuMs / (uncached.seconds * 1000),
          unit: 'cores',
          note: `papers serve --no-cache ${(uncached.childCpuMs / 1000).toFixed(2)} s of CPU, the clients ${(uncached.ownCpuMs / 1000).toFixed(2)} s, in ${uncached.seconds.toFixed(2)} s`,
        },
      ];
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
