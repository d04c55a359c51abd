import { NonEmptyStringSchema, NonNegativeIntSchema } from '../common-schemas';
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
import * as z from '../zod';
import { isoDayOf } from './dates';
import { describeJsonError, describeZodIssues, ListingParseError, PaperParseError } from './errors';
import type { ListingContext, ListingItem, SplitListing } from './types';

/**
 * The Hugging Face daily papers API (`GET /api/daily_papers`): a bare JSON
 * array of items `{ paper: {...}, title, publishedAt, numComments, organization, ... }`.
 * The papers page (hf-html) embeds items of the same shape, so its items are
 * normalised here too.
 */

/** `YYYY-MM-DD…`: the API's timestamps, of which only the day is used. */
const Timestamp = z.string().check(
  z.refine((value) => isoDayOf(value) !== undefined, {
    message: 'expected an ISO 8601 timestamp',
  }),
);

const HfOrganizationSchema = z.object({
  name: NonEmptyStringSchema,
  fullname: z.nullish(z.string()),
});

/**
 * One API item, as far as the paper model reads it; other fields are ignored.
 * Optional fields may be missing or `null`; a field of the wrong type fails the item.
 */
export const HfDailyPaperItemSchema = z.object({
  paper: z.object({
    id: NonEmptyStringSchema,
    title: z.nullish(z.string()),
    summary: z.nullish(z.string()),
    authors: z.nullish(z.array(z.object({ name: z.string() }))),
    publishedAt: z.nullish(Timestamp),
    submittedOnDailyAt: z.nullish(Timestamp),
    upvotes: z.nullish(NonNegativeIntSchema),
    ai_summary: z.nullish(z.string()),
    ai_keywords: z.nullish(z.array(z.string())),
    githubRepo: z.nullish(z.string()),
    projectPage: z.nullish(z.string()),
    organization: z.nullish(HfOrganizationSchema),
  }),
  title: z.nullish(z.string()),
  publishedAt: z.nullish(Timestamp),
  numComments: z.nullish(NonNegativeIntSchema),
  organization: z.nullish(HfOrganizationSchema),
});
export type HfDailyPaperItem = z.infer<typeof HfDailyPaperItemSchema>;

/**
 * Checks that the text is a JSON array and cuts it into one item per element.
 * Elements are not validated here: a bad element becomes a problem in
 * {@link normalizeHfItem}, not a failure of the whole listing.
 *
 * The split's `listedOn` is the listing day the response stands for: the
 * latest readable day of `paper.submittedOnDailyAt`. A response can span
 * several days (`?date=` around a weekend, or no date at all), carrying papers
 * over from earlier days but never from later ones, so the latest is the
 * listing's own. An element without a readable day does not change it (that
 * element alone is rejected, or placed by the listing's day); it is absent for
 * an empty array and when no element carries the field (responses from 2024).
 * @throws ListingParseError when the text is not JSON or not an array.
 */
export function splitHfApi(text: string): SplitListing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ListingParseError('hf-api', describeJsonError(text, error), { cause: error });
  }
  if (!Array.isArray(parsed)) {
    const error = isRecord(parsed) && typeof parsed.error === 'string' ? ` (error: ${parsed.error})` : '';
    throw new ListingParseError('hf-api', `expected a JSON array of papers, got ${jsonKind(parsed)}${error}`);
  }
  const items: ListingItem[] = parsed.map((raw, index) => ({ format: 'hf-api', index, raw }));
  const listedOn = latestListingDay(parsed);
  return listedOn ? { format: 'hf-api', items, listedOn } : { format: 'hf-api', items };
}

/** The latest readable day of the elements' `paper.submittedOnDailyAt`, or undefined when none has one. */
function latestListingDay(elements: unknown[]): IsoDate | undefined {
  let latest: IsoDate | undefined;
  for (const element of elements) {
    const paper = isRecord(element) ? element.paper : undefined;
    const submitted = isRecord(paper) ? paper.submittedOnDailyAt : undefined;
    const day = typeof submitted === 'string' ? isoDayOf(submitted) : undefined;
    if (day && (!latest || day > latest)) latest = day;
  }
  return latest;
}

/**
 * Turns one API-shaped item into a paper.
 *
 * `listedOn` is `paper.submittedOnDailyAt`; responses from 2024 lack it, and
 * then it is the listing's own day (the HTML page's `dateString`), the day that
 * was asked for (`context.listedOn`), or the day of the item's outer `publishedAt`.
 * @throws PaperParseError when the item does not match {@link HfDailyPaperItemSchema} or has no title.
 */
export function normalizeHfItem(
  item: ListingItem,
  context: ListingContext,
  source: Extract<ListingFormat, 'hf-api' | 'hf-html'>,
): Paper {
  const result = HfDailyPaperItemSchema.safeParse(item.raw);
  if (!result.success) {
    throw new PaperParseError(source, item.index, describeZodIssues(result.error), { cause: result.error });
  }
  const { paper, ...outer } = result.data;
  const title = normalizeWhitespace(paper.title ?? outer.title ?? '');
  if (!title) throw new PaperParseError(source, item.index, 'no title');
  const abstract = normalizeWhitespace(paper.summary ?? '');

  const arxivId = arxivIdFrom(paper.id);
  const links: PaperLinks = {};
  if (arxivId) {
    links.arxiv = arxivAbsUrl(arxivId);
    links.huggingface = huggingFacePaperUrl(arxivId);
  }
  const github = httpUrl(paper.githubRepo) ?? githubUrlIn(abstract);
  if (github) links.github = github;
  const projectPage = httpUrl(paper.projectPage);
  if (projectPage) links.projectPage = projectPage;

  const out: Paper = { id: arxivId ?? titleDerivedId(title), title, abstract, links, source };
  const authors = paper.authors?.map((author) => normalizeWhitespace(author.name)).filter(Boolean);
  if (authors?.length) {
    out.authors = authors;
    out.authorCount = authors.length;
  }
  const organization = outer.organization ?? paper.organization;
  if (organization) {
    const fullname = organization.fullname ? normalizeWhitespace(organization.fullname) : '';
    out.organization = fullname ? { name: organization.name, fullname } : { name: organization.name };
  }
  const publishedOn = paper.publishedAt ? isoDayOf(paper.publishedAt) : undefined;
  if (publishedOn) out.publishedOn = publishedOn;
  const listedOn =
    (paper.submittedOnDailyAt ? isoDayOf(paper.submittedOnDailyAt) : undefined) ??
    item.listedOn ??
    context.listedOn ??
    (outer.publishedAt ? isoDayOf(outer.publishedAt) : undefined);
  if (listedOn) out.listedOn = listedOn;
  if (paper.upvotes != null) out.upvotes = paper.upvotes;
  if (outer.numComments != null) out.comments = outer.numComments;
  const keywords = paper.ai_keywords?.map(normalizeWhitespace).filter(Boolean);
  if (keywords?.length) out.keywords = keywords;
  const summary = paper.ai_summary ? normalizeWhitespace(paper.ai_summary) : '';
  if (summary) out.summary = summary;
  return out;
}

/** The URL when the text is an absolute http(s) URL; links that are not are left out. */
export function httpUrl(text: string | null | undefined): string | undefined {
  const trimmed = text?.trim();
  if (!trimmed || !/^https?:\/\/[^\s/]+/i.test(trimmed)) return undefined;
  return URL.canParse(trimmed) ? trimmed : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
