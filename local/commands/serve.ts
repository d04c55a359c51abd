import { createServer, type Server } from 'node:net';
import * as z from 'zod';
import { readCommandLine, UsageError } from '../../shared/command-line';
import { IngestedDaySchema, ListedPaperSchema } from '../../shared/query/response-schemas';
import { loadQueryHandler } from '../handlers';
import {
  createFunctionUrlServer,
  type FunctionUrlHandler,
  functionUrlEvent,
  localLambdaContext,
} from '../http-adapter';
import { cachingHandler, type ResponseCacheStats } from '../response-cache';
import { type StopSignal, stopCause, untilStopped } from '../shutdown';
import { type LocalStack, stoppedError, watchOwner } from '../stack';

/**
 * `npm run -s papers -- serve [--port P] [--host H] [--no-cache]`: the query API over HTTP,
 * through the real `functions/query.ts` handler (as behind a Function URL), against the local
 * stack, with the answers cached until the table changes (`local/response-cache.ts`, as
 * CloudFront caches them in front of the deployed API). Stops cleanly on SIGINT or SIGTERM.
 */

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = '127.0.0.1';

export interface QueryApiServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The query handler it serves, for in-process calls (past the cache). */
  handler: FunctionUrlHandler;
  /** The cache's counts; undefined when it serves without one. */
  cacheStats(): ResponseCacheStats | undefined;
  /** Stops accepting connections and closes idle ones; the local stack stays open. */
  close(): Promise<void>;
}

export interface ServeQueryApiOptions {
  /** The local stack's environment (`LocalStack.env`): table name and DynamoDB endpoint. */
  env: Record<string, string>;
  /** Default {@link DEFAULT_PORT}; 0 picks a free port. */
  port?: number;
  host?: string;
  /**
   * The table's version (`LocalStack.tableVersion`): answers are cached while it is unchanged.
   * Without it every request goes to the handler.
   */
  tableVersion?: () => Promise<string>;
}

/**
 * Serves the query API on `host:port`. Sets `process.env` from `env` before
 * loading the handler, which reads its configuration once, at import (its cold
 * start): every later call in the same process uses the first one's table.
 * @throws when the port is taken (the message says which and how to pick another).
 */
export async function serveQueryApi({
  env,
  port = DEFAULT_PORT,
  host = DEFAULT_HOST,
  tableVersion,
}: ServeQueryApiOptions): Promise<QueryApiServer> {
  const handler = await loadQueryHandler(env);
  const cache = tableVersion ? cachingHandler(handler, { tableVersion }) : undefined;
  const server = createFunctionUrlServer(cache?.handler ?? handler, 'query');
  const bound = await listenOn(server, port, host);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    handler,
    cacheStats: () => cache?.stats(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** The port asked for is taken by another process. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    super(`port ${port} on ${host} is in use: pass --port with another one (0 picks a free port)`);
  }
}

/** Starts `server` listening; resolves with the port bound. @throws PortInUseError when it is taken. */
async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, host) : error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}

/**
 * Binds `host:port` and holds it, answering nothing, until released: `npm start` takes its port
 * before it ingests, so a port in use fails at once rather than after the whole run.
 * @returns the port held (the one picked, for 0) and how to let it go, just before serving on it.
 * @throws PortInUseError when it is taken.
 */
export async function holdPort(
  port: number,
  host: string,
): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer((socket) => socket.destroy());
  const held = await listenOn(server, port, host);
  let released: Promise<void> | undefined;
  return {
    port: held,
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}

/**
 * Serves until stopped: a signal (SIGINT, SIGTERM, SIGHUP, the launcher gone) resolves with
 * its name; for a client, the owner of the stack stopping resolves with `owner-stopped`.
 * The stack no longer waits for this process when its owner stops.
 */
export async function serveUntilStopped(stack: LocalStack): Promise<StopSignal | 'owner-stopped'> {
  await stack.stopHoldingOwner();
  const owner = watchOwner(stack);
  try {
    return await Promise.race([untilStopped(), owner.stopped.then(() => 'owner-stopped' as const)]);
  } finally {
    owner.cancel();
  }
}

/** The URL and a few requests to try, one per route, with a day and a paper the table holds when it holds any. */
export async function usageBanner(api: Pick<QueryApiServer, 'url' | 'handler'>): Promise<string> {
  const day = (await firstItem(api.handler, '/days?limit=1', IngestedDaySchema))?.day;
  const date = day ?? new Date().toISOString().slice(0, 10);
  const paper = day
    ? await firstItem(api.handler, `/papers?date=${day}&limit=1`, ListedPaperSchema)
    : undefined;
  const { url } = api;
  return [
    `query API on ${url}  (Ctrl-C to stop)`,
    day ? `latest ingested day: ${day}` : 'no days ingested yet: run `npm run -s papers -- ingest` first',
    'try:',
    `  curl -s '${url}/days'`,
    `  curl -s '${url}/papers?date=${date}&limit=5'`,
    `  curl -s '${url}/papers?category=${paper?.primaryCategory ?? 'cs.CL'}&from=${date}&to=${date}'`,
    `  curl -s '${url}/papers/${paper?.id ?? '2410.17243'}'`,
    '',
  ].join('\n');
}

async function firstItem<T>(
  handler: FunctionUrlHandler,
  url: string,
  schema: z.core.$ZodType<T>,
): Promise<T | undefined> {
  const result = await handler(functionUrlEvent({ method: 'GET', url }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode !== 200 || !result.body) return undefined;
  const page = z.object({ items: z.array(schema) }).safeParse(JSON.parse(result.body));
  return page.success ? page.data.items[0] : undefined;
}

export const usage = `usage: npm run -s papers -- serve [--port P] [--host H] [--no-cache]
  --port      the port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host      the address to listen on (default ${DEFAULT_HOST})
  --no-cache  send every request to the handler (by default an answer is reused until the
              table changes or its max-age runs out; x-cache says which it was)
`;

/** The value of `--port`. @throws UsageError unless it is a port number, 0 to 65535. */
export function portOption(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new UsageError(`--port must be a port number from 0 to 65535, got "${value}"`);
  }
  return Number(value);
}

/** @throws UsageError for a mistake on the command line, before the stack is opened. */
export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'no-cache': { type: 'boolean' },
  });
  const options = {
    port: values.port === undefined ? DEFAULT_PORT : portOption(values.port),
    host: values.host ?? DEFAULT_HOST,
  };
  const { openLocalStack } = await import('../stack');
  const stack = await openLocalStack();
  let api: QueryApiServer;
  try {
    api = await serveQueryApi({
      env: stack.env,
      ...options,
      ...(values['no-cache'] ? {} : { tableVersion: () => stack.tableVersion() }),
    });
  } catch (error) {
    await stack.close();
    process.stderr.write(`papers serve: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  process.stderr.write(await usageBanner(api));
  const stopped = await serveUntilStopped(stack);
  await api.close();
  await stack.close();
  if (stopped === 'owner-stopped') {
    process.stderr.write(`papers serve: ${stoppedError(stack).message}\n`);
    return 1;
  }
  process.stderr.write(`papers serve: ${stopCause(stopped)}, stopping\n`);
  return 0;
}
