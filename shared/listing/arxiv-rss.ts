import * as z from 'zod';
import type { Paper } from '../paper';
import { arxivPaper } from './arxiv';
import { isoDayOfRfc822 } from './dates';
import { describeZodIssues, ListingParseError, PaperParseError } from './errors';
import type { ListingContext, ListingItem, SplitListing } from './types';
import { childElement, childElements, childText, definedFields, parseXml, type XmlElement } from './xml';

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
  title: z.string().optional(),
  link: z.string().optional(),
  guid: z.string().optional(),
  description: z.string().optional(),
  categories: z.array(z.string()).optional(),
  creators: z.array(z.string()).optional(),
  pubDate: z.string().optional(),
  announceType: z.string().optional(),
  doi: z.string().optional(),
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
  const items: ListingItem[] = childElements(channel, 'item').map((node, index) => {
    const raw = itemFields(node);
    return listedOn ? { format: 'arxiv-rss', index, raw, listedOn } : { format: 'arxiv-rss', index, raw };
  });
  return listedOn ? { format: 'arxiv-rss', items, listedOn } : { format: 'arxiv-rss', items };
}

function itemFields(item: XmlElement): Partial<ArxivRssItem> {
  return definedFields({
    title: childText(item, 'title'),
    link: childText(item, 'link'),
    guid: childText(item, 'guid'),
    description: childText(item, 'description'),
    categories: childElements(item, 'category').map((category) => category.text.trim()),
    creators: childElements(item, 'dc:creator').map((creator) => creator.text.trim()),
    pubDate: childText(item, 'pubDate'),
    announceType: childText(item, 'arxiv:announce_type'),
    doi: childText(item, 'arxiv:DOI'),
  });
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
  const listedOn =
    (fields.pubDate ? isoDayOfRfc822(fields.pubDate) : undefined) ?? item.listedOn ?? context.listedOn;
  return arxivPaper({
    source: 'arxiv-rss',
    index: item.index,
    idText: `${fields.guid ?? ''} ${fields.link ?? ''}`,
    title: fields.title ?? '',
    abstract: (fields.description ?? '').trim().replace(DESCRIPTION_PREFIX, ''),
    authors: (fields.creators ?? []).flatMap(splitAuthors),
    categories: fields.categories ?? [],
    ...(listedOn ? { listedOn } : {}),
  });
}

/** `A, B and C`, `A, B, and C` or `A, B, C` to names (plain splits: a regex split cost more than the rest of the item). */
function splitAuthors(creators: string): string[] {
  const names: string[] = [];
  for (const part of creators.split(',')) {
    const name = part.trim();
    const bare = name.startsWith('and ') ? name.slice(4).trimStart() : name;
    if (bare.includes(' and ')) {
      for (const each of bare.split(' and ')) names.push(each.trim());
    } else {
      names.push(bare);
    }
  }
  return names;
}
