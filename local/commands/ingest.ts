import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import {
  displayPath,
  isoDayOption,
  readCommandLine,
  resolveUserPath,
  UsageError,
} from '../../shared/command-line';
import { ListingFetchError } from '../../shared/fetch/http';
import { listingUrlFor, urlTemplateOption } from '../../shared/history/day-range';
import {
  checkListingDay,
  firstListingDayOf,
  HF_DAILY_PAPERS_FIRST_DAY,
  ListingDayOutOfRangeError,
} from '../../shared/listing/listing-days';
import { MAX_REVISIT_DAYS } from '../../shared/messages';
import { MalformedListingError } from '../../shared/pipeline/ingest-listing';
import { FetchDeadLetteredError, invokedAsynchronously, type LocalHandlers, loadHandlers } from '../handlers';
import {
  type IngestRequest,
  type IngestSummary,
  InvalidSourceError,
  ListingDayConflictError,
  listingSource,
  runIngest,
} from '../ingest';
import { type LocalStack, sampleDataDir, withLocalStack } from '../stack';

/** The options `papers ingest` and `npm start` share, as their usage describes them. */
export const ingestOptionsUsage = `  --date        the listing day to fetch (default: today in UTC); with a --source file, the day it
                stands for (default: the day the file names, else the day it was captured; refused
                when the file names another). A day after tomorrow (UTC), or before the source's
                first day (HF Daily Papers: ${HF_DAILY_PAPERS_FIRST_DAY}), is refused.
  --source      a saved listing (a path or a file:// URL), or another http(s) URL, to ingest instead
                of the live listing
  --fetched-at  when the saved listing was captured (ISO 8601, e.g. 2026-06-12T23:30:00Z); default: the
                file's modification time. Its papers carry it: only a newer capture overwrites them.
  --revisit     also re-fetch the N days before the day (0-${MAX_REVISIT_DAYS}, default 0), as the daily
                schedule on AWS does (7 there): their upvotes and comments move for a week or two. A
                re-fetched listing whose bytes are already archived sends nothing. Not with --source.`;

export const usage = `usage: npm run -s papers -- ingest [--date YYYY-MM-DD] [--source FILE-OR-URL] [--fetched-at ISO] [--revisit N]
           [--url-template T]
${ingestOptionsUsage}
  --url-template  the listing URL with {date} where the day goes, fetched for --date instead of the
                  HF API (not with --source)
Exit code 1 when a listing was malformed (its bytes are kept under quarantine/ in the archive), could
not be fetched, or anything reached a dead-letter queue.
`;

/** The sample listing that ships with the project (local/sample/README.md), from the project root. */
export const SAMPLE_LISTING_PATH = 'local/sample/hf-daily-papers-2026-06-12.json';

/** Options shared by `papers ingest` and `npm start`. */
export const ingestOptions = {
  date: { type: 'string' },
  source: { type: 'string' },
  'fetched-at': { type: 'string' },
  revisit: { type: 'string' },
} as const;

const CaptureTimeSchema = z.iso.datetime({ offset: true });

/**
 * @throws UsageError when `--date` is not a real day or cannot have a listing, `--source` is a
 *   malformed URL, or `--fetched-at` is not an ISO 8601 time or is given without a `--source`.
 */
export function ingestRequestFrom(values: {
  date?: string;
  source?: string;
  'fetched-at'?: string;
  revisit?: string;
}): IngestRequest {
  const request: IngestRequest = {};
  let source: ReturnType<typeof listingSource> | undefined;
  if (values.source !== undefined) {
    try {
      source = listingSource(values.source);
    } catch (error) {
      if (error instanceof InvalidSourceError) throw new UsageError(error.message, { cause: error });
      throw error;
    }
    // A URL stays as given; a file path is the user's, from the folder they ran the command in.
    request.source =
      source.kind === 'file' && !/^file:/i.test(values.source)
        ? resolveUserPath(values.source)
        : values.source;
  }
  if (values.date !== undefined) {
    request.date = isoDayOption('--date', values.date);
    try {
      checkListingDay(
        request.date,
        source?.kind === 'url'
          ? firstListingDayOf(source.url)
          : source
            ? firstListingDayOf(undefined)
            : HF_DAILY_PAPERS_FIRST_DAY,
      );
    } catch (error) {
      if (error instanceof ListingDayOutOfRangeError)
        throw new UsageError(`--date: ${error.message}`, { cause: error });
      throw error;
    }
  }
  if (values['fetched-at'] !== undefined) {
    if (!source) throw new UsageError('--fetched-at needs a --source: a live listing is captured now');
    const fetchedAt = CaptureTimeSchema.safeParse(values['fetched-at']);
    if (!fetchedAt.success) {
      throw new UsageError(
        `--fetched-at must be an ISO 8601 time such as 2026-06-12T23:30:00Z, got "${values['fetched-at']}"`,
      );
    }
    request.fetchedAt = fetchedAt.data;
  }
  if (values.revisit !== undefined) {
    if (!/^\d{1,2}$/.test(values.revisit) || Number(values.revisit) > MAX_REVISIT_DAYS) {
      throw new UsageError(
        `--revisit must be a whole number of days from 0 to ${MAX_REVISIT_DAYS}, got "${values.revisit}"`,
      );
    }
    if (source) throw new UsageError('--revisit re-fetches past days of the live listing: not with --source');
    request.revisitDays = Number(values.revisit);
  }
  return request;
}

