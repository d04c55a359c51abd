import { type IsoDate, normalizeWhitespace, type Paper, titleDerivedId } from '../paper';
import * as z from '../zod';
import { isoDay, isoDayOf, monthNumber, mostRecentDayNotAfter, nearestDay } from './dates';
import { describeZodIssues, PaperParseError } from './errors';
import type { ListingContext, ListingItem, SplitListing } from './types';

/**
 * The Hugging Face papers page rendered as plain text (what a browser's "save
 * as text" or a text-mode scraper keeps). Paragraphs are separated by blank lines:
 *
 *     Daily Papers            ← header, then the listing day ("Dec 16")
 *     byAK and the research community
 *     Dec 16
 *
 *     <title>
 *
 *     <abstract>
 *
 *       • 6 authors           ← or an organisation line, "apple Apple"
 *     ·
 *     Mar 19, 2021 4          ← the paper's date, an optional upvote count
 *
 * The last paragraph (authors, `·`, date) is missing for some papers.
 * Dates without a year belong to the most recent such day not after the listing day.
 */

const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\\.?';
/** `Mar 6`, `Dec 22, 2020`, `May 15 3` (3 upvotes), `Aug 2, 2024 4`. */
const DATE_LINE = new RegExp(`^${MONTH} (\\d{1,2})(?:, (\\d{4}))?(?: (\\d+))?$`);
const AUTHORS_LINE = /^•\s*(\d+)\s+authors?$/;
const DOT_LINE = '·';
const HEADING = 'Daily Papers';

/** One paper's block of the page: its lines as on the page, blank lines kept as `''`. */
export const HfTextItemSchema = z.array(z.string()).check(z.minLength(1));

/** True when the text looks like the papers page rendered as text. */
export function looksLikeHfText(text: string): boolean {
  return /^Daily Papers\s*$/m.test(text) || /^·\s*$/m.test(text);
}

/**
 * Cuts the page into one block per paper: a title paragraph, an abstract
 * paragraph, and the optional authors/date paragraph.
 *
 * The page names its listing day without a year ("Dec 16"); it is placed by
 * the day the listing was asked for (`context.listedOn`), else by the day it
 * was fetched (`context.fetchedAt`): a saved page ingested a year later still
 * means the day it was saved for. See {@link listingDayOf}.
 * Never throws: any text has a (possibly empty) list of blocks.
 */
export function splitHfText(text: string, context: ListingContext): SplitListing {
  const lines = text.split('\n');
  const paragraphs = paragraphsOf(lines);
  let next = 0;
  let listedOn: IsoDate | undefined;
  const heading = paragraphs.findIndex((p) => p.lines.length === 1 && p.lines[0] === HEADING);
  if (heading >= 0) {
    next = heading + 1;
    // The header's last paragraph is the listing day; a byline may come before it.
    for (let i = heading + 1; i < Math.min(heading + 4, paragraphs.length); i++) {
      const lines = (paragraphs[i] as Paragraph).lines;
      const date = lines.length === 1 ? parseDateLine(lines[0] as string) : undefined;
      if (date) {
        next = i + 1;
        listedOn = listingDayOf(date, context);
        break;
      }
    }
  }
  listedOn ??= context.listedOn;

  const items: ListingItem[] = [];
  while (next < paragraphs.length) {
    const title = paragraphs[next] as Paragraph;
    let last = next;
    const abstract = paragraphs[last + 1];
    if (abstract && !isMetaParagraph(abstract)) last++;
    const meta = paragraphs[last + 1];
    if (meta && isMetaParagraph(meta)) last++;
    const raw = lines.slice(title.start, (paragraphs[last] as Paragraph).end).map(withoutCarriageReturn);
    const index = items.length;
    items.push(listedOn ? { format: 'hf-text', index, raw, listedOn } : { format: 'hf-text', index, raw });
    next = last + 1;
  }
  return listedOn ? { format: 'hf-text', items, listedOn } : { format: 'hf-text', items };
}

/**
 * Turns one block into a paper: title, abstract, `authorCount` or `organization`,
 * `publishedOn` and `upvotes` from the date line. The page gives no arXiv id,
 * so the id is derived from the title.
 * @throws PaperParseError when the block is not a list of lines or its date line cannot be read.
 */
