import { readCommandLine } from '../../shared/command-line';
import { ListingFetchError } from '../../shared/fetch/http';
import { loadHandlers } from '../handlers';
import { openLocalStack } from '../stack';
import {
  describeSummary,
  ingestFromCommandLine,
  ingestOptions,
  ingestRequestFrom,
  noNetworkHint,
} from './ingest';
import { DEFAULT_PORT, portOption, serveQueryApi, untilStopped, usageBanner } from './serve';

export const usage = `usage: npm start [-- [--date YYYY-MM-DD] [--source FILE-OR-URL] [--port P]]
   or: npm run -s papers -- start [--date YYYY-MM-DD] [--source FILE-OR-URL] [--port P]
Ingests a listing as \`papers ingest\` does, then serves the query API until Ctrl-C.
  --date    the listing day to fetch (default: today in UTC); with a --source file, the day it stands for
            (default: the day the file names; refused when the file names another)
  --source  a saved listing file, or another URL, to ingest instead of the live listing
  --port    the port of the query API (default ${DEFAULT_PORT}; 0 picks a free one)
`;

/**
 * `npm start [-- --date D | --source FILE-OR-URL] [--port P]`: the whole pipeline
 * on one machine — ingest a listing through the four handlers on the local
 * stack, then serve the query API until Ctrl-C. While it runs, the CLI in
 * another terminal connects to the same stack.
 * @throws UsageError for a mistake on the command line, before the stack is opened.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, { ...ingestOptions, port: { type: 'string' } });
  const request = ingestRequestFrom(values);
  const port = values.port === undefined ? DEFAULT_PORT : portOption(values.port);
  const stack = await openLocalStack();
  try {
    const handlers = await loadHandlers(stack);
    try {
      const summary = await ingestFromCommandLine(stack, handlers, request);
      process.stderr.write(describeSummary(summary, process.env.POWERTOOLS_LOG_LEVEL));
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
