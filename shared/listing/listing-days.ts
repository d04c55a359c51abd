import type { IsoDate } from '../paper';

/**
 * Which listing days can exist. A day after tomorrow (UTC) has no listing yet (tomorrow is
 * allowed: somewhere it already is), and no source lists papers from before it existed.
 * fetch-listing and the CLI refuse such a day with {@link ListingDayOutOfRangeError} before
 * fetching anything, so a typo (`2099-01-01`, `0001-01-01`) is never stored as a day.
 */

/** The first day of Hugging Face Daily Papers. */
export const HF_DAILY_PAPERS_FIRST_DAY: IsoDate = '2023-05-01';
/** arXiv's first month (hep-th/9108001 is of 14 August 1991): the earliest any listing source has. */
export const ARXIV_FIRST_DAY: IsoDate = '1991-08-01';

/** A listing day that cannot have a listing: after tomorrow (UTC), or before its source existed. */
export class ListingDayOutOfRangeError extends Error {
  override name = 'ListingDayOutOfRangeError';
}

/**
 * The first day the source at `url` has a listing for: Hugging Face's for huggingface.co,
 * otherwise arXiv's (the earliest of any source: an arXiv feed, a saved file, another feed).
 */
export function firstListingDayOf(url: string | undefined): IsoDate {
  const host = url && URL.canParse(url) ? new URL(url).hostname : '';
  return host === 'huggingface.co' || host.endsWith('.huggingface.co')
    ? HF_DAILY_PAPERS_FIRST_DAY
    : ARXIV_FIRST_DAY;
}

/**
 * @param firstDay the source's first listing day (see {@link firstListingDayOf}).
 * @throws ListingDayOutOfRangeError naming the bound the day is past.
 */
export function checkListingDay(day: IsoDate, firstDay: IsoDate, now: Date = new Date()): void {
  const tomorrow = new Date(now.getTime() + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
  if (day > tomorrow) {
    throw new ListingDayOutOfRangeError(
      `the listing day ${day} is after tomorrow (${tomorrow}, UTC): there is no listing for it yet`,
    );
  }
  if (day < firstDay) {
    throw new ListingDayOutOfRangeError(
      `the listing day ${day} is before ${firstDay}, the source's first day: there is no listing for it`,
    );
  }
}
