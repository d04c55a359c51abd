import { readCommandLine } from '../../shared/command-line';
import { daysBetween, optionalDayRangeOption } from '../../shared/history/day-range';
import { runReclassify } from '../history';
import { withLocalStack } from '../stack';
import { loadCliHandlers } from './ingest';

/**
 * `npm run -s papers -- reclassify [--from D --to D]`: the stored listings the shipped model did
 * not classify go through classify-paper again (`shared/history/reclassify.ts`).
 */

export const usage = `usage: npm run -s papers -- reclassify [--from YYYY-MM-DD --to YYYY-MM-DD]
  Sends to the classify queue only the stored listings whose classifierVersion is not the shipped
  model's (or that were never classified), and runs classify-paper on them: nothing is parsed or
  fetched again. The range (both ends included) defaults to every ingested day. The listings are
  found with one Query per day, never a Scan. Prints how many listings were stale and how many
  were redone.
Exit code 1 when a stale listing was not redone (it reached the classify dead-letter queue).
`;

const options = { from: { type: 'string' }, to: { type: 'string' } } as const;

export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, options);
  const range = optionalDayRangeOption(values);
  return withLocalStack(async (stack) => {
    const days = range ? daysBetween(range.from, range.to) : undefined;
    const report = await runReclassify(stack, await loadCliHandlers(stack), days);
    const where = range ? `${range.from}..${range.to}` : `${report.days} ingested day(s)`;
    process.stderr.write(
      `reclassify ${where}: ${report.examined} listing(s), ${report.stale} stale (not classified by ` +
        `${report.version}), ${report.redone} redone\n`,
    );
    return report.redone === report.stale ? 0 : 1;
  });
}
