/**
 * `npm run bench [-- suite ...] [-- --save]`: runs the benchmark suites, prints a table of
 * their figures against the issues' targets and writes them to `bench/.out/results.json`
 * (ignored by git), so a run never leaves the tree modified. `--save` also writes them to
 * `bench/results.json`, the committed reference figures: updating those is a decision, not a
 * side effect. A suite lives in `bench/suites/<name>.ts` and exports `suite: BenchSuite`.
 *
 * Each suite runs in a fresh Node process: the Lambda handlers read their
 * configuration once per process (as on Lambda), and a suite's JIT state and
 * heap should not colour the next one's timings.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BenchSuite, type Metric, meetsTarget } from './harness';

// The SDK warns on every run that its 2027 releases need Node 22; Lambda runs 22+, this machine 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const suites: Record<string, () => Promise<{ suite: BenchSuite }>> = {
  parse: () => import('./suites/parse'),
  classify: () => import('./suites/classify'),
  pipeline: () => import('./suites/pipeline'),
  query: () => import('./suites/query'),
  search: () => import('./suites/search'),
  serve: () => import('./suites/serve'),
  bundle: () => import('./suites/bundle'),
  'history-export': () => import('./suites/history-export'),
  'history-replay': () => import('./suites/history-replay'),
  enrich: () => import('./suites/enrich'),
};

const SUITE_FLAG = '--run-suite';

function formatValue(metric: Metric): string {
  // JSON carries NaN as null: a figure the suite could not measure.
  if (typeof metric.value !== 'number' || !Number.isFinite(metric.value)) return `n/a ${metric.unit}`;
  const digits = Math.abs(metric.value) >= 100 ? 0 : Math.abs(metric.value) >= 1 ? 2 : 4;
  return `${metric.value.toFixed(digits)} ${metric.unit}`;
}

function formatTarget(metric: Metric): string {
  if (!metric.target) return '';
  const parts = [];
  if (metric.target.max !== undefined) parts.push(`<= ${metric.target.max}`);
  if (metric.target.min !== undefined) parts.push(`>= ${metric.target.min}`);
  const ok = meetsTarget(metric);
  return `${parts.join(', ')} ${ok ? 'ok' : 'MISSED'}`;
}

/** In the child: run one suite and print its metrics as JSON on the last line of stdout. */
async function runOne(name: string): Promise<number> {
  const load = suites[name];
  if (!load) throw new Error(`unknown suite "${name}"`);
  const { suite } = await load();
  const metrics = await suite.run();
  process.stdout.write(`\n${JSON.stringify(metrics)}\n`);
  return 0;
}

async function runInChild(name: string): Promise<Metric[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), SUITE_FLAG, name],
    { maxBuffer: 64 * 1024 * 1024, env: process.env },
  );
  const lastLine = stdout.trimEnd().split('\n').at(-1) ?? '[]';
  return JSON.parse(lastLine) as Metric[];
}

/** Where a run writes its figures (ignored by git), and the committed reference figures `--save` updates. */
const outFile = fileURLToPath(new URL('./.out/results.json', import.meta.url));
const referenceFile = fileURLToPath(new URL('./results.json', import.meta.url));

async function readMetrics(file: string): Promise<Record<string, Metric> | undefined> {
  return readFile(file, 'utf8').then(
    (text) => (JSON.parse(text) as { metrics?: Record<string, Metric> }).metrics ?? {},
    () => undefined,
  );
}

async function main(args: string[]): Promise<number> {
  const save = args.includes('--save');
  const selected = args.filter((arg) => arg !== '--save');
  const names = selected.length ? selected : Object.keys(suites);
  const unknown = names.filter((name) => !suites[name]);
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: unknown suite(s) ${unknown.join(', ')} (known: ${Object.keys(suites).join(', ')})\n`,
    );
    return 2;
  }
  const results: Record<string, Metric> = {};
  let missed = 0;
  for (const name of names) {
    process.stderr.write(`bench: running ${name}…\n`);
    for (const metric of await runInChild(name)) {
      results[metric.name] = metric;
      if (meetsTarget(metric) === false) missed++;
    }
  }
  const rows = Object.values(results).map((m) => [m.name, formatValue(m), formatTarget(m), m.note ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length), 6));
  for (const row of rows) {
    process.stdout.write(
      `${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell)).join('  ')}\n`,
    );
  }
  // A run of some suites updates their figures and keeps the others' from earlier runs.
  const earlier = (await readMetrics(outFile)) ?? (await readMetrics(referenceFile)) ?? {};
  const measuredAt = new Date().toISOString();
  const machine = {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
  };
  const measured = Object.fromEntries(Object.values(results).map((m) => [m.name, { ...m, measuredAt }]));
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify({ machine, metrics: { ...earlier, ...measured } }, null, 2)}\n`);
  const written = ['bench/.out/results.json'];
  if (save) {
    const reference = (await readMetrics(referenceFile)) ?? {};
    await writeFile(
      referenceFile,
      `${JSON.stringify({ machine, metrics: { ...reference, ...measured } }, null, 2)}\n`,
    );
    written.push('bench/results.json (the reference figures)');
  }
  process.stdout.write(`\nwrote ${written.join(' and ')}${missed ? ` (${missed} target(s) missed)` : ''}\n`);
  return 0;
}

const args = process.argv.slice(2);
const run = args[0] === SUITE_FLAG ? runOne(args[1] ?? '') : main(args);
run.then((code) => {
  process.exitCode = code;
});
