import { createHash } from 'node:crypto';
import { NonEmptyStringSchema, NonNegativeIntSchema } from './common-schemas';
import * as z from './zod';

/**
 * The paper model every stage shares: the listing parsers produce it, the parse
 * queue's consumer validates it, the classifier reads its title and abstract,
 * the store maps it to table items and the query API returns it.
 *
 * Every optional field is absent when the source did not give it: never a
 * placeholder, never a guess.
 */

/** A calendar day, `YYYY-MM-DD`, checked to be a real date. */
export const IsoDateSchema = z.iso.date();
export type IsoDate = z.infer<typeof IsoDateSchema>;

/** The formats the listing parsers understand; recorded on every paper as `source`. */
export const ListingFormatSchema = z.enum(['hf-api', 'hf-html', 'hf-text', 'arxiv-atom', 'arxiv-rss']);
export type ListingFormat = z.infer<typeof ListingFormatSchema>;

export const OrganizationSchema = z.object({
  name: NonEmptyStringSchema,
  fullname: z.optional(NonEmptyStringSchema),
});
export type Organization = z.infer<typeof OrganizationSchema>;

export const PaperLinksSchema = z.object({
  arxiv: z.optional(z.url()),
  huggingface: z.optional(z.url()),
  github: z.optional(z.url()),
  projectPage: z.optional(z.url()),
});
export type PaperLinks = z.infer<typeof PaperLinksSchema>;

export const PaperSchema = z.object({
  /** arXiv id without version (`2410.17243`, `hep-th/9901001`), else {@link titleDerivedId}. */
  id: NonEmptyStringSchema,
  title: NonEmptyStringSchema,
  /** May be empty: some listings give a title alone. */
  abstract: z.string(),
  authors: z.optional(z.array(NonEmptyStringSchema)),
  /** Given alone by sources that only say "6 authors"; equals `authors.length` otherwise. */
  authorCount: z.optional(NonNegativeIntSchema),
  organization: z.optional(OrganizationSchema),
  /** The arXiv (publication) day. */
  publishedOn: z.optional(IsoDateSchema),
  /** The listing day: the day the paper appeared in the feed. */
  listedOn: z.optional(IsoDateSchema),
  upvotes: z.optional(NonNegativeIntSchema),
  comments: z.optional(NonNegativeIntSchema),
  links: PaperLinksSchema,
  keywords: z.optional(z.array(NonEmptyStringSchema)),
  /** AI-written one-line summary, when the source gives one. */
  summary: z.optional(NonEmptyStringSchema),
  /** arXiv categories as the source lists them (arXiv feeds), primary first. */
  sourceCategories: z.optional(z.array(NonEmptyStringSchema)),
  source: ListingFormatSchema,
});
export type Paper = z.infer<typeof PaperSchema>;

const NEW_STYLE_ARXIV_ID = /(?<!\d)(\d{4}\.\d{4,5})(?:v\d+)?(?!\d)/;
const OLD_STYLE_ARXIV_ID = /\b([a-z-]+(?:\.[A-Z]{2})?\/\d{7})(?:v\d+)?\b/;

/**
 * Extracts an arXiv id without its version from an id or URL
 * (`2410.17243v2`, `https://arxiv.org/abs/hep-th/9901001v1`). Returns undefined
 * when the text holds none.
 */
export function arxivIdFrom(text: string): string | undefined {
  return NEW_STYLE_ARXIV_ID.exec(text)?.[1] ?? OLD_STYLE_ARXIV_ID.exec(text)?.[1];
}

/**
 * Any whitespace run other than a lone ASCII space. Leaving lone spaces alone
 * (most of an abstract's whitespace) makes this several times faster than `/\s+/g`.
 */
const WHITESPACE_TO_COLLAPSE = / \s+|[^\S ]\s*/g;

/** Collapses every run of whitespace (arXiv's hard line breaks included) into one space. */
export function normalizeWhitespace(text: string): string {
  return text.replace(WHITESPACE_TO_COLLAPSE, ' ').trim();
}

/** Anything but printable ASCII, tab and line breaks: such titles take the general path. */
const NOT_PLAIN_ASCII = /[^\t\n\r -~]/;

/**
 * A stable id for a paper with no arXiv id: the same title, whatever its case,
 * punctuation or line breaks, always gives the same id.
 */
export function titleDerivedId(title: string): string {
  // Plain ASCII titles (most of them) take a shortcut with the same result:
  // NFKC leaves ASCII unchanged, and its letters and digits are exactly [a-z0-9].
  const canonical = NOT_PLAIN_ASCII.test(title)
    ? normalizeWhitespace(
        title
          .normalize('NFKC')
          .toLowerCase()
          .replace(/[^\p{L}\p{N}]+/gu, ' '),
      )
    : title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, ' ')
        .trim();
  return `title-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

export function arxivAbsUrl(arxivId: string): string {
  return `https://arxiv.org/abs/${arxivId}`;
}

export function huggingFacePaperUrl(arxivId: string): string {
  return `https://huggingface.co/papers/${arxivId}`;
}

const GITHUB_REPO_URL = /https?:\/\/(?:www\.)?github\.com\/[\w.-]+\/[\w.-]+/i;

const TRAILING_PUNCTUATION = /[.,;:)]+$/;

/** The first github.com repository URL in a text (an abstract's "Code: …" line), without trailing punctuation. */
export function githubUrlIn(text: string): string | undefined {
  // Most abstracts hold no URL at all: a plain search for "://" rules them out
  // faster than the case-insensitive pattern can.
  if (!text.includes('://')) return undefined;
  return GITHUB_REPO_URL.exec(text)?.[0].replace(TRAILING_PUNCTUATION, '');
}
