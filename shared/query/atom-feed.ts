import type { ListedPaper } from '../store/items';

/**
 * Papers as an Atom feed (RFC 4287) that feed readers accept: the feed's id, title, updated,
 * author and self link; per paper an entry with its id, title, updated, authors, categories, the
 * abstract as its summary, and links to its Hugging Face page (alternate), arXiv page and PDF.
 * Text is escaped, and characters XML 1.0 cannot carry (control characters, lone surrogates)
 * are dropped, so any stored abstract gives a well-formed document.
 */

export interface AtomFeed {
  /** Absolute URL of the feed itself: its `id` and `rel="self"` link. */
  selfUrl: string;
  title: string;
  subtitle: string;
  /** When the feed last changed when it has no entries (an RFC 3339 time). */
  emptyUpdated: string;
  /** Where a paper's record is when the paper has no link of its own (`/papers/{id}` of this API). */
  recordUrl: (id: string) => string;
  papers: readonly ListedPaper[];
}

const ATOM_NS = 'http://www.w3.org/2005/Atom';
/** arXiv's own Atom feeds name the scheme of their category terms so. */
const ARXIV_CATEGORY_SCHEME = 'http://arxiv.org/schemas/atom';
/** A paper with thousands of authors stays readable: the first ones, then "et al.". */
const MAX_AUTHORS = 50;
const GENERATOR = 'daily-papers-pipeline';

export function renderAtomFeed(feed: AtomFeed): string {
  const updated = feed.papers.map(entryUpdated).sort().at(-1) ?? feed.emptyUpdated;
  return [
    '<?xml version="1.0" encoding="utf-8"?>\n',
    `<feed xmlns="${ATOM_NS}">\n`,
    `  <id>${text(feed.selfUrl)}</id>\n`,
    `  <title>${text(feed.title)}</title>\n`,
    `  <subtitle>${text(feed.subtitle)}</subtitle>\n`,
    `  <updated>${updated}</updated>\n`,
    `  <link rel="self" type="application/atom+xml" href="${attribute(feed.selfUrl)}"/>\n`,
    `  <author><name>${GENERATOR}</name></author>\n`,
    `  <generator>${GENERATOR}</generator>\n`,
    ...feed.papers.map((paper) => renderEntry(paper, feed.recordUrl)),
    '</feed>\n',
  ].join('');
}

function renderEntry(paper: ListedPaper, recordUrl: (id: string) => string): string {
  const hf = paper.links.huggingface;
  const arxiv = paper.links.arxiv;
  const alternate = hf ?? arxiv ?? recordUrl(paper.id);
  const authors = paper.authors?.length ? paper.authors : ['Unknown'];
  const shown = authors.slice(0, MAX_AUTHORS);
  if (authors.length > MAX_AUTHORS) shown.push(`et al. (${authors.length - MAX_AUTHORS} more)`);
  const categories = (paper.categories ?? []).filter((category) => category.assigned);
  const lines = [
    '  <entry>\n',
    `    <id>${text(arxiv ?? alternate)}</id>\n`,
    `    <title>${text(paper.title)}</title>\n`,
    `    <updated>${entryUpdated(paper)}</updated>\n`,
    ...(paper.publishedOn ? [`    <published>${paper.publishedOn}T00:00:00Z</published>\n`] : []),
    ...shown.map((name) => `    <author><name>${text(name)}</name></author>\n`),
    `    <link rel="alternate" type="text/html" href="${attribute(alternate)}"/>\n`,
    ...(arxiv && arxiv !== alternate
      ? [`    <link rel="related" type="text/html" title="arXiv" href="${attribute(arxiv)}"/>\n`]
      : []),
    ...(arxiv && /^https:\/\/arxiv\.org\/abs\//.test(arxiv)
      ? [
          `    <link rel="related" type="application/pdf" title="PDF" href="${attribute(arxiv.replace('/abs/', '/pdf/'))}"/>\n`,
        ]
      : []),
    ...categories.map(
      (category) =>
        `    <category term="${attribute(category.code)}" scheme="${ARXIV_CATEGORY_SCHEME}" label="${attribute(category.name)}"/>\n`,
    ),
    ...(paper.abstract ? [`    <summary type="text">${text(paper.abstract)}</summary>\n`] : []),
    '  </entry>\n',
  ];
  return lines.join('');
}

/** When the entry last changed: its listing's fetch, else the start of its listing day. */
function entryUpdated(paper: ListedPaper): string {
  return paper.fetchedAt ? new Date(paper.fetchedAt).toISOString() : `${paper.listedOn}T00:00:00.000Z`;
}

/** Characters outside XML 1.0's Char production. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: those are the characters to drop
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function text(value: string): string {
  return value
    .replace(NOT_XML_CHAR, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

function attribute(value: string): string {
  return text(value)
    .replaceAll('"', '&quot;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\r', '&#13;')
    .replaceAll('\t', '&#9;');
}
