import { NonEmptyStringSchema } from '../common-schemas';
import type { Paper } from '../paper';
import * as z from '../zod';
import { type ArxivFields, arxivPaper } from './arxiv';
import { isoDayOf } from './dates';
import { describeZodIssues, ListingParseError, PaperParseError } from './errors';
import type { ListingContext, ListingItem, SplitListing } from './types';
import { childText, parseXml, type XmlElement } from './xml';

/**
 * The arXiv export API (`export.arxiv.org/api/query`): an Atom feed, one
 * `<entry>` per paper with `<id>` (the abs URL with version), `<title>`,
 * `<summary>`, `<published>`, `<author><name>`, `<category term>` and
 * `<arxiv:primary_category term>`. A query is not a listing day, so papers get
 * `listedOn` only from the context.
 */

/** The fields split from one `<entry>`: what travels in the queue message. */
export const ArxivAtomEntrySchema = z.object({
  id: NonEmptyStringSchema,
  title: z.optional(z.string()),
  summary: z.optional(z.string()),
  published: z.optional(z.string()),
  updated: z.optional(z.string()),
  authors: z.optional(z.array(z.string())),
  primaryCategory: z.optional(z.string()),
  categories: z.optional(z.array(z.string())),
  comment: z.optional(z.string()),
  journalRef: z.optional(z.string()),
  doi: z.optional(z.string()),
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
  const items: ListingItem[] = [];
  for (const child of feed.children) {
    if (child.name !== 'entry') continue;
    const raw = entryFields(child);
    if (raw.id && API_ERROR_ID.test(raw.id)) {
      throw new ListingParseError('arxiv-atom', `the arXiv API returned an error: ${raw.summary ?? raw.id}`);
    }
    items.push({ format: 'arxiv-atom', index: items.length, raw });
  }
  return { format: 'arxiv-atom', items };
}

const API_ERROR_ID = /\/api\/errors\b/;

/** What {@link entryFields} extracts; checked again by {@link ArxivAtomEntrySchema} on the other side of the queue. */
type ArxivAtomEntryFields = Partial<ArxivAtomEntry>;

/**
 * The entry's fields in one pass over its children: each text field from the
 * first element of its name, every author's name and category term in order.
 */
function entryFields(entry: XmlElement): ArxivAtomEntryFields {
  let id: string | undefined;
  let title: string | undefined;
  let summary: string | undefined;
  let published: string | undefined;
  let updated: string | undefined;
  let primary: XmlElement | undefined;
  let comment: string | undefined;
  let journalRef: string | undefined;
  let doi: string | undefined;
  const authors: string[] = [];
  const categories: string[] = [];
  for (const child of entry.children) {
    switch (child.name) {
      case 'id':
        id ??= child.text.trim();
        break;
      case 'title':
        title ??= child.text.trim();
        break;
      case 'summary':
        summary ??= child.text.trim();
        break;
      case 'published':
        published ??= child.text.trim();
        break;
      case 'updated':
        updated ??= child.text.trim();
        break;
      case 'author':
        authors.push(childText(child, 'name') ?? '');
        break;
      case 'arxiv:primary_category':
        primary ??= child;
        break;
      case 'category': {
        const term = child.attribute('term');
        if (term !== undefined) categories.push(term);
        break;
      }
      case 'arxiv:comment':
        comment ??= child.text.trim();
        break;
      case 'arxiv:journal_ref':
        journalRef ??= child.text.trim();
        break;
      case 'arxiv:doi':
        doi ??= child.text.trim();
        break;
    }
  }
  // Built in one fixed key order, without undefined fields, so the item serialises to what it says.
  const fields: ArxivAtomEntryFields = {};
  if (id !== undefined) fields.id = id;
  if (title !== undefined) fields.title = title;
  if (summary !== undefined) fields.summary = summary;
  if (published !== undefined) fields.published = published;
  if (updated !== undefined) fields.updated = updated;
  fields.authors = authors;
  const primaryCategory = primary?.attribute('term');
  if (primaryCategory !== undefined) fields.primaryCategory = primaryCategory;
  fields.categories = categories;
  if (comment !== undefined) fields.comment = comment;
  if (journalRef !== undefined) fields.journalRef = journalRef;
  if (doi !== undefined) fields.doi = doi;
  return fields;
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
  const categories = entry.categories ?? [];
  const fields: ArxivFields = {
    source: 'arxiv-atom',
    index: item.index,
    idText: entry.id,
    title: entry.title ?? '',
    abstract: entry.summary ?? '',
    authors: entry.authors ?? [],
    categories: entry.primaryCategory ? [entry.primaryCategory, ...categories] : categories,
  };
  if (entry.comment) fields.comment = entry.comment;
  const publishedOn = entry.published ? isoDayOf(entry.published) : undefined;
  if (publishedOn) fields.publishedOn = publishedOn;
  const listedOn = item.listedOn ?? context.listedOn;
  if (listedOn) fields.listedOn = listedOn;
  return arxivPaper(fields);
}
