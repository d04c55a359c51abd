/**
 * For each function's production bundle, built with esbuild and the very
 * options the CDK construct uses (`infra/bundling.ts`):
 *
 * - `bundle.<function>.bytes`: size of `index.mjs` (the source map is a separate
 *   file Lambda reads only when an error is mapped). Target: under 1 MB with the
 *   SDK clients the function uses bundled in; the note lists them.
 * - `bundle.classify-paper.modelBytes`: the classifier model copied beside its bundle.
 * - `bundle.<function>.initMs`: median wall time of a fresh `node` process that
 *   loads the bundle (module evaluation included: config parsed, clients built,
 *   the classifier's model read), minus the median for an empty script, both
 *   with the function's environment as deployed (`NODE_OPTIONS=--enable-source-maps`
 *   included). Samples alternate between the two scripts so drift hits both.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  bundleOptions,
  classifierModel,
  esbuildOptions,
  type FunctionName,
  functionEntries,
} from '../../infra/bundling';
import { METRICS_NAMESPACE } from '../../shared/telemetry';
import { type BenchSuite, type Metric, median } from '../harness';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT_DIR = path.join(ROOT, 'bench/.out/bundles');
const MAX_BUNDLE_BYTES = 1_000_000;
const SAMPLES = 15;
const WARMUP = 2;

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012';

/** What each function finds in its environment on AWS (values are plausible stand-ins for the stack's tokens). */
const deployedEnvironment: Record<FunctionName, Record<string, string>> = {
  'fetch-listing': {
    ARCHIVE_BUCKET: 'dailypaperspipeline-listingarchive-1a2b3c4d5e6f',
    PARSE_QUEUE_URL: `${QUEUE_URL}/DailyPapersPipeline-ParseQueue-AbCdEf`,
    TABLE_NAME: 'DailyPapersPipeline-Papers-AbCdEf',
  },
  'parse-paper': {
    TABLE_NAME: 'DailyPapersPipeline-Papers-AbCdEf',
    CLASSIFY_QUEUE_URL: `${QUEUE_URL}/DailyPapersPipeline-ClassifyQueue-AbCdEf`,
  },
  'classify-paper': { TABLE_NAME: 'DailyPapersPipeline-Papers-AbCdEf' },
  query: { TABLE_NAME: 'DailyPapersPipeline-Papers-AbCdEf' },
};

function lambdaEnvironment(name: FunctionName): NodeJS.ProcessEnv {
  // Start from a clean slate: the developer's own AWS_* or endpoint variables must not leak in.
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
    ...deployedEnvironment[name],
  };
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(full) : statSync(full).size;
  }
  return total;
}

interface BuiltBundle {
  name: FunctionName;
  file: string;
  bytes: number;
  sdkClients: string[];
  modelBytes?: number;
}

async function buildBundle(name: FunctionName): Promise<BuiltBundle> {
  const dir = path.join(OUT_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, bundleOptions.outFileName);
  // metafile only reports what went in; it does not change the output.
  const result = await build({
    ...esbuildOptions(path.join(ROOT, functionEntries[name]), file),
    absWorkingDir: ROOT,
    metafile: true,
  });
  // A client counts as bundled when its code is in the output, not merely imported and shaken away.
  const clientBytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(
    result.metafile.outputs[path.relative(ROOT, file)]?.inputs ?? {},
  )) {
    const client = input.match(/node_modules\/@aws-sdk\/((client|lib)-[^/]+)/)?.[1];
    if (client) clientBytes.set(client, (clientBytes.get(client) ?? 0) + bytesInOutput);
  }
  const sdkClients = [...clientBytes]
    .filter(([, bytes]) => bytes >= 1024)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([client, bytes]) => `${client} ${Math.round(bytes / 1024)} KB`);
  const built: BuiltBundle = { name, file, bytes: statSync(file).size, sdkClients };
  if (name === 'classify-paper') {
    const source = path.join(ROOT, classifierModel.sourceDir);
    if (existsSync(source)) {
      const target = path.join(dir, classifierModel.bundleDirName);
      cpSync(source, target, { recursive: true });
      built.modelBytes = directoryBytes(target);
    }
  }
  return built;
}

/** Wall time of one fresh `node` process running `script`; throws with its stderr if it fails. */
function timeProcess(script: string, env: NodeJS.ProcessEnv): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, [script], { env, cwd: path.dirname(script), encoding: 'utf8' });
  const elapsed = performance.now() - start;
  if (run.status !== 0) {
    throw new Error(
      `node ${path.relative(ROOT, script)} exited ${run.status}: ${run.stderr.trim().slice(0, 500)}`,
    );
  }
  return elapsed;
}

function initMs(bundle: BuiltBundle, emptyScript: string): { value: number; note?: string } {
  const env = lambdaEnvironment(bundle.name);
  try {
    const loaded: number[] = [];
    const empty: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const withBundle = timeProcess(bundle.file, env);
      const baseline = timeProcess(emptyScript, env);
      if (i >= WARMUP) {
        loaded.push(withBundle);
        empty.push(baseline);
      }
    }
    return { value: median(loaded) - median(empty) };
  } catch (error) {
    return { value: Number.NaN, note: `failed to load: ${(error as Error).message}` };
  }
}

export const suite: BenchSuite = {
  name: 'bundle',
  async run(): Promise<Metric[]> {
    mkdirSync(OUT_DIR, { recursive: true });
    const emptyScript = path.join(OUT_DIR, 'empty.mjs');
    writeFileSync(emptyScript, '');

    const metrics: Metric[] = [];
    for (const name of Object.keys(functionEntries) as FunctionName[]) {
      const bundle = await buildBundle(name);
      metrics.push({
        name: `bundle.${name}.bytes`,
        value: bundle.bytes,
        unit: 'B',
        target: { max: MAX_BUNDLE_BYTES },
        note: bundle.sdkClients.length ? `SDK: ${bundle.sdkClients.join(', ')}` : 'no AWS SDK client',
      });
      if (bundle.modelBytes !== undefined) {
        metrics.push({
          name: `bundle.${name}.modelBytes`,
          value: bundle.modelBytes,
          unit: 'B',
          note: 'model/ beside the bundle',
        });
      } else if (name === 'classify-paper') {
        metrics.push({
          name: `bundle.${name}.modelBytes`,
          value: Number.NaN,
          unit: 'B',
          note: `no model at ${classifierModel.sourceDir}`,
        });
      }
      const init = initMs(bundle, emptyScript);
      metrics.push({
        name: `bundle.${name}.initMs`,
        value: init.value,
        unit: 'ms',
        note: init.note ?? `median of ${SAMPLES} fresh processes minus an empty script's`,
      });
    }
    return metrics;
  },
};
