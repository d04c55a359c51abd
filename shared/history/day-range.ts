import { isoDayOption, UsageError } from '../command-line';
import { checkListingDay, ListingDayOutOfRangeError } from '../listing/listing-days';
import type { IsoDate } from '../paper';

/**
 * Ranges of listing days, as the history commands (backfill, replay, reclassify) take them:
 * `--from D --to D`, both ends included.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every day from `from` to `to`, both included, in order; empty when `from` is after `to`. */
export function daysBetween(from: IsoDate, to: IsoDate): IsoDate[] {
  const days: IsoDate[] = [];
  for (let time = Date.parse(`${from}T00:00:00Z`); time <= Date.parse(`${to}T00:00:00Z`); time += DAY_MS) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}

export interface DayRange {
  from: IsoDate;
  to: IsoDate;
}

/**
 * `--from` and `--to` as given on the command line.
 * @param firstDay when given, the source's first listing day: a range that reaches before it, or
 *   past tomorrow (UTC), is refused.
 * @throws UsageError when either is missing or not a real day, or `--from` is after `--to`.
 */
/**
 * `--from` and `--to` when the range is optional: undefined when neither is given (the command
 * then covers every ingested day), else as {@link dayRangeOption} reads them.
 */
export function optionalDayRangeOption(values: { from?: string; to?: string }): DayRange | undefined {
  return values.from === undefined && values.to === undefined ? undefined : dayRangeOption(values);
}

export function dayRangeOption(values: { from?: string; to?: string }, firstDay?: IsoDate): DayRange {
  if (values.from === undefined) throw new UsageError('--from is required');
  if (values.to === undefined) throw new UsageError('--to is required');
  const from = isoDayOption('--from', values.from);
  const to = isoDayOption('--to', values.to);
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  if (firstDay !== undefined) {
    for (const [flag, day] of [
      ['--from', from],
      ['--to', to],
    ] as const) {
      try {
        checkListingDay(day, firstDay);
      } catch (error) {
        if (error instanceof ListingDayOutOfRangeError)
          throw new UsageError(`${flag}: ${error.message}`, { cause: error });
        throw error;
      }
    }
  }
  return { from, to };
}

/**
 * A listing URL template (`--url-template`): an http(s) URL with `{date}` where the day goes.
 * @throws UsageError otherwise.
 */
export function urlTemplateOption(template: string): string {
  if (!template.includes('{date}')) {
    throw new UsageError(`--url-template must contain {date} where the day goes, got "${template}"`);
  }
  const example = template.replaceAll('{date}', '2026-06-12');
  const url = URL.canParse(example) ? new URL(example) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--url-template must be an http(s) URL, got "${template}"`);
  }
  return template;
}

/** The listing URL of `day` under `template`. */
export function listingUrlFor(template: string, day: IsoDate): string {
  return template.replaceAll('{date}', day);
}
