import type { IsoDate } from '../paper';

/**
 * Calendar-day helpers for the listing parsers. Days are handled as written by
 * the source (the date part of a timestamp, the day named in a feed's own time
 * zone), never shifted through the local time zone of the machine parsing them.
 */

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

/** The month number (1–12) of an English month name or its three-letter abbreviation. */
export function monthNumber(name: string): number | undefined {
  return MONTHS[name.slice(0, 3).toLowerCase()];
}

/** `YYYY-MM-DD` for a day, or undefined when the day does not exist (Feb 30, Feb 29 of 2025). */
export function isoDay(year: number, month: number, day: number): IsoDate | undefined {
  if (!Number.isInteger(year) || year < 1000 || year > 9999) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

const LEADING_ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])/;

/**
 * The calendar day a timestamp was written for: the date part of
 * `2026-06-12T00:00:00.000Z` or `2025-12-16T23:30:00-05:00`, or of a bare
 * `YYYY-MM-DD`. Undefined when the text does not start with a real day.
 */
export function isoDayOf(timestamp: string): IsoDate | undefined {
  const match = LEADING_ISO_DAY.exec(timestamp);
  if (!match) return undefined;
  return isoDay(Number(match[1]), Number(match[2]), Number(match[3]));
}

/**
 * The most recent `month`/`day` that is not after `anchor` (a `YYYY-MM-DD`):
 * "Mar 6" seen on a page for 2025-12-16 is 2025-03-06, "Dec 20" is 2024-12-20.
 * Feb 29 goes back to the last leap year.
 */
export function mostRecentDayNotAfter(month: number, day: number, anchor: IsoDate): IsoDate | undefined {
  const anchorYear = Number(anchor.slice(0, 4));
  for (let year = anchorYear; year > anchorYear - 8; year--) {
    const candidate = isoDay(year, month, day);
    if (candidate && candidate <= anchor) return candidate;
    if (!candidate && (month < 1 || month > 12 || day < 1 || day > 31)) return undefined;
  }
  return undefined;
}

/**
 * The day `month`/`day` closest to `anchor` (the year before, of, or after it; the earlier on a
 * tie), or undefined when no such day exists.
 */
export function nearestDay(month: number, day: number, anchor: IsoDate): IsoDate | undefined {
  const anchorYear = Number(anchor.slice(0, 4));
  const anchorTime = Date.parse(anchor);
  let best: { day: IsoDate; distance: number } | undefined;
  for (const year of [anchorYear - 1, anchorYear, anchorYear + 1]) {
    const candidate = isoDay(year, month, day);
    if (!candidate) continue;
    const distance = Math.abs(Date.parse(candidate) - anchorTime);
    if (!best || distance < best.distance) best = { day: candidate, distance };
  }
  return best?.day;
}

/** Leading whitespace is matched rather than trimmed: one string fewer per item of a feed. */
const RFC822_DAY = /^\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})\b/;

/** Months as RFC 822 writes them; other spellings take {@link monthNumber}. */
const RFC822_MONTHS: Readonly<Record<string, number>> = {
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
};

/**
 * The calendar day of an RSS (RFC 822) date as written, in its own time zone:
 * `Thu, 24 Sep 2026 00:00:00 -0400` is 2026-09-24.
 */
export function isoDayOfRfc822(text: string): IsoDate | undefined {
  const match = RFC822_DAY.exec(text);
  if (!match) return undefined;
  const month = RFC822_MONTHS[match[2] as string] ?? monthNumber(match[2] as string);
  return month === undefined ? undefined : isoDay(Number(match[3]), month, Number(match[1]));
}
