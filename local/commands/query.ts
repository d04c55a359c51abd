import * as z from 'zod';
import { displayPath, readCommandLine, UsageError } from '../../shared/command-line';
import { daysCsv, genericCsv, paperRecordsCsv, papersCsv, rankedPapersCsv } from '../../shared/query/csv';
import { isRankedRange } from '../../shared/query/handle-query';
import {
  CategoryCountSchema,
  IngestedDaySchema,
  ListedPaperSchema,
  PaperRecordSchema,
  RankedPaperSchema,
} from '../../shared/query/response-schemas';
import type { PaperReader } from '../../shared/store/paper-store';
import { isClosedPipe } from '../closed-pipe';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../http-adapter';

/**
 * `npm run -s papers -- query --date D [--sort upvotes|id] | --category C [--from D] [--to D] |
 *   --from D --to D [--category C,…] [--primary] [--sort upvotes|date] | --q WORDS […] | --id ID | --days |
 *   --categories [--from D] [--to D]  [--limit N] [--all] [--cursor C] [--format jsonl|json|csv]`
 *
 * Builds the Function URL event for the query API and invokes the real handler
 * against the local stack, so the CLI validates exactly as the API does: a bad
 * parameter prints the API's 400 message on stderr and exits 2. It follows the
 * cursors to the end by default (`--all`); `--limit N` stops after N results and
 * prints the cursor to resume from on stderr.
 */

export type OutputFormat = 'jsonl' | 'json' | 'csv';

export interface QueryCommand {
  /** Path and query string for the API, e.g. `/papers?date=2026-06-12`. */
  path: string;
  parameters: URLSearchParams;
  /** `ranked`: each paper once over a range (a ranked range, a search), with the days it was listed. */
  kind: 'papers' | 'ranked' | 'paper' | 'days' | 'categories';
  format: OutputFormat;
  /** Most results to print; all when absent. */
  limit?: number;
  cursor?: string;
  /** `--aws --stack NAME`: the deployed API of that stack, signed with the caller's credentials. */
  stackName?: string;
}

/** The API's page size limit: the CLI asks for full pages and stops at `--limit`. */
const PAGE_SIZE = 100;

export const usage = `usage: npm run -s papers -- query <what> [--limit N | --all] [--cursor C] [--format jsonl|json|csv]
  <what>: --date YYYY-MM-DD [--sort upvotes|id]  papers listed that day, most upvoted first (by id: stable while upvotes change)
          --category CODE [--from D] [--to D]  papers in an arXiv category (default: the last 30 days)
          --from D --to D [--category C,…] [--primary] [--sort upvotes|date]
                                          each paper of a range once, most upvoted (or newest) first,
                                          with the days it was listed; of any of those categories
                                          (--primary: as its primary one)
          --q WORDS [--date D | --from D --to D] [--category C,…] [--primary]
                                          keyword search of titles, abstracts and authors, best first
          --id ID                         one paper with every day it was listed
          --days                          the ingested days with their paper counts
          --categories [--from D] [--to D]  papers per category over a range (default: the last 30 days)
  --aws --stack NAME  ask the deployed query API of that CloudFormation stack (its QueryFunctionUrl
                      output), SigV4-signed with your AWS credentials and region (the SDK's default
                      chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, …), instead of the local table
`;

