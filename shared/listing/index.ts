import type { IsoDate, ListingFormat, Paper } from '../paper';
import { normalizeArxivAtomItem, splitArxivAtom } from './arxiv-atom';
import { normalizeArxivRssItem, splitArxivRss } from './arxiv-rss';
import { detectFormat } from './detect';
import { PaperParseError } from './errors';
import { normalizeHfItem, splitHfApi } from './hf-api';
import { splitHfHtml } from './hf-html';
import { normalizeHfTextItem, splitHfText } from './hf-text';
import type { ListingContext, ListingItem, ListingProblem, ParsedListing, SplitListing } from './types';

export { detectFormat } from './detect';
export { ListingParseError, PaperParseError } from './errors';
export type { ListingContext, ListingItem, ListingProblem, ParsedListing, SplitListing } from './types';

const decoder = new TextDecoder('utf-8');

/** The listing as text: bytes decoded as UTF-8 (invalid sequences become U+FFFD), a byte-order mark dropped. */
export function listingText(bytes: Uint8Array | string): string {
  const text = typeof bytes === 'string' ? bytes : decoder.decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Step 1 (fetch-listing): detects the format, checks the listing as a whole and
 * cuts it into items, each JSON-serialisable and small enough for one queue
 * message (an HF item is its API object, a few KB; an arXiv item its entry's
 * fields; a text-page item its block's lines). An empty array, feed or page is
 * a normal empty day: no items, no error.
 * @throws ListingParseError when the listing cannot be parsed at all; its
 * `format` is the format tried, or `'unknown'`, and its message says where it broke.
 */
export function splitListing(bytes: Uint8Array | string, context: ListingContext = {}): SplitListing {
  const text = listingText(bytes);
  const format = detectFormat(text, context);
  switch (format) {
    case 'hf-api':
      return splitHfApi(text);
    case 'hf-html':
      return splitHfHtml(text);
    case 'hf-text':
      return splitHfText(text, context);
    case 'arxiv-atom':
      return splitArxivAtom(text);
    case 'arxiv-rss':
      return splitArxivRss(text);
  }
}

const normalizers: Record<ListingFormat, (item: ListingItem, context: ListingContext) => Paper> = {
  'hf-api': (item, context) => normalizeHfItem(item, context, 'hf-api'),
  'hf-html': (item, context) => normalizeHfItem(item, context, 'hf-html'),
  'hf-text': normalizeHfTextItem,
  'arxiv-atom': normalizeArxivAtomItem,
  'arxiv-rss': normalizeArxivRssItem,
};

/**
 * Step 2 (parse-paper): validates one item against its format's item schema and
 * returns a paper that passes `PaperSchema`. Pure and deterministic: the same
 * item and context always give the same paper.
 * @throws PaperParseError (with the item's `index`) when the item is not a paper:
 * wrong types, no title, an unreadable date. The caller reports the item and
 * goes on with the others.
 */
export function normalizeItem(item: ListingItem, context: ListingContext = {}): Paper {
  const normalize = normalizers[item.format];
  if (!normalize) throw new PaperParseError(item.format, item.index, `unknown format "${item.format}"`);
  return normalize(item, context);
}

/**
 * The day a paper is filed under: its own listing day (one response can span days), else the
 * item's, else the listing's. fetch-listing counts a day's papers with it and parse-paper stores
 * them with it, so the two agree.
 */
export function paperListingDay(
  paper: Paper,
  item: ListingItem,
  listingDay: IsoDate | undefined,
): IsoDate | undefined {
  return paper.listedOn ?? item.listedOn ?? listingDay;
}

/**
 * Both steps in one process (the CLI, the benchmarks): every paper of the
 * listing, and a problem entry for each item that could not become one.
 * @throws ListingParseError when the listing cannot be parsed at all.
 */
export function parseListing(bytes: Uint8Array | string, context: ListingContext = {}): ParsedListing {
  const split: SplitListing = splitListing(bytes, context);
  const papers: Paper[] = [];
  const problems: ListingProblem[] = [];
  for (const item of split.items) {
    try {
      papers.push(normalizeItem(item, context));
    } catch (error) {
      if (!(error instanceof PaperParseError)) throw error;
      problems.push({ index: item.index, message: error.message });
    }
  }
  return { format: split.format, papers, problems };
}