export function normalizeHfTextItem(item: ListingItem, context: ListingContext): Paper {
  const result = HfTextItemSchema.safeParse(item.raw);
  if (!result.success) {
    throw new PaperParseError('hf-text', item.index, describeZodIssues(result.error), {
      cause: result.error,
    });
  }
  const paragraphs = paragraphsOf(result.data).map((p) => p.lines);
  const metaLines =
    paragraphs.length > 1 && isMeta(paragraphs.at(-1) as string[]) ? paragraphs.pop() : undefined;
  const title = normalizeWhitespace(paragraphs.shift()?.join(' ') ?? '');
  if (!title) throw new PaperParseError('hf-text', item.index, 'no title');
  const abstract = normalizeWhitespace(paragraphs.map((p) => p.join(' ')).join(' '));

  const listedOn = item.listedOn ?? context.listedOn;
  const out: Paper = { id: titleDerivedId(title), title, abstract, links: {}, source: 'hf-text' };
  if (metaLines) {
    const dot = metaLines.indexOf(DOT_LINE);
    const byline = (dot < 0 ? metaLines.slice(0, 1) : metaLines.slice(0, dot)).join(' ');
    const dateLine = dot < 0 ? metaLines[1] : metaLines[dot + 1];
    const authors = AUTHORS_LINE.exec(byline);
    if (authors) {
      out.authorCount = Number(authors[1]);
    } else if (byline) {
      const space = byline.indexOf(' ');
      out.organization =
        space < 0 ? { name: byline } : { name: byline.slice(0, space), fullname: byline.slice(space + 1) };
    }
    if (dateLine !== undefined) {
      const date = parseDateLine(dateLine);
      if (!date) throw new PaperParseError('hf-text', item.index, `unreadable date line "${dateLine}"`);
      const publishedOn = resolveDate(date, listedOn);
      if (publishedOn) out.publishedOn = publishedOn;
      if (date.upvotes !== undefined) out.upvotes = date.upvotes;
    }
  }
  if (listedOn) out.listedOn = listedOn;
  return out;
}

interface Paragraph {
  lines: string[];
  /** Line index of the paragraph's first line and one past its last. */
  start: number;
  end: number;
}

/** Groups lines into paragraphs (runs of non-blank lines), each line trimmed. */
function paragraphsOf(lines: string[]): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let current: Paragraph | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line) {
      current = undefined;
      continue;
    }
    if (!current) {
      current = { lines: [], start: i, end: i };
      paragraphs.push(current);
    }
    current.lines.push(line);
    current.end = i + 1;
  }
  return paragraphs;
}

function withoutCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function isMetaParagraph(paragraph: Paragraph): boolean {
  return isMeta(paragraph.lines);
}

/** The authors/date paragraph: it holds the `·` separator or starts with `• N authors`. */
function isMeta(lines: string[]): boolean {
  return lines.includes(DOT_LINE) || AUTHORS_LINE.test(lines[0] ?? '');
}

interface DateLine {
  month: number;
  day: number;
  year?: number;
  upvotes?: number;
}

function parseDateLine(line: string): DateLine | undefined {
  const match = DATE_LINE.exec(line.trim());
  if (!match) return undefined;
  const month = monthNumber(match[1] as string) as number;
  const date: DateLine = { month, day: Number(match[2]) };
  if (match[3] !== undefined) date.year = Number(match[3]);
  if (match[4] !== undefined) date.upvotes = Number(match[4]);
  return date;
}

/** A full date as written, or a year-less one placed by the anchor day; undefined when neither is possible. */
/**
 * The page's listing day. Asked for a day, the page's "Dec 16" is the Dec 16 nearest to it (a page
 * saved for 2025-12-16 and ingested with `--date 2025-12-15` is still 2025's); otherwise the most
 * recent one not after the fetch (a page cannot list a day still to come).
 */
function listingDayOf(date: DateLine, context: ListingContext): IsoDate | undefined {
  if (date.year !== undefined) return isoDay(date.year, date.month, date.day);
  if (context.listedOn) return nearestDay(date.month, date.day, context.listedOn);
  return resolveDate(date, context.fetchedAt ? isoDayOf(context.fetchedAt) : undefined);
}

function resolveDate(date: DateLine, anchor: IsoDate | undefined): IsoDate | undefined {
  if (date.year !== undefined) return isoDay(date.year, date.month, date.day);
  return anchor ? mostRecentDayNotAfter(date.month, date.day, anchor) : undefined;
}
