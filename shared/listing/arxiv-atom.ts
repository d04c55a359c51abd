import * as z from 'zod';
import type { Paper } from '../paper';
import { arxivPaper } from './arxiv';
import { isoDayOf } from './dates';
import { describeZodIssues, ListingParseError, PaperParseError } from './errors';
import type { ListingContext, ListingItem, SplitListing } from './types';
import { childElement, childElements, childText, definedFields, parseXml, type XmlElement } from './xml';

/**
 * The arXiv export API (`export.arxiv.org/api/query`): an Atom feed, one
 * `<entry>` per paper with `<id>` (the abs URL with version), `<title>`,
 * `<summary>`, `<published>`, `<author><name>`, `<category term>` and
 * `<arxiv:primary_category term>`. A query is not a listing day, so papers get
 * `listedOn` only from the context.
 */

/** The fields split from one `<entry>`: what travels in the queue message. */
export const ArxivAtomEntrySchema = z.object({
  id: z.string().min(1),
  title: z.string().optional(),
  summary: z.string().optional(),
  published: z.string().optional(),
  updated: z.string().optional(),
  authors: z.array(z.string()).optional(),
  primaryCategory: z.string().optional(),
  categories: z.array(z.string()).optional(),
  comment: z.string().optional(),
  journalRef: z.string().optional(),
  doi: z.string().optional(),
});
export type ArxivAtomEntry = z.infer<typeof ArxivAtomEntrySchema>;

/**
 * Checks the feed and extracts each entry's fields. An entry whose `<id>` is an
 * API error URL means the query failed: the whole listing fails.
 * @throws ListingParseError for malformed XML, a root that is not `<feed>`, or an API error entry.
 */
export function splitArxivAtom(text: string): SplitListing {
  const feed = parseXml(text, 'arxiv-atom');
  if (feed.name !== 'feed')
    throw new ListingParseError('arxiv-atom', `the root element is <${feed.name}>, not <feed>`);
  const items: ListingItem[] = childElements(feed, 'entry').map((entry, index) => ({
    format: 'arxiv-atom',
    index,
    raw: entryFields(entry),
  }));
  for (const { raw } of items) {
    const { id, summary } = raw as ArxivAtomEntryFields;
    if (id && /\/api\/errors\b/.test(id)) {
      throw new ListingParseError('arxiv-atom', `the arXiv API returned an error: ${summary ?? id}`);
    }
  }
  return { format: 'arxiv-atom', items };
}

/** What {@link entryFields} extracts; checked again by {@link ArxivAtomEntrySchema} on the other side of the queue. */
type ArxivAtomEntryFields = Partial<ArxivAtomEntry>;

function entryFields(entry: XmlElement): ArxivAtomEntryFields {
  return definedFields({
    id: childText(entry, 'id'),
    title: childText(entry, 'title'),
    summary: childText(entry, 'summary'),
    published: childText(entry, 'published'),
    updated: childText(entry, 'updated'),
    authors: childElements(entry, 'author').map((author) => childText(author, 'name') ?? ''),
    primaryCategory: childElement(entry, 'arxiv:primary_category')?.attributes.term,
    categories: childElements(entry, 'category').flatMap((category) => category.attributes.term ?? []),
    comment: childText(entry, 'arxiv:comment'),
    journalRef: childText(entry, 'arxiv:journal_ref'),
    doi: childText(entry, 'arxiv:doi'),
  });
}

/**
 * One entry's fields to a paper: arXiv id from `<id>`, `publishedOn` from
 * `<published>`, categories primary first, `listedOn` from the context.
 * @throws PaperParseError when the fields do not match {@link ArxivAtomEntrySchema} or the title is empty.
 */
export function normalizeArxivAtomItem(item: ListingItem, context: ListingContext): Paper {
  const result = ArxivAtomEntrySchema.safeParse(item.raw);
  if (!result.success) {
    throw new PaperParseError('arxiv-atom', item.index, describeZodIssues(result.error), {
      cause: result.error,
    });
  }
  const entry = result.data;
  const categories = [...(entry.primaryCategory ? [entry.primaryCategory] : []), ...(entry.categories ?? [])];
  const publishedOn = entry.published ? isoDayOf(entry.published) : undefined;
  const listedOn = item.listedOn ?? context.listedOn;
  return arxivPaper({
    source: 'arxiv-atom',
    index: item.index,
    idText: entry.id,
    title: entry.title ?? '',
    abstract: entry.summary ?? '',
    authors: entry.authors ?? [],
    categories,
    ...(entry.comment ? { comment: entry.comment } : {}),
    ...(publishedOn ? { publishedOn } : {}),
    ...(listedOn ? { listedOn } : {}),
  });
}
