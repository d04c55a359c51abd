import { makeCloudFormationClient } from '../../shared/aws/cloudformation';
import { makeStepFunctionsClient } from '../../shared/aws/sfn';
import { readCommandLine, UsageError } from '../../shared/command-line';
import { dayRangeOption, daysBetween, urlTemplateOption } from '../../shared/history/day-range';
import { firstListingDayOf, HF_DAILY_PAPERS_FIRST_DAY } from '../../shared/listing/listing-days';
import {
  backfillInput,
  backfillStateMachineArn,
  executionConsoleUrl,
  followBackfill,
  startBackfill,
} from '../aws-backfill';
import { type BackfillReport, backfillSucceeded, runBackfill } from '../backfill';
import { backfillProgress, describeDay } from '../backfill-progress';
import { withLocalStack } from '../stack';
import { loadCliHandlers } from './ingest';

/**
 * `npm run -s papers -- backfill --from D --to D [...]`: every day of a range through the
 * pipeline on the local stack (see `local/backfill.ts`).
 */

export const MAX_CONCURRENCY = 8;
const DEFAULT_CONCURRENCY = 2;

export const usage = `usage: npm run -s papers -- backfill --from YYYY-MM-DD --to YYYY-MM-DD [--url-template T]
           [--concurrency N] [--refetch]
   or: npm run -s papers -- backfill --aws --stack NAME --from YYYY-MM-DD --to YYYY-MM-DD [--url-template T]
   or: npm run -s papers -- backfill --aws --status EXECUTION-ARN
  Runs every day of the range (both ends included) through fetch-listing and the parse and classify
  queues on the local stack, as the daily schedule would. Every request to the upstream shares one
  limit (FETCH_MAX_REQUESTS_PER_5_MIN, default 250; HF allows about 500 per 5 minutes); a 429's
  Retry-After holds them all, 5xx are retried with backoff. A day already recorded as fetched is
  skipped, so an interrupted backfill started again does the rest.
  --url-template  the listing URL with {date} where the day goes (default: fetch-listing's,
                  the HF API: https://huggingface.co/api/daily_papers?date={date}&limit=100)
  --concurrency   days fetched at once, 1 to ${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})
  --refetch       fetch days already recorded as fetched too
  --aws           on the deployed stack instead: with --stack (the CloudFormation stack whose
                  BackfillStateMachineArn output names it), starts the backfill state machine for
                  the range and prints the execution's ARN and console link; with --status, follows
                  an execution until it ends and prints each day's outcome (caller's credentials and
                  region). The state machine fetches 2 days at once and every day of the range.
Progress goes to stderr: a progress bar on a terminal, one line per day otherwise. A day that keeps
failing is reported at the end with its reason; the others still land. Exit code 0 when every day
landed (or had landed before), 1 when a day failed or a record reached a dead-letter queue (with
--status: when the execution did not succeed or a day failed).
`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  'url-template': { type: 'string' },
  concurrency: { type: 'string' },
  refetch: { type: 'boolean' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
  status: { type: 'string' },
} as const;

export interface BackfillCommand {
  from: string;
  to: string;
  urlTemplate?: string;
  concurrency: number;
  refetch: boolean;
}

export type BackfillInvocation =
  | ({ mode: 'local' } & BackfillCommand)
  | { mode: 'aws-start'; stackName: string; from: string; to: string; urlTemplate?: string }
  | { mode: 'aws-status'; executionArn: string };

/** @throws UsageError for a mistake on the command line. */
export function parseBackfillInvocation(args: readonly string[]): BackfillInvocation {
  const { values } = readCommandLine(args, options);
  if (!values.aws) {
    if (values.stack !== undefined) throw new UsageError('--stack goes with --aws');
    if (values.status !== undefined) throw new UsageError('--status goes with --aws');
    return { mode: 'local', ...parseBackfillArgs(args) };
  }
  for (const flag of ['concurrency', 'refetch'] as const) {
    if (values[flag] !== undefined) {
      throw new UsageError(
        `--${flag} is for the local backfill: the state machine fetches 2 days at once, every day`,
      );
    }
  }
  if (values.status !== undefined) {
    if (values.stack !== undefined || values.from !== undefined || values.to !== undefined) {
      throw new UsageError('--status takes an execution ARN alone (no --stack, --from or --to)');
    }
    if (!/^arn:aws[a-z-]*:states:[^:]+:\d{12}:execution:/.test(values.status)) {
      throw new UsageError(`--status must be a Step Functions execution ARN, got "${values.status}"`);
    }
    return { mode: 'aws-status', executionArn: values.status };
  }
  if (values.stack === undefined) throw new UsageError('--aws needs --stack NAME (to start) or --status ARN');
  const urlTemplate =
    values['url-template'] === undefined ? undefined : urlTemplateOption(values['url-template']);
  const range = dayRangeOption(
    values,
    urlTemplate === undefined ? HF_DAILY_PAPERS_FIRST_DAY : firstListingDayOf(urlTemplate),
  );
  return { mode: 'aws-start', stackName: values.stack, ...range, urlTemplate };
}

