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
 *
 * `query.serveStandInCpuShare`: a second `papers serve` on the same data under `--cpu-prof`, loaded
 * with {@link PROFILED_REQUESTS} requests of the same mix (apart, so the profiler does not slow the
 * timed run): the share of its samples, within the load, in the stand-ins (dynalite, LevelDB, the
 * local transaction front) against the rest (the HTTP adapter, the handler, the SDK, zod, JSON).
 *
 * `query.serveProcessCores`: the serving process's CPU time (it runs the handler and the
 * stand-ins, on one thread) over the load's wall time, with the clients' CPU in the note: near 1,
 * the server is bound by its one event loop; well under, by something else (the clients, the machine).
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
}

const isSuccess = (outcome: number | string) =>
  typeof outcome === 'number' && ((outcome >= 200 && outcome < 300) || outcome === 304);

/** One GET, timed to the end of its body. Never rejects: a failure is its sample's outcome. */
function timedGet(agent: Agent, base: URL, route: string, url: string): Promise<Sample> {
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (outcome: number | string) => resolve({ route, ms: performance.now() - start, outcome });
    const req = request(new URL(url, base), { agent, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      response.on('data', () => {});
      response.on('end', () => done(response.statusCode ?? 'no status'));
      response.on('error', (error) => done(error.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error) => done(error.message));
    req.end();
  });
}

/** `total` requests over the routes in turn, `concurrency` in flight at a time, on one keep-alive agent. */
async function load(base: URL, mix: readonly Route[], total: number, concurrency: number): Promise<Sample[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const samples: Sample[] = [];
  let next = 0;
  const client = async () => {
    while (next < total) {
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

/** `papers serve --port 0` on `dataDir`; resolves with its URL once it says it is listening. */
async function startServe(
  dataDir: string,
  nodeOptions: readonly string[] = [],
): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, [...nodeOptions, LAUNCHER, 'serve', '--port', '0'], {
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

/** Each route once, one at a time (their first answers are the slowest), then the mix at full concurrency; returns the failures. */
async function warmUp(base: URL, mix: readonly Route[]): Promise<number> {
  const samples = [
    ...(await load(base, mix, mix.length, 1)),
    ...(await load(base, mix, WARMUP_REQUESTS, CONCURRENCY)),
  ];
  return samples.filter((sample) => !isSuccess(sample.outcome)).length;
}

/** The stand-ins' share of a profiled `papers serve`'s CPU while it answers the mix. */
async function profiledShare(dataDir: string, mix: readonly Route[]): Promise<number> {
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'papers-bench-serve-profile-'));
  try {
    const served = await startServe(dataDir, ['--cpu-prof', '--cpu-prof-dir', profileDir]);
    let window: { fromUs: number; toUs: number };
    try {
      await warmUp(served.url, mix);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      await load(served.url, mix, PROFILED_REQUESTS, CONCURRENCY);
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

export const suite: BenchSuite = {
  name: 'serve',
  async run(): Promise<Metric[]> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-bench-serve-'));
    let child: ChildProcess | undefined;
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
      const served = await startServe(dataDir);
      child = served.child;
      const mix = routes(papers.map((paper) => paper.id));
      const warmupErrors = await warmUp(served.url, mix);
      const childCpuBefore = await processCpuMs(child.pid ?? 0);
      const ownCpuBefore = process.cpuUsage();
      const start = performance.now();
      const samples = await load(served.url, mix, REQUESTS, CONCURRENCY);
      const seconds = (performance.now() - start) / 1000;
      const childCpu = (await processCpuMs(child.pid ?? 0)) - childCpuBefore;
      const ownCpu = process.cpuUsage(ownCpuBefore);
      const ownCpuMs = (ownCpu.user + ownCpu.system) / 1000;

      const ms = samples.map((sample) => sample.ms);
      const errors = samples.filter((sample) => !isSuccess(sample.outcome));
      const byRoute = mix
        .map(({ name }) => {
          const own = samples.filter((sample) => sample.route === name).map((sample) => sample.ms);
          return `${name} ${percentile(own, 50).toFixed(1)}/${percentile(own, 99).toFixed(1)}`;
        })
        .join(', ');
      const setting = `${REQUESTS} requests at concurrency ${CONCURRENCY} over ${mix.length} routes, ${papers.length} papers on ${DAYS.length} days`;
      const firstError = errors[0] ? `; first: ${errors[0].route} ${errors[0].outcome}` : '';
      await stop(child);
      const share = await profiledShare(dataDir, mix);
      return [
        { name: 'query.p50Ms', value: percentile(ms, 50), unit: 'ms', note: setting },
        { name: 'query.p95Ms', value: percentile(ms, 95), unit: 'ms', note: setting },
        {
          name: 'query.p99Ms',
          value: percentile(ms, 99),
          unit: 'ms',
          target: { max: 50 },
          note: `${setting}; p50/p99 ms by route: ${byRoute}`,
        },
        {
          name: 'query.requestsPerSecond',
          value: REQUESTS / seconds,
          unit: 'req/s',
          note: `${setting}, ${seconds.toFixed(2)} s`,
        },
        {
          name: 'query.serveErrors',
          value: errors.length,
          unit: 'requests',
          target: { max: 0 },
          note: `answers other than 2xx/304, or none${firstError}; ${warmupErrors} in the warm-up (not counted)`,
        },
        {
          name: 'query.serveStandInCpuShare',
          value: share,
          unit: 'of CPU',
          note: `a second papers serve under --cpu-prof, ${PROFILED_REQUESTS} requests: ${(share * 100).toFixed(0)}% of its samples in the stand-ins (dynalite, LevelDB, the transaction front), ${((1 - share) * 100).toFixed(0)}% in the adapter, the handler, the SDK`,
        },
        {
          name: 'query.serveProcessCores',
          value: childCpu / (seconds * 1000),
          unit: 'cores',
          note: `papers serve ${(childCpu / 1000).toFixed(2)} s of CPU, the clients ${(ownCpuMs / 1000).toFixed(2)} s, in ${seconds.toFixed(2)} s`,
        },
      ];
    } finally {
      if (child) await stop(child);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