const OPTIONS = {
  date: { type: 'string' },
  category: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  sort: { type: 'string' },
  q: { type: 'string' },
  primary: { type: 'boolean' },
  id: { type: 'string' },
  days: { type: 'boolean' },
  categories: { type: 'boolean' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  cursor: { type: 'string' },
  format: { type: 'string' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
} as const;

/**
 * Reads the command line into the request to make.
 * @throws UsageError for unknown, missing, repeated or contradictory options.
 */
export function parseQueryArgs(args: readonly string[]): QueryCommand {
  const { values } = readCommandLine(args, OPTIONS);
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'json' && format !== 'csv') {
    throw new UsageError(`--format must be jsonl, json or csv, got "${format}"`);
  }
  if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit)) {
    throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`);
  }
  if (values.limit !== undefined && values.all)
    throw new UsageError('--limit and --all contradict each other');
  const { id, days, categories } = values;
  // --from and --to bound --categories too; with it they do not ask for papers.
  const byDayOrCategory = [
    values.date,
    values.category,
    values.q,
    ...(categories ? [] : [values.from, values.to]),
  ].some((value) => value !== undefined);
  if ([id !== undefined, days, categories, byDayOrCategory].filter(Boolean).length > 1) {
    throw new UsageError('ask for one of --date/--category/--from/--to/--q, --id, --days or --categories');
  }
  // Every other value goes to the API as is, so the API's own validation answers it.
  const parameters = new URLSearchParams();
  for (const name of ['q', 'date', 'sort', 'category', 'from', 'to'] as const) {
    const value = values[name];
    if (value !== undefined) parameters.set(name, value);
  }
  if (values.primary) parameters.set('primary', 'true');
  if (values.aws && values.stack === undefined) throw new UsageError('--aws needs --stack NAME');
  if (!values.aws && values.stack !== undefined) throw new UsageError('--stack goes with --aws');
  const kind =
    id !== undefined
      ? 'paper'
      : days
        ? 'days'
        : categories
          ? 'categories'
          : parameters.has('q') || isRankedRange(Object.fromEntries(parameters))
            ? 'ranked'
            : 'papers';
  if ((kind === 'papers' || kind === 'ranked') && parameters.size === 0) {
    throw new UsageError('ask for --date, --category, --from/--to, --q, --id, --days or --categories');
  }
  const path =
    kind === 'paper'
      ? `/papers/${encodeURIComponent(id ?? '')}`
      : kind === 'days' || kind === 'categories'
        ? `/${kind}`
        : '/papers';
  return {
    kind,
    path,
    parameters,
    format,
    limit: values.limit === undefined ? undefined : Number(values.limit),
    cursor: values.cursor,
    ...(values.aws ? { stackName: values.stack } : {}),
  };
}

const ErrorBodySchema = z.object({ message: z.string(), parameter: z.string().optional() });
const PapersPageSchema = z.object({ items: z.array(ListedPaperSchema), cursor: z.string().optional() });
const RankedPageSchema = z.object({ items: z.array(RankedPaperSchema), cursor: z.string().optional() });
const DaysPageSchema = z.object({ items: z.array(IngestedDaySchema), cursor: z.string().optional() });
const CategoryCountsSchema = z.object({ items: z.array(CategoryCountSchema) });

type Row = Record<string, unknown>;

/** What a query produced: rows to print, and the exit code with a message when it failed. */
export interface QueryOutcome {
  rows: Row[];
  exitCode: number;
  message?: string;
  /** Set when `--limit` stopped before the end: pass it as `--cursor` to continue. */
  nextCursor?: string;
}

/**
 * Runs `command` through `handler`, following cursors until the end or `command.limit`.
 * A 400 gives exit code 2, a 404 exit code 1, each with the API's message.
 */
export async function runQuery(command: QueryCommand, handler: FunctionUrlHandler): Promise<QueryOutcome> {
  const rows: Row[] = [];
  let cursor = command.cursor;
  for (;;) {
    const parameters = new URLSearchParams(command.parameters);
    // A paper record and the category counts are one answer each, with no pages.
    if (command.kind !== 'paper' && command.kind !== 'categories') {
      const remaining = command.limit === undefined ? PAGE_SIZE : command.limit - rows.length;
      parameters.set('limit', String(Math.min(PAGE_SIZE, remaining)));
      if (cursor !== undefined) parameters.set('cursor', cursor);
    }
    const query = parameters.toString();
    const event = functionUrlEvent({ method: 'GET', url: query ? `${command.path}?${query}` : command.path });
    const result = await handler(event, localLambdaContext('query'));
    if (typeof result !== 'object' || typeof result.statusCode !== 'number') {
      return { rows, exitCode: 1, message: 'the query handler gave no status code' };
    }
    const body: unknown = JSON.parse(result.body ?? 'null');
    if (result.statusCode !== 200) {
      const error = ErrorBodySchema.safeParse(body);
      const message = error.success ? error.data.message : `HTTP ${result.statusCode}`;
      return { rows, exitCode: result.statusCode === 400 ? 2 : 1, message };
    }
    if (command.kind === 'paper') {
      rows.push(PaperRecordSchema.parse(body));
      return { rows, exitCode: 0 };
    }
    if (command.kind === 'categories') {
      rows.push(...CategoryCountsSchema.parse(body).items.slice(0, command.limit));
      return { rows, exitCode: 0 };
    }
    const page = (
      command.kind === 'days'
        ? DaysPageSchema
        : command.kind === 'ranked'
          ? RankedPageSchema
          : PapersPageSchema
    ).parse(body);
    rows.push(...page.items);
    cursor = page.cursor;
    if (cursor === undefined) return { rows, exitCode: 0 };
    if (command.limit !== undefined && rows.length >= command.limit) {
      return { rows, exitCode: 0, nextCursor: cursor };
    }
  }
}

/**
 * The rows as CSV with a header row (`shared/query/csv.ts`, the same bytes as the API's `format=csv`):
 * papers one line each (a range's or a search's with the days listed and the score), a paper record
 * one line per day it was listed, days and category counts one line each.
 */
export function toCsv(kind: QueryCommand['kind'], rows: readonly Row[]): string {
  if (kind === 'days') return daysCsv(rows);
  if (kind === 'categories') return genericCsv(rows);
  if (kind === 'ranked') return rankedPapersCsv(rows);
  return kind === 'paper' ? paperRecordsCsv(rows) : papersCsv(rows);
}

export function formatRows(command: Pick<QueryCommand, 'kind' | 'format'>, rows: readonly Row[]): string {
  if (command.format === 'csv') return toCsv(command.kind, rows);
  if (command.format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

/**
 * @throws UsageError for a mistake on the command line (before the stack is opened) and for a
 *   parameter the API refuses (a 400, with the API's message).
 */
export async function run(args: string[]): Promise<number> {
  const command = parseQueryArgs(args);
  if (command.stackName !== undefined) {
    const { deployedQueryHandler } = await import('../deployed-query');
    return print(command, await runQuery(command, await deployedQueryHandler(command.stackName)));
  }
  // A value the API refuses is a usage error: found before the stack is opened (about a second).
  const refused = await refusedWithoutTheTable(command);
  if (refused) return print(command, refused);
  const { sampleDataDir, withLocalStack } = await import('../stack');
  return withLocalStack(async (stack) => {
    // The handler logs each request at INFO on stdout; keep stdout for the results.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    const { loadQueryHandler } = await import('../handlers');
    const handler = await loadQueryHandler(stack.env);
    const outcome = await runQuery(command, handler);
    const code = await print(command, outcome);
    if (code === 0 && outcome.rows.length === 0 && (await noDayIngested(command, outcome, handler))) {
      // An empty answer from a folder never ingested into, most often not the folder meant.
      process.stderr.write(
        `papers query: no day ingested yet in ${displayPath(stack.dataDir)} (PAPERS_DATA_DIR names another;` +
          ` \`npm start\` without network keeps the sample listing in PAPERS_DATA_DIR=${displayPath(sampleDataDir(stack.dataDir))})\n`,
      );
    }
    return code;
  });
}

