import type { ArxivRecord } from '../enrichment';
import { ArxivAtomEntrySchema, splitArxivAtom } from '../listing/arxiv-atom';
import { ListingParseError } from '../listing/errors';
import { arxivIdFrom } from '../paper';

/**
 * Reads an export-API answer (Atom) into what enrichment stores per paper: arXiv's categories
 * (primary first), comment, journal reference, DOI, the latest version and its date, keyed by
 * the arXiv id without its version, so `2606.13677v3` in the answer matches `2606.13677` asked.
 */

/** One paper as arXiv describes it, without where the answer is archived. */
export type ArxivEntry = Omit<ArxivRecord, 'atomArchiveKey' | 'enrichedAt'>;

const VERSION = /v(\d+)$/;

/**
 * The entries of an answer, by arXiv id without version. An entry without an id or a category
 * is left out (the paper then counts as missing from the answer).
 * @throws ListingParseError for bytes that are not an Atom feed, or an API error entry.
 */
export function arxivEntriesOf(bytes: Uint8Array): Map<string, ArxivEntry> {
  const split = splitArxivAtom(new TextDecoder().decode(bytes));
  const entries = new Map<string, ArxivEntry>();
  for (const item of split.items) {
    const parsed = ArxivAtomEntrySchema.safeParse(item.raw);
    if (!parsed.success) throw new ListingParseError('arxiv-atom', `entry ${item.index} is unreadable`);
    const entry = parsed.data;
    const id = arxivIdFrom(entry.id);
    if (!id) continue;
    // arXiv lists the primary among `<category>` too, usually first: primary once, then the rest in order.
    const codes = [entry.primaryCategory, ...(entry.categories ?? [])].filter(
      (code): code is string => typeof code === 'string' && code.trim() !== '',
    );
    const categories = [...new Set(codes.map((code) => code.trim()))];
    if (categories.length === 0) continue;
    const version = VERSION.exec(entry.id.trim())?.[1];
    const updated = entry.updated ? Date.parse(entry.updated) : Number.NaN;
    entries.set(id, {
      categories,
      ...(entry.comment ? { comment: entry.comment } : {}),
      ...(entry.journalRef ? { journalRef: entry.journalRef } : {}),
      ...(entry.doi ? { doi: entry.doi } : {}),
      ...(version ? { version: Number(version) } : {}),
      ...(Number.isNaN(updated) ? {} : { versionUpdated: new Date(updated).toISOString() }),
    });
  }
  return entries;
}
