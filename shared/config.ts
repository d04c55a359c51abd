/**
 * Environment schemas, one per function, checked once at cold start: a
 * misconfigured function fails at load with a message that names the variable,
 * not halfway through a batch.
 *
 * Each function's schema lives in its own module under `shared/env/`, and each handler
 * imports only its own (and `loadConfig` from `shared/env/load-config.ts`): zod builds a
 * schema when its module loads, so a module holding all five made every cold start build
 * the four schemas its function never reads (99 zod schema objects, the largest share of the
 * ~500 a function built at load). This module gathers them for the stack, the local CLI and
 * the tests.
 */
export { type ArxivEnv, ArxivEnvSchema } from './env/arxiv';
export { type ClassifyPaperEnv, ClassifyPaperEnvSchema } from './env/classify-paper';
export {
  type FetchListingEnv,
  FetchListingEnvSchema,
  type FetchRunEnv,
  FetchRunEnvSchema,
  fetchRunSettings,
} from './env/fetch-listing';
export { ConfigError, loadConfig } from './env/load-config';
export { type ParsePaperEnv, ParsePaperEnvSchema } from './env/parse-paper';
export { type QueryEnv, QueryEnvSchema } from './env/query';
