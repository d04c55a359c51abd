import { parseArgs } from 'node:util';
import { ListingFetchError } from '../../shared/fetch/http';
import { loadHandlers } from '../handlers';
import { runIngest } from '../ingest';
import { openLocalStack } from '../stack';
import { describeSummary, ingestOptions, ingestRequestFrom, noNetworkHint } from './ingest';
import { DEFAULT_PORT, serveQueryApi, untilStopped, usageBanner } from './serve';

/**
 * `npm start [-- --date D | --source FILE-OR-URL] [--port P]`: the whole pipeline
 * on one machine — ingest a listing through the four handlers on the local
 * stack, then serve the query API until Ctrl-C. While it runs, the CLI in
 * another terminal connects to the same stack.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...ingestOptions, port: { type: 'string' } },
    allowPositionals: false,
  });
  const request = ingestRequestFrom(values);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`papers start: --port must be 0-65535, got "${values.port}"\n`);
    return 2;
  }
  const stack = await openLocalStack();
  try {
    const handlers = await loadHandlers(stack);
    try {
      const summary = await runIngest(stack, handlers, request);
      process.stderr.write(describeSummary(summary));
    } catch (error) {
      if (!(error instanceof ListingFetchError)) throw error;
      process.stderr.write(noNetworkHint(error));
      return 1;
    }
    const api = await serveQueryApi({ env: stack.env, port });
    process.stderr.write(await usageBanner(api));
    const signal = await untilStopped();
    process.stderr.write(`papers start: ${signal}, stopping\n`);
    await api.close();
    return 0;
  } finally {
    await stack.close();
  }
}
