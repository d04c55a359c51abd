import {
  arxivAbsUrl,
  arxivIdFrom,
  githubUrlIn,
  huggingFacePaperUrl,
  type IsoDate,
  type ListingFormat,
  normalizeWhitespace,
  type Paper,
  type PaperLinks,
  titleDerivedId,
} from '../paper';
import { PaperParseError } from './errors';

/** What both arXiv feeds (Atom and RSS) say about a paper, already read from their item schemas. */
export interface ArxivFields {
  source: Extract<ListingFormat, 'arxiv-atom' | 'arxiv-rss'>;
  index: number;
  /** Text holding the arXiv id: the Atom `<id>` URL, the RSS `<guid>` or `<link>`. */
  idText: string;
  title: string;
  abstract: string;
  authors: string[];
  /** Primary category first. */
  categories: string[];
  comment?: string;
  publishedOn?: IsoDate;
  listedOn?: IsoDate;
}

const TRAILING_DOTS = /[.]+$/;
const PROJECT_PAGE = /project\s*page\s*(?:at|is)?\s*:?\s*(https?:\/\/[^\s,;)]+)/i;

/**
 * The paper both arXiv feeds describe. Links: the abstract page and the HF
 * paper page by arXiv id; GitHub from the abstract or the author's comment;
 * a project page the comment names ("Project Page: https://…").
 * @throws PaperParseError when the title is empty.
 */
export function arxivPaper(fields: ArxivFields): Paper {
  const title = normalizeWhitespace(fields.title);
  if (!title) throw new PaperParseError(fields.source, fields.index, 'no title');
  const abstract = normalizeWhitespace(fields.abstract);
  const arxivId = arxivIdFrom(fields.idText);
  const comment = fields.comment ? normalizeWhitespace(fields.comment) : '';

  const links: PaperLinks = {};
  if (arxivId) {
    links.arxiv = arxivAbsUrl(arxivId);
    links.huggingface = huggingFacePaperUrl(arxivId);
  }
  const github = githubUrlIn(abstract) ?? githubUrlIn(comment);
  if (github) links.github = github;
  const projectPage = PROJECT_PAGE.exec(comment)?.[1]?.replace(TRAILING_DOTS, '');
  if (projectPage && URL.canParse(projectPage)) links.projectPage = projectPage;

  const out: Paper = { id: arxivId ?? titleDerivedId(title), title, abstract, links, source: fields.source };
  const authors: string[] = [];
  for (const author of fields.authors) {
    const name = normalizeWhitespace(author);
    if (name) authors.push(name);
  }
  if (authors.length) {
    out.authors = authors;
    out.authorCount = authors.length;
  }
  if (fields.publishedOn) out.publishedOn = fields.publishedOn;
  if (fields.listedOn) out.listedOn = fields.listedOn;
  // A handful per paper: a linear duplicate check costs less than a Set.
  const categories: string[] = [];
  for (const category of fields.categories) {
    const term = category.trim();
    if (term && !categories.includes(term)) categories.push(term);
  }
  if (categories.length) out.sourceCategories = categories;
  return out;
}