/**
 * `papers ingest [--date D] [--source FILE-OR-URL]`: one run on the local stack; exit 1 if the run
 * failed (a malformed listing, an unreachable upstream: retried, then dead-lettered) or anything
 * reached a DLQ.
 * @throws UsageError for a mistake on the command line, before the stack is opened.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, { ...ingestOptions, 'url-template': { type: 'string' } });
  const request = ingestRequestFrom(withTemplateSource(values));
  return withLocalStack(async (stack) => {
    const handlers = await loadCliHandlers(stack);
    try {
      const summary = await ingestFromCommandLine(stack, handlers, request);
      process.stderr.write(describeSummary(summary, process.env.POWERTOOLS_LOG_LEVEL));
      return summary.deadLettered.parse + summary.deadLettered.classify > 0 ? 1 : 0;
    } catch (error) {
      const message = describeFetchFailure(error);
      if (message === undefined) throw error;
      process.stderr.write(message);
      return 1;
    }
  });
}

/** `--url-template T` is `--source` T's URL for the day (`--date`, default today in UTC). */
function withTemplateSource<V extends { date?: string; source?: string; 'url-template'?: string }>(
  values: V,
): V {
  const template = values['url-template'];
  if (template === undefined) return values;
  if (values.source !== undefined) throw new UsageError('--url-template and --source do not go together');
  const date =
    values.date === undefined ? new Date().toISOString().slice(0, 10) : isoDayOption('--date', values.date);
  return { ...values, date, source: listingUrlFor(urlTemplateOption(template), date) };
}

/** The handlers as the CLI runs them: fetch-listing invoked asynchronously, as the schedule invokes it. */
export async function loadCliHandlers(stack: LocalStack): Promise<LocalHandlers> {
  return invokedAsynchronously(await loadHandlers(stack), {
    sqs: stack.sqs,
    deadLetterQueueUrl: stack.queueUrls.fetchDeadLetter,
  });
}

/**
 * What to print when fetch-listing failed the run (on AWS it would be retried, then dead-lettered),
 * or undefined for an error that is not one of those.
 */
export function describeFetchFailure(error: unknown): string | undefined {
  const deadLettered = error instanceof FetchDeadLetteredError;
  const cause = deadLettered ? error.cause : error;
  let detail: string | undefined;
  if (cause instanceof ListingFetchError) detail = noNetworkHint(cause);
  else if (cause instanceof MalformedListingError) {
    detail = `papers: MALFORMED ${cause.message}\n  (quarantined: kept under ${cause.listing.archiveKey}, not ingested)\n`;
  }
  if (deadLettered) return `papers: the run failed and was dead-lettered: ${error.message}\n${detail ?? ''}`;
  return detail;
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
    if (error instanceof ListingDayConflictError || error instanceof ListingDayOutOfRangeError) {
      throw new UsageError(error.message, { cause: error });
    }
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
 * handlers' warnings, it ends with how to see why; when some are in a dead-letter queue, with
 * the command that lists them.
 */
export function describeSummary(summary: IngestSummary, handlerLogLevel: string | undefined): string {
  const lines = summary.listings.map(
    (listing) =>
      `  ${listing.format} ${listing.url}\n` +
      `    archived as ${listing.archiveKey}${listing.archived ? '' : ` (identical bytes already archived, captured ${listing.fetchedAt})`}` +
      (listing.fannedOut ? '' : `\n    revisit of ${listing.listedOn}: unchanged, nothing sent`),
  );
  const dead = summary.deadLettered.parse + summary.deadLettered.classify;
  // A record that can never be read goes to its dead-letter queue at the first failure, with no
  // failed attempt counted: it too failed, and its message in the queue says why.
  const logHint =
    (summary.failedAttempts > 0 || dead > 0) && hidesRecordWarnings(handlerLogLevel)
      ? '(set PAPERS_LOG_LEVEL=WARN to log why each record failed)\n'
      : '';
  const deadLetterHint =
    dead > 0 ? '(`npm run -s papers -- dlq list` shows each dead-lettered record and why it is there)\n' : '';
  const hint = logHint + deadLetterHint;
  return (
    `ingest ${summary.day}: listed ${summary.listed}, new ${summary.new}, updated ${summary.updated}, ` +
    (summary.stale > 0 ? `stale ${summary.stale} (the table holds a newer fetch), ` : '') +
    `failed ${dead}, in the DLQ ${dead} (parse ${summary.deadLettered.parse}, classify ${summary.deadLettered.classify}); ` +
    `failed attempts ${summary.failedAttempts}\n${lines.join('\n')}\n${hint}`
  );
}

/**
 * What to do without network. Not `--source` with the sample listing: that would store it among the
 * real days of the data folder, where `npm start`'s offline fallback keeps it apart.
 */
export function noNetworkHint(error: ListingFetchError): string {
  return (
    `papers: could not fetch the listing: ${error.message}\n` +
    'No network? `npm start` then ingests the sample listing that ships with the project into a data folder of\n' +
    `its own (${displayPath(sampleDataDir())}) and serves it; or ingest a listing you saved of a real day:\n` +
    '  npm run -s papers -- ingest --source FILE\n'
  );
}
