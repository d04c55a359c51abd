import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { readCommandLine } from '../../shared/command-line';
import { optionalDayRangeOption } from '../../shared/history/day-range';
import type { IsoDate } from '../../shared/paper';
import { qualityTable } from '../../shared/quality/quality-table';
import { readQualityReport } from '../../shared/quality/read-quality';
import { QUALITY_DEFAULT_DAYS } from '../../shared/query/parameters';
import { DynamoPaperStore, type StoreLogger } from '../../shared/store/dynamo-paper-store';
import type { PaperReader } from '../../shared/store/paper-store';
import { withLocalStack } from '../stack';

/**
 * `npm run -s papers -- quality [--from D --to D] [--json]`: the shipped model against arXiv on the
 * enriched papers of the local table (`shared/quality/live-quality.ts`), per day and in total.
 */

export const usage = `usage: npm run -s papers -- quality [--from YYYY-MM-DD --to YYYY-MM-DD] [--json]
  How the shipped model does against arXiv on the enriched papers of the local table, per listing
  day and over the days together: how often its first category is arXiv's primary (top1=primary),
  is one of arXiv's categories (top1 in arXiv), and how often arXiv's primary is among its first
  three (primary in top3), beside the same figures on the model's validation split. Only papers
  enriched from arXiv with the model's prediction stored count; a day with none shows "-".
  The range (both ends included) defaults to the last ${QUALITY_DEFAULT_DAYS} ingested days that have listings.
  Each day is one Query on its partition, never a Scan.
  --json  the report as JSON (what GET /quality answers)
`;

const options = { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } } as const;

/** Unreadable items the reads skip are reported on stderr: stdout carries the report. */
const stderrLogger: StoreLogger = {
  warn: (message, details) => process.stderr.write(`papers quality: ${message} ${JSON.stringify(details)}\n`),
};

export async function run(args: string[]): Promise<number> {
  const { values } = readCommandLine(args, options);
  const range = optionalDayRangeOption(values);
  return withLocalStack(async (stack) => {
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    try {
      const store = new DynamoPaperStore(client, stack.env.TABLE_NAME ?? '', undefined, stderrLogger);
      // Without a range: the latest days with listings, oldest first (they need not be consecutive).
      const days = range ? undefined : (await latestDaysWithListings(store, QUALITY_DEFAULT_DAYS)).reverse();
      const [first, last] = [days?.[0], days?.at(-1)];
      const covered = range ?? (first && last ? { from: first, to: last } : undefined);
      if (!covered) {
        process.stderr.write('papers quality: no ingested day has listings yet (run papers ingest first)\n');
        return 1;
      }
      const report = await readQualityReport(store, covered, days);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const which = range ? '' : ` (the last ${days?.length} ingested day(s) with listings)`;
        process.stdout.write(`quality ${report.from}..${report.to}${which}\n${qualityTable(report)}`);
      }
      return 0;
    } finally {
      client.destroy();
    }
  });
}

/** The newest `count` ingested days that hold papers, newest first. */
async function latestDaysWithListings(
  reader: Pick<PaperReader, 'ingestedDays'>,
  count: number,
): Promise<IsoDate[]> {
  const days: IsoDate[] = [];
  let cursor: string | undefined;
  do {
    const page = await reader.ingestedDays({ limit: 100, cursor });
    for (const day of page.items) {
      if (day.papers > 0) days.push(day.day);
      if (days.length === count) return days;
    }
    cursor = page.cursor;
  } while (cursor);
  return days;
}
