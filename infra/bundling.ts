/**
 * How every Lambda bundle is built, written once: `infra/pipeline-function.ts`
 * hands these options to `NodejsFunction` (local esbuild) and
 * `bench/suites/bundle.ts` hands the same options to esbuild directly, so the
 * benchmark measures exactly what is deployed.
 *
 * Plain data and one pure function: no CDK import, so the benchmark loads fast.
 */
import type { BuildOptions } from 'esbuild';

/** The Lambda runtime's Node major; the esbuild target follows it. */
export const NODE_MAJOR = 24;

/** Each function's entry file, relative to the project root, keyed by its service name. */
export const functionEntries = {
  'fetch-listing': 'functions/fetch-listing.ts',
  'parse-paper': 'functions/parse-paper.ts',
  'classify-paper': 'functions/classify-paper.ts',
  query: 'functions/query.ts',
} as const;
export type FunctionName = keyof typeof functionEntries;

/**
 * The classifier's committed model (relative to the project root). It is copied
 * next to the classify bundle as `model/`, where the handler loads it from.
 */
export const classifierModel = {
  sourceDir: 'shared/classify/model',
  bundleDirName: 'model',
} as const;

/**
 * The query API's web page (HTML, CSS, JS; relative to the project root) and its OpenAPI document,
 * copied next to the query bundle as `web/`, where `shared/query/web-page.ts` reads the page on the
 * first `GET /` and `http-api.ts` the document on the first `GET /openapi.json`.
 */
export const webPageAssets = {
  sourceDir: 'shared/query/web',
  bundleDirName: 'web',
} as const;

/**
 * ESM needs no `require`, but a few CommonJS dependencies call it for Node
 * built-ins; esbuild's ESM output then needs a real one in scope.
 */
const requireShim =
  "import{createRequire as __createRequire}from'node:module';const require=__createRequire(import.meta.url);";

export const bundleOptions = {
  target: `node${NODE_MAJOR}`,
  platform: 'node',
  format: 'esm',
  /** `NodejsFunction` names an ESM bundle `index.mjs`; the benchmark uses the same name. */
  outFileName: 'index.mjs',
  minify: true,
  /**
   * External `.map` files, uploaded with the code for mapping a logged stack trace back to the
   * sources. Node reads one only under `--enable-source-maps`: Node 24 (Lambda's) at the first
   * stack trace through the bundle, Node 20 while it loads the bundle (see
   * `PipelineFunctionProps.sourceMapsAtRuntime`, off by default).
   */
  sourcemap: true,
  /** Mappings only; the sources are in the repository, not in every deployment package. */
  sourcesContent: false,
  treeShaking: true,
  /** Prefer packages' ES module builds (the AWS SDK ships both), which tree-shake better. */
  mainFields: ['module', 'main'],
  banner: requireShim,
  /**
   * The SDK's default credential chain is replaced by the environment provider, the only one
   * Lambda needs (`shared/aws/lambda-credentials.ts`): paths relative to the project root.
   */
  alias: { '@aws-sdk/credential-provider-node': './shared/aws/lambda-credentials.ts' } as Record<
    string,
    string
  >,
  /**
   * Nothing is external: the AWS SDK clients a function uses are bundled at the
   * version in the lockfile instead of whatever version the runtime carries.
   */
  external: [] as string[],
} as const;

/** esbuild's own build options for one function, equal to what `NodejsFunction` runs. */
export function esbuildOptions(entryPoint: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    target: bundleOptions.target,
    platform: bundleOptions.platform,
    format: bundleOptions.format,
    minify: bundleOptions.minify,
    sourcemap: bundleOptions.sourcemap,
    sourcesContent: bundleOptions.sourcesContent,
    treeShaking: bundleOptions.treeShaking,
    mainFields: [...bundleOptions.mainFields],
    banner: { js: bundleOptions.banner },
    alias: { ...bundleOptions.alias },
    external: [...bundleOptions.external],
    logLevel: 'warning',
  };
}
