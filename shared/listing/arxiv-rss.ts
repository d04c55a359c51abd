import type { Paper } from '../paper';
import * as z from '../zod';
import { type ArxivFields, arxivPaper } from './arxiv';
import { isoDayOfRfc822 } from './dates';
import { describeZodIssues, ListingParseError, PaperParseError } from './errors';
import type { ListingContext, ListingItem, SplitListing } from './types';
import { childElement, childText, parseXml, type XmlElement } from './xml';

/**
 * The arXiv RSS feed (`rss.arxiv.org/rss/cs.LG+cs.AI`): one `<item>` per
 * announcement with `<title>`, `<link>`, `<guid>` (`oai:arXiv.org:2609.26811v1`),
 * `<description>` ("arXiv:… Announce Type: new Abstract: …"), `<category>`
 * (primary first), `<dc:creator>` (comma-separated names), `<pubDate>` (the
 * announcement day, which is the listing day) and `<arxiv:announce_type>`.
 * The feed gives no submission date, so these papers have no `publishedOn`.
 */

/** The fields split from one `<item>`: what travels in the queue message. */
export const ArxivRssItemSchema = z.object({
  title: z.optional(z.string()),
  link: z.optional(z.string()),
  guid: z.optional(z.string()),
  description: z.optional(z.string()),
  categories: z.optional(z.array(z.string())),
  creators: z.optional(z.array(z.string())),
  pubDate: z.optional(z.string()),
  announceType: z.optional(z.string()),
  doi: z.optional(z.string()),
});
export type ArxivRssItem = z.infer<typeof ArxivRssItemSchema>;

/**
 * Checks the feed and extracts each item's fields; the channel's `<pubDate>`
 * is the listing day.
 * @throws ListingParseError for malformed XML or a document without `<rss><channel>`.
 */
export function splitArxivRss(text: string): SplitListing {
  const rss = parseXml(text, 'arxiv-rss');
  const channel = rss.name === 'rss' ? childElement(rss, 'channel') : undefined;
  if (!channel) throw new ListingParseError('arxiv-rss', `no <rss><channel> element (root is <${rss.name}>)`);
  const channelDate = childText(channel, 'pubDate');
  const listedOn = channelDate ? isoDayOfRfc822(channelDate) : undefined;
  const items: ListingItem[] = [];
  for (const child of channel.children) {
    if (child.name !== 'item') continue;
    const raw = itemFields(child);
    const index = items.length;
    items.push(
      listedOn ? { format: 'arxiv-rss', index, raw, listedOn } : { format: 'arxiv-rss', index, raw },
    );
  }
  return listedOn ? { format: 'arxiv-rss', items, listedOn } : { format: 'arxiv-rss', items };
}

/**
 * The item's fields in one pass over its children: each text field from the
 * first element of its name, every category and creator in order.
 */
function itemFields(item: XmlElement): Partial<ArxivRssItem> {
  let title: string | undefined;
  let link: string | undefined;
  let guid: string | undefined;
  let description: string | undefined;
  let pubDate: string | undefined;
  let announceType: string | undefined;
  let doi: string | undefined;
  const categories: string[] = [];
  const creators: string[] = [];
  for (const child of item.children) {
    switch (child.name) {
      case 'title':
        title ??= child.text.trim();
        break;
      case 'link':
        link ??= child.text.trim();
        break;
      case 'guid':
        guid ??= child.text.trim();
        break;
      case 'description':
        description ??= child.text.trim();
        break;
      case 'category':
        categories.push(child.text.trim());
        break;
      case 'dc:creator':
        creators.push(child.text.trim());
        break;
      case 'pubDate':
        pubDate ??= child.text.trim();
        break;
      case 'arxiv:announce_type':
        announceType ??= child.text.trim();
        break;
      case 'arxiv:DOI':
        doi ??= child.text.trim();
        break;
    }
  }
  // Built in one fixed key order, without undefined fields, so the item serialises to what it says.
  const fields: Partial<ArxivRssItem> = {};
  if (title !== undefined) fields.title = title;
  if (link !== undefined) fields.link = link;
  if (guid !== undefined) fields.guid = guid;
  if (description !== undefined) fields.description = description;
  fields.categories = categories;
  fields.creators = creators;
  if (pubDate !== undefined) fields.pubDate = pubDate;
  if (announceType !== undefined) fields.announceType = announceType;
  if (doi !== undefined) fields.doi = doi;
  return fields;
}

const DESCRIPTION_PREFIX = /^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?/;

/**
 * One item's fields to a paper: arXiv id from `<guid>` or `<link>`, the abstract
 * without arXiv's "arXiv:… Announce Type: … Abstract:" prefix, authors split
 * at commas, `listedOn` from the item's `<pubDate>`, else the channel's, else the context.
 * @throws PaperParseError when the fields do not match {@link ArxivRssItemSchema} or the title is empty.
 */
export function normalizeArxivRssItem(item: ListingItem, context: ListingContext): Paper {
  const result = ArxivRssItemSchema.safeParse(item.raw);
  if (!result.success) {
    throw new PaperParseError('arxiv-rss', item.index, describeZodIssues(result.error), {
      cause: result.error,
    });
  }
  const fields = result.data;
  const authors: string[] = [];
  if (fields.creators) for (const creators of fields.creators) splitAuthors(creators, authors);
  const paper: ArxivFields = {
    source: 'arxiv-rss',
    index: item.index,
    idText: `${fields.guid ?? ''} ${fields.link ?? ''}`,
    title: fields.title ?? '',
    // The split trims the description; a hand-made item may not be trimmed.
    abstract: (fields.description ?? '').trim().replace(DESCRIPTION_PREFIX, ''),
    authors,
    categories: fields.categories ?? [],
  };
  const listedOn =
    (fields.pubDate ? isoDayOfRfc822(fields.pubDate) : undefined) ?? item.listedOn ?? context.listedOn;
  if (listedOn) paper.listedOn = listedOn;
  return arxivPaper(paper);
}

/**
 * `A, B and C`, `A, B, and C` or `A, B, C` to names, appended to `names`
 * (plain searches: a regex split, and even `split(',')`, cost more than the rest of the item).
 */
function splitAuthors(creators: string, names: string[]): void {
  let start = 0;
  for (;;) {
    const comma = creators.indexOf(',', start);
    const part = (comma < 0 ? creators.slice(start) : creators.slice(start, comma)).trim();
    const bare = part.startsWith('and ') ? part.slice(4).trimStart() : part;
    if (bare.includes(' and ')) {
      for (const each of bare.split(' and ')) names.push(each.trim());
    } else {
      names.push(bare);
    }
    if (comma < 0) return;
    start = comma + 1;
  }
}
