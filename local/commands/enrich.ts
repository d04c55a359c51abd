import { readCommandLine } from '../../shared/command-line';
import { daysBetween, optionalDayRangeOption } from '../../shared/history/day-range';
import { runEnrich } from '../history';
import { withLocalStack } from '../stack';
import { loadCliHandlers } from './ingest';

/**
 * `npm run -s papers -- enrich [--from D --to D]`: the stored listings arXiv has not answered for
 * yet (`enrichment: pending`) asked about again, and stored through classify-paper
 * (`shared/arxiv/enrich-pending.ts`).
 */

export const usage = `usage: npm run -s papers -- enrich [--from YYYY-MM-DD --to YYYY-MM-DD]
  Finds the stored listings still pending enrichment (arXiv was down, slow or not configured when
  they were fetched) with one Query per day, never a Scan, asks the arXiv export API at
  ARXIV_API_URL about them (at most 100 ids per request, 3 s apart across every process, through
  the table's request gate), and sends those arXiv answered for through classify-paper, which
  stores arXiv's categories (categorySource "arxiv") beside the model's (predictedCategories).
  Papers arXiv does not have become "missing"; those it did not answer for stay "pending". The
  range (both ends included) defaults to every ingested day. Without ARXIV_API_URL nothing is
  asked (locally enrichment is off unless it is set).
Exit code 1 when papers are still pending or a record reached the classify dead-letter queue.
`;

const options = { from: { type: 'string' }, to: { type: 'string' } } as const;

export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, options);
  const range = optionalDayRangeOption(values);
  return withLocalStack(async (stack) => {
    const days = range ? daysBetween(range.from, range.to) : undefined;
    const report = await runEnrich(stack, await loadCliHandlers(stack), days, {
      onPending: (problem) => process.stderr.write(`  arXiv did not answer: ${problem}\n`),
    });
    const where = range ? `${range.from}..${range.to}` : `${report.days} ingested day(s)`;
    if (report.off) {
      process.stderr.write(
        `enrich ${where}: ARXIV_API_URL is not set, so arXiv was not asked; ${report.pending} listing(s) pending\n`,
      );
      return report.pending > 0 ? 1 : 0;
    }
    process.stderr.write(
      `enrich ${where}: ${report.pending} pending listing(s); ${report.enriched} enriched, ` +
        `${report.missing} missing from arXiv, ${report.stillPending} still pending\n`,
    );
    return report.stillPending > 0 || report.deadLettered > 0 ? 1 : 0;
  });
}
