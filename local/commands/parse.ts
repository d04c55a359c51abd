import { readFile } from 'node:fs/promises';
import { isoDayOption, readCommandLine, resolveUserPath, UsageError } from '../../shared/command-line';
import { type ListingContext, ListingParseError, parseListing } from '../../shared/listing/index';

/**
 * `npm run -s papers -- parse <file-or-url> [--listed-on YYYY-MM-DD] [--fetched-at ISO] [--timeout-ms N]`
 *
 * Parses one listing (any format the parsers know) and prints one paper per
 * line as JSON on stdout; on stderr one line per item problem, then a summary
 * line `papers parse: format=… papers=N problems=M`. Exit 0 when the listing
 * parsed (item problems included), 1 when it could not be read, fetched or
 * parsed, 2 for a usage error.
 */

export const usage = `usage: npm run -s papers -- parse <file-or-url> [--listed-on YYYY-MM-DD] [--fetched-at ISO-8601] [--timeout-ms N]
  --listed-on   the listing day the listing stands for (dates in 2024 HF responses, arXiv Atom)
  --fetched-at  when the listing was fetched; anchors year-less dates of the text page
                (default for a URL: now; for a file: none)
  --timeout-ms  HTTP timeout for a URL (default 30000)
`;

/** The listing could not be read or fetched: exit 1 with the message. */
class ListingReadError extends Error {
  override readonly name = 'ListingReadError';
}

interface ParseOptions {
  source: string;
  context: ListingContext;
  timeoutMs: number;
}

const OPTIONS = {
  'listed-on': { type: 'string' },
  'fetched-at': { type: 'string' },
  'timeout-ms': { type: 'string' },
} as const;

/** @throws UsageError for anything but one source and valid option values. */
function parseOptions(args: string[]): ParseOptions {
  const { values, positionals } = readCommandLine(args, OPTIONS, { positionals: true });
  if (positionals.length !== 1) throw new UsageError('expected one file or URL');
  const context: ListingContext = {};
  if (values['listed-on'] !== undefined) context.listedOn = isoDayOption('--listed-on', values['listed-on']);
  if (values['fetched-at'] !== undefined) {
    if (Number.isNaN(Date.parse(values['fetched-at']))) {
      throw new UsageError(`--fetched-at must be an ISO 8601 time, got "${values['fetched-at']}"`);
    }
    context.fetchedAt = values['fetched-at'];
  }
  const timeoutMs = Number(values['timeout-ms'] ?? 30_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`--timeout-ms must be a positive integer, got "${values['timeout-ms']}"`);
  }
  return { source: positionals[0] as string, context, timeoutMs };
}

/** The listing's bytes and what is known about them, from a file or over HTTP. */
async function readListing({ source, context, timeoutMs }: ParseOptions): Promise<{
  bytes: Uint8Array;
  context: ListingContext;
}> {
  if (/^https?:\/\//i.test(source)) {
    let response: Response;
    try {
      response = await fetch(source, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no response within ${timeoutMs} ms`
          : error instanceof Error
            ? error.cause instanceof Error
              ? error.cause.message
              : error.message
            : String(error);
      throw new ListingReadError(`cannot fetch ${source}: ${reason}`);
    }
    if (!response.ok) {
      throw new ListingReadError(
        `cannot fetch ${source}: HTTP ${response.status} ${response.statusText}`.trimEnd(),
      );
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      bytes,
      context: { fetchedAt: new Date().toISOString(), ...context, url: response.url || source },
    };
  }
  try {
    return { bytes: await readFile(resolveUserPath(source)), context: { ...context, url: source } };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ListingReadError(`cannot read ${source}: ${reason}`);
  }
}

export async function run(args: string[]): Promise<number> {
  const options = parseOptions(args);
  try {
    const { bytes, context } = await readListing(options);
    const listing = parseListing(bytes, context);
    const out = listing.papers.map((paper) => `${JSON.stringify(paper)}\n`).join('');
    process.stdout.write(out);
    const problems = listing.problems
      .map((problem) => `papers parse: problem: ${problem.message}\n`)
      .join('');
    // The text page dates its papers "Mar 6" and itself "Dec 16": without a day to anchor them, they are left out.
    const unanchored =
      listing.format === 'hf-text' && !context.fetchedAt && !context.listedOn
        ? 'papers parse: note: no --fetched-at or --listed-on, so dates without a year and the listing day are left out\n'
        : '';
    process.stderr.write(
      `${problems}${unanchored}papers parse: format=${listing.format} papers=${listing.papers.length} problems=${listing.problems.length}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ListingReadError) {
      process.stderr.write(`papers parse: ${error.message}\n`);
      return 1;
    }
    if (error instanceof ListingParseError) {
      process.stderr.write(`papers parse: the listing could not be parsed: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
