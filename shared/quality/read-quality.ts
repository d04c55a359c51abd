import { daysBetween } from '../history/day-range';
import type { IsoDate } from '../paper';
import type { PaperReader } from '../store/paper-store';
import {
  type QualityListing,
  type QualityListingItem,
  type QualityReport,
  qualityListingOfItem,
  qualityReport,
} from './live-quality';
import { shippedValidationFigures } from './validation-figures';

/** Days read at once: a range of up to 366 days is that many Queries, kept from hitting the table all together. */
const CONCURRENT_DAYS = 8;

/**
 * The quality report of `days` (each day's listings read with one Query on its partition, a few
 * days at a time), against the shipped model's validation figures. `range` is what the report
 * says it covers; the days default to every day of it.
 */
export async function readQualityReport(
  reader: Pick<PaperReader, 'qualityListingsOn'>,
  range: { from: IsoDate; to: IsoDate },
  days: readonly IsoDate[] = daysBetween(range.from, range.to),
): Promise<QualityReport> {
  const listingsByDay = new Map<IsoDate, QualityListing[]>();
  for (let start = 0; start < days.length; start += CONCURRENT_DAYS) {
    const chunk = days.slice(start, start + CONCURRENT_DAYS);
    const read = await Promise.all(chunk.map((day) => reader.qualityListingsOn(day)));
    chunk.forEach((day, i) => {
      listingsByDay.set(day, read[i] ?? []);
    });
  }
  return qualityReport(range, listingsByDay, shippedValidationFigures());
}

/**
 * The quality report of stored listing items already in hand (a benchmark's table after a run, a
 * test's items): grouped by listing day, over every day from the first to the last (or `range`).
 */
export function qualityReportOfListings(
  items: readonly QualityListingItem[],
  range?: { from: IsoDate; to: IsoDate },
): QualityReport {
  const days = items.map((item) => item.listedOn).sort();
  const covered = range ?? { from: days[0] ?? '', to: days.at(-1) ?? '' };
  const listingsByDay = new Map<IsoDate, QualityListing[]>(
    covered.from === '' ? [] : daysBetween(covered.from, covered.to).map((day) => [day, []]),
  );
  for (const item of items) listingsByDay.get(item.listedOn)?.push(qualityListingOfItem(item));
  return qualityReport(covered, listingsByDay, shippedValidationFigures());
}