/** Thrown by {@link UNREAD_TABLE} at a request's first read: the request got past validation. */
class TableNeeded extends Error {}

/** A reader whose every method throws {@link TableNeeded}. */
const UNREAD_TABLE = new Proxy({} as PaperReader, {
  // Not a thenable: awaiting the reader itself must not call it.
  get: (_, name) => (name === 'then' ? undefined : () => Promise.reject(new TableNeeded())),
});

/**
 * The API's 400 for the command's first request, if it has one, from the API's own code
 * (`answerHttpRequest`) over a table it never gets to read: the parameters are validated before
 * any read, so a request that reaches one is valid (its cursor is checked when it is read).
 */
async function refusedWithoutTheTable(command: QueryCommand): Promise<QueryOutcome | undefined> {
  const { answerHttpRequest, httpRequestOf } = await import('../../shared/query/http-api');
  const probe: FunctionUrlHandler = async (event) => {
    try {
      const { statusCode, headers, body } = await answerHttpRequest(httpRequestOf(event), UNREAD_TABLE, {
        allowedOrigins: '*',
      });
      return { statusCode, headers, body };
    } catch (error) {
      // Not a 400: the request is valid, and only the table can answer it.
      if (error instanceof TableNeeded) return { statusCode: 503, body: '{"message":"the table is needed"}' };
      throw error;
    }
  };
  const outcome = await runQuery({ ...command, limit: 1 }, probe);
  return outcome.exitCode === 2 ? outcome : undefined;
}

/** Whether the table holds no ingested day: what `--days` answered, else one page of one day. */
async function noDayIngested(
  command: QueryCommand,
  outcome: QueryOutcome,
  handler: FunctionUrlHandler,
): Promise<boolean> {
  if (command.kind === 'days') return outcome.rows.length === 0;
  const days = await runQuery(parseQueryArgs(['--days', '--limit', '1']), handler);
  return days.exitCode === 0 && days.rows.length === 0;
}

/** Prints the rows (or the failure) of a query; resolves with the exit code. */
async function print(command: QueryCommand, outcome: QueryOutcome): Promise<number> {
  if (outcome.exitCode === 2) throw new UsageError(outcome.message ?? 'the API refused the request');
  if (outcome.exitCode !== 0) {
    process.stderr.write(`papers query: ${outcome.message ?? 'failed'}\n`);
    return outcome.exitCode;
  }
  await write(formatRows(command, outcome.rows));
  if (outcome.nextCursor) {
    process.stderr.write(`papers query: more results; continue with --cursor ${outcome.nextCursor}\n`);
  }
  return 0;
}

/** Writes to stdout and waits for it to drain; a closed pipe (`| head`) is not an error. */
function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => {
      if (!error || isClosedPipe(error)) resolve();
      else reject(error);
    });
  });
}
