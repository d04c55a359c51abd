import { readCommandLine } from '../../shared/command-line';
import { dayRangeOption, daysBetween } from '../../shared/history/day-range';
import { runReplay } from '../history';
import { withLocalStack } from '../stack';
import { loadCliHandlers } from './ingest';

/**
 * `npm run -s papers -- replay --from D --to D`: parse and classify again from the archived raw
 * listings of a range (`shared/history/archive-replay.ts`), on the local stack, with no network.
 */

export const usage = `usage: npm run -s papers -- replay --from YYYY-MM-DD --to YYYY-MM-DD
  Sends every raw listing archived for the days of the range (both ends included; locally the
  archive under <data folder>/archive/listings/) through the parse and classify queues again, each
  under its own source URL and first capture time: the table ends as a fresh ingest of the same
  bytes leaves it. Nothing is fetched. A day with nothing archived is named and skipped.
Exit code 1 when a record reached a dead-letter queue.
`;

const options = { from: { type: 'string' }, to: { type: 'string' } } as const;

export async function run(args: string[]): Promise<number> {
  const range = dayRangeOption(readCommandLine(args, options).values);
  return withLocalStack(async (stack) => {
    const report = await runReplay(stack, await loadCliHandlers(stack), daysBetween(range.from, range.to));
    const { parse, classify } = report.deadLettered;
    process.stderr.write(
      `replay ${range.from}..${range.to}: ${report.listings} archived listing(s), ${report.papers} paper(s) ` +
        `sent through parse and classify again; in the DLQ ${parse + classify} (parse ${parse}, classify ${classify})\n` +
        (report.empty.length > 0 ? `  nothing archived for: ${report.empty.join(', ')}\n` : ''),
    );
    return parse + classify > 0 ? 1 : 0;
  });
}