/** The local backfill's options. @throws UsageError for a mistake on the command line. */
export function parseBackfillArgs(args: readonly string[]): BackfillCommand {
  const { values } = readCommandLine(args, options);
  const urlTemplate =
    values['url-template'] === undefined ? undefined : urlTemplateOption(values['url-template']);
  const range = dayRangeOption(
    values,
    urlTemplate === undefined ? HF_DAILY_PAPERS_FIRST_DAY : firstListingDayOf(urlTemplate),
  );
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new UsageError(
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got "${values.concurrency}"`,
    );
  }
  return { ...range, urlTemplate, concurrency, refetch: values.refetch ?? false };
}

export async function run(args: string[]): Promise<number> {
  const command = parseBackfillInvocation(args);
  if (command.mode === 'aws-start') return startOnAws(command);
  if (command.mode === 'aws-status') return followOnAws(command.executionArn);
  return withLocalStack(async (stack) => {
    const handlers = await loadCliHandlers(stack);
    const progress = backfillProgress();
    let report: BackfillReport;
    try {
      report = await runBackfill(
        stack,
        handlers,
        {
          days: daysBetween(command.from, command.to),
          urlTemplate: command.urlTemplate,
          concurrency: command.concurrency,
          refetch: command.refetch,
        },
        progress,
      );
    } finally {
      progress.stop();
    }
    process.stderr.write(describeBackfill(command, report));
    return backfillSucceeded(report) ? 0 : 1;
  });
}

/** The closing summary: counts, the days skipped, and every failed day with its reason. */
export function describeBackfill(range: { from: string; to: string }, report: BackfillReport): string {
  const count = (status: string) => report.days.filter((day) => day.status === status).length;
  const skipped = report.days.filter((day) => day.status === 'skipped').map((day) => day.day);
  const failed = report.days.filter((day) => day.status === 'failed');
  const dead = report.deadLettered.parse + report.deadLettered.classify;
  return (
    `backfill ${range.from}..${range.to}: ${report.days.length} day(s): ${count('landed')} landed, ` +
    `${skipped.length} skipped (already fetched), ${failed.length} failed; ${report.papers} paper(s) listed; ` +
    `in the DLQ ${dead} (parse ${report.deadLettered.parse}, classify ${report.deadLettered.classify})\n` +
    (skipped.length > 0 ? `  skipped: ${skipped.join(', ')} (--refetch fetches them again)\n` : '') +
    failed.map((day) => `  ${describeDay(day)}\n`).join('')
  );
}

async function startOnAws(command: Extract<BackfillInvocation, { mode: 'aws-start' }>): Promise<number> {
  const stateMachineArn = await backfillStateMachineArn(makeCloudFormationClient(), command.stackName);
  const days = daysBetween(command.from, command.to);
  const executionArn = await startBackfill(
    makeStepFunctionsClient(),
    stateMachineArn,
    backfillInput(days, command.urlTemplate),
  );
  process.stdout.write(`${executionArn}\n`);
  process.stderr.write(
    `backfill ${command.from}..${command.to}: started ${days.length} day(s) on ${command.stackName}\n` +
      `  console: ${executionConsoleUrl(executionArn)}\n` +
      `  follow:  npm run -s papers -- backfill --aws --status ${executionArn}\n`,
  );
  return 0;
}

async function followOnAws(executionArn: string): Promise<number> {
  const pollMs = Number(process.env.PAPERS_SFN_POLL_MS ?? 10_000);
  const final = await followBackfill(makeStepFunctionsClient(), executionArn, {
    pollMs,
    onStatus: (state) =>
      process.stderr.write(
        `backfill ${state.status}${state.startedAt ? ` (started ${state.startedAt.toISOString()})` : ''}\n`,
      ),
  });
  const days = final.days ?? [];
  for (const day of days) {
    process.stderr.write(
      day.status === 'landed'
        ? `backfill ${day.day}: landed, ${day.papers} paper(s)\n`
        : `backfill ${day.day}: FAILED: ${day.error}${day.cause ? `: ${day.cause}` : ''}\n`,
    );
  }
  const failed = days.filter((day) => day.status === 'failed').length;
  process.stderr.write(
    `backfill ${final.status}: ${days.length} day(s), ${days.length - failed} landed, ${failed} failed` +
      (final.error ? `; ${final.error}${final.cause ? `: ${final.cause}` : ''}` : '') +
      `\n  console: ${executionConsoleUrl(executionArn)}\n`,
  );
  return final.status === 'SUCCEEDED' && failed === 0 ? 0 : 1;
}
