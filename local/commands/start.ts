import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { displayPath, readCommandLine } from '../../shared/command-line';
import { FetchListingEnvSchema } from '../../shared/config';
import { fetchListing, ListingFetchError } from '../../shared/fetch/http';
import * as z from '../../shared/zod';
import type { IngestRequest } from '../ingest';
import { stopCause } from '../shutdown';
import { defaultDataDir, openLocalStack, sampleDataDir, stoppedError } from '../stack';
import {
  describeFetchFailure,
  describeSummary,
  ingestFromCommandLine,
  ingestOptions,
  ingestOptionsUsage,
  ingestRequestFrom,
  loadCliHandlers,
  SAMPLE_LISTING_PATH,
} from './ingest';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  holdPort,
  PortInUseError,
  portOption,
  serveQueryApi,
  serveUntilStopped,
  usageBanner,
} from './serve';

export const usage = `usage: npm start [-- [--date YYYY-MM-DD] [--source FILE-OR-URL] [--fetched-at ISO] [--revisit N] [--port P] [--host H]]
   or: npm run -s papers -- start [--date YYYY-MM-DD] [--source FILE-OR-URL] [--fetched-at ISO] [--revisit N] [--port P] [--host H]
Ingests a listing as \`papers ingest\` does, then serves the query API until Ctrl-C.
With neither --date nor --source it ingests today's listing, or, when that cannot be fetched (no
network), the sample listing that ships with the project, into a data folder of its own.
${ingestOptionsUsage}
  --port        the port of the query API (default ${DEFAULT_PORT}; 0 picks a free one)
  --host        the address of the query API (default ${DEFAULT_HOST})
`;

/** The sample listing, wherever the command is run from. */
const SAMPLE_LISTING = fileURLToPath(new URL(`../../${SAMPLE_LISTING_PATH}`, import.meta.url));

/**
 * `npm start [-- --date D | --source FILE-OR-URL] [--port P] [--host H]`: the whole pipeline on
 * one machine — ingest a listing through the four handlers on the local stack, then serve the
 * query API until Ctrl-C. While it runs, the CLI in another terminal connects to the same stack.
 *
 * Its port is taken first, so a port in use fails (exit 1) before anything is ingested. Plain
 * `npm start` with no network ingests the sample listing instead, into `<data folder>/sample`,
 * never into the folder that holds the real days.
 * @throws UsageError for a mistake on the command line, before the stack is opened.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, {
    ...ingestOptions,
    port: { type: 'string' },
    host: { type: 'string' },
  });
  const asked = ingestRequestFrom(values);
  const host = values.host ?? DEFAULT_HOST;
  let port: Awaited<ReturnType<typeof holdPort>>;
  try {
    port = await holdPort(values.port === undefined ? DEFAULT_PORT : portOption(values.port), host);
  } catch (error) {
    if (!(error instanceof PortInUseError)) throw error;
    process.stderr.write(`papers start: ${error.message}\n`);
    return 1;
  }
  try {
    const { request, dataDir, sample } = await planRun(asked);
    const stack = await openLocalStack({ dataDir });
    try {
      const handlers = await loadCliHandlers(stack);
      try {
        const summary = await ingestFromCommandLine(stack, handlers, request);
        process.stderr.write(describeSummary(summary, process.env.POWERTOOLS_LOG_LEVEL));
      } catch (error) {
        const failure = describeFetchFailure(error);
        if (failure === undefined) throw error;
        process.stderr.write(failure);
        return 1;
      }
      await port.release();
      const api = await serveQueryApi({
        env: stack.env,
        port: port.port,
        host,
        tableVersion: () => stack.tableVersion(),
      });
      process.stderr.write(await usageBanner(api));
      process.stderr.write(dataFolderLines(dataDir, sample));
      const stopped = await serveUntilStopped(stack);
      await api.close();
      if (stopped === 'owner-stopped') {
        process.stderr.write(`papers start: ${stoppedError(stack).message}\n`);
        return 1;
      }
      process.stderr.write(`papers start: ${stopCause(stopped)}, stopping\n`);
      return 0;
    } catch (error) {
      if (await stack.ownerStopped()) throw stoppedError(stack, error);
      throw error;
    } finally {
      await stack.close();
    }
  } finally {
    await port.release();
  }
}

/**
 * What to ingest, and into which data folder. Plain `npm start` first checks that today's listing
 * can be fetched (one GET, as fetch-listing would make it): the handlers serve one stack per
 * process, so the sample's folder has to be chosen before they load.
 */
async function planRun(
  asked: IngestRequest,
): Promise<{ request: IngestRequest; dataDir: string; sample: boolean }> {
  const dataDir = defaultDataDir();
  if (asked.date !== undefined || asked.source !== undefined)
    return { request: asked, dataDir, sample: false };
  const problem = await todaysListingUnreachable();
  if (problem === undefined) return { request: asked, dataDir, sample: false };
  process.stderr.write(
    `papers start: could not fetch today's listing (${problem}): ingesting the sample listing that ships with the project instead\n`,
  );
  return { request: { source: SAMPLE_LISTING }, dataDir: sampleDataDir(dataDir), sample: true };
}

/** Why today's listing cannot be fetched, or undefined when it can. */
async function todaysListingUnreachable(): Promise<string | undefined> {
  const env = z
    .pick(FetchListingEnvSchema, { LISTING_URL_TEMPLATE: true, USER_AGENT: true })
    .safeParse(process.env);
  // A template fetch-listing would refuse is for it to report, with its own message.
  if (!env.success) return undefined;
  const today = new Date().toISOString().slice(0, 10);
  try {
    await fetchListing(env.data.LISTING_URL_TEMPLATE.replaceAll('{date}', today), {
      userAgent: env.data.USER_AGENT,
      timeoutMs: 10_000,
      maxAttempts: 1,
    });
    return undefined;
  } catch (error) {
    if (error instanceof ListingFetchError) return error.message;
    throw error;
  }
}

/** Which data folder the API serves, and for the sample, how to reach it and how to get real data. */
function dataFolderLines(dataDir: string, sample: boolean): string {
  const folder = displayPath(dataDir);
  if (!sample) return `data folder: ${folder}\n`;
  return [
    `data folder: ${folder}, the sample listing only (kept apart from the real days in ${displayPath(path.dirname(dataDir))})`,
    `  from another terminal: PAPERS_DATA_DIR=${folder} npm run -s papers -- query --days`,
    'for real data, with network: npm start -- --date YYYY-MM-DD',
    '  or from a saved listing or another URL: npm start -- --source FILE-OR-URL',
    '',
  ].join('\n');
}
