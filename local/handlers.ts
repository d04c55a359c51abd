import type { FunctionUrlHandler } from './http-adapter';
import type { LocalStack } from './stack';

/**
 * Loads the four Lambda handlers, unchanged, in this process, configured for
 * the local stack. Each handler reads its environment once at module load (as
 * on Lambda), so the environment is set before the first import, and one
 * process serves one stack.
 */
export async function loadHandlers(stack: LocalStack) {
  Object.assign(process.env, localEnvironment(stack.env));
  const [fetchListing, parsePaper, classifyPaper, query] = await Promise.all([
    import('../functions/fetch-listing'),
    import('../functions/parse-paper'),
    import('../functions/classify-paper'),
    import('../functions/query'),
  ]);
  return {
    fetchListing: fetchListing.handler,
    parsePaper: parsePaper.handler,
    classifyPaper: classifyPaper.handler,
    query: query.handler,
  };
}

export type LocalHandlers = Awaited<ReturnType<typeof loadHandlers>>;

/**
 * The query handler alone, configured by `env` (a stack's, or a variation of it in tests).
 * Like every handler it reads its environment at its first import only.
 */
export async function loadQueryHandler(env: Record<string, string>): Promise<FunctionUrlHandler> {
  Object.assign(process.env, localEnvironment(env));
  const { handler } = await import('../functions/query');
  return handler;
}

/** A stack's resource names and endpoints, plus quiet Powertools output for a terminal. */
export function localEnvironment(env: Record<string, string>): Record<string, string> {
  return {
    ...env,
    // EMF metrics are for CloudWatch; locally they would only clutter the terminal.
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Errors only by default (to stderr, so the CLI's stdout stays pure data): a poison message
    // would otherwise log a warning on every retry. PAPERS_LOG_LEVEL=WARN shows why records failed.
    POWERTOOLS_LOG_LEVEL: process.env.PAPERS_LOG_LEVEL ?? 'ERROR',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
