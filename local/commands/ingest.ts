import { fileURLToPath } from 'node:url';
import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import {
  displayPath,
  isoDayOption,
  readCommandLine,
  resolveUserPath,
  UsageError,
} from '../../shared/command-line';
import { ListingFetchError } from '../../shared/fetch/http';
import { type LocalHandlers, loadHandlers } from '../handlers';
import { type IngestRequest, type IngestSummary, ListingDayConflictError, runIngest } from '../ingest';
import type { LocalStack } from '../stack';
import { openLocalStack } from '../stack';

export const usage = `usage: npm run -s papers -- ingest [--date YYYY-MM-DD] [--source FILE-OR-URL]
  --date    the listing day to fetch (default: today in UTC); with a --source file, the day it stands for
            (default: the day the file names; refused when the file names another)
  --source  a saved listing file, or another URL, to ingest instead of the live listing
Exit code 1 when a listing was malformed, could not be fetched, or anything reached a dead-letter queue.
`;

/** The sample listing that ships with the project (local/sample/README.md), from the project root. */
export const SAMPLE_LISTING_PATH = 'local/sample/hf-daily-papers-2026-06-12.json';

/** Options shared by `papers ingest` and `npm start`. */
export const ingestOptions = {
  date: { type: 'string' },
  source: { type: 'string' },
} as const;

/** @throws UsageError when `--date` is not a real day. */
export function ingestRequestFrom(values: { date?: string; source?: string }): IngestRequest {
  return {
    date: values.date === undefined ? undefined : isoDayOption('--date', values.date),
    // A URL stays as given; a file path is the user's, from the folder they ran the command in.
    source:
      values.source === undefined || /^[a-z][a-z\d+.-]*:\/\//i.test(values.source)
        ? values.source
        : resolveUserPath(values.source),
  };
}

/**
 * `papers ingest [--date D] [--source FILE-OR-URL]`: one run on the local stack; exit 1 if a listing
 * was malformed or anything reached a DLQ.
 * @throws UsageError for a mistake on the command line, before the stack is opened.
 */
export async function run(args: string[]): Promise<number> {
  const request = ingestRequestFrom(readCommandLine(args, ingestOptions).values);
  const stack = await openLocalStack();
  try {
    const handlers = await loadHandlers(stack);
    const summary = await ingestFromCommandLine(stack, handlers, request);
    process.stderr.write(describeSummary(summary, process.env.POWERTOOLS_LOG_LEVEL));
    const malformed = summary.listings.some((listing) => listing.malformed !== undefined);
    return malformed || summary.deadLettered.parse + summary.deadLettered.classify > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof ListingFetchError) {
      process.stderr.write(noNetworkHint(error));
      return 1;
    }
    throw error;
  } finally {
    await stack.close();
  }
}

/** {@link runIngest}, with a `--date` the saved file contradicts reported as the usage mistake it is. */
export async function ingestFromCommandLine(
  stack: LocalStack,
  handlers: LocalHandlers,
  request: IngestRequest,
): Promise<IngestSummary> {
  try {
    return await runIngest(stack, handlers, request);
  } catch (error) {
    if (error instanceof ListingDayConflictError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/**
 * Whether the handlers, logging at `handlerLogLevel` (their `POWERTOOLS_LOG_LEVEL`), leave out
 * the warnings that say why a record failed. Read as Powertools reads the variable: trimmed,
 * case-sensitive, and an unknown level falls back to INFO, which shows them.
 */
export function hidesRecordWarnings(handlerLogLevel: string | undefined): boolean {
  const thresholds: Readonly<Record<string, number>> = LogLevelThreshold;
  const level = handlerLogLevel?.trim() ?? '';
  const threshold = Object.hasOwn(thresholds, level) ? thresholds[level] : undefined;
  return (threshold ?? LogLevelThreshold.INFO) > LogLevelThreshold.WARN;
}

/**
 * The run's summary for stderr. When records failed and `handlerLogLevel` hides the
 * handlers' warnings, it ends with how to see why.
 */
export function describeSummary(summary: IngestSummary, handlerLogLevel: string | undefined): string {
  const lines = summary.listings.map(
    (listing) =>
      `  ${listing.malformed ? 'MALFORMED' : listing.format} ${listing.url}\n` +
      `    archived as ${listing.archiveKey}${listing.archived ? '' : ' (identical bytes already archived)'}` +
      (listing.malformed ? `\n    ${listing.malformed}` : ''),
  );
  const dead = summary.deadLettered.parse + summary.deadLettered.classify;
  const hint =
    summary.failedAttempts > 0 && hidesRecordWarnings(handlerLogLevel)
      ? '(set PAPERS_LOG_LEVEL=WARN to log why each record failed)\n'
      : '';
  return (
    `ingest ${summary.day}: listed ${summary.listed}, new ${summary.new}, updated ${summary.updated}, ` +
    (summary.stale > 0 ? `stale ${summary.stale} (the table holds a newer fetch), ` : '') +
    `failed ${dead}, in the DLQ ${dead} (parse ${summary.deadLettered.parse}, classify ${summary.deadLettered.classify}); ` +
    `failed attempts ${summary.failedAttempts}\n${lines.join('\n')}\n${hint}`
  );
}

export function noNetworkHint(error: ListingFetchError): string {
  const sample = displayPath(fileURLToPath(new URL(`../../${SAMPLE_LISTING_PATH}`, import.meta.url)));
  return (
    `papers: could not fetch the listing: ${error.message}\n` +
    'No network? Ingest a saved listing instead, e.g.\n' +
    `  npm start -- --source ${sample}\n` +
    `  npm run -s papers -- ingest --source ${sample}\n`
  );
}
