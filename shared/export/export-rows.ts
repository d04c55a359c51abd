import { canonicalCategory } from '../classify/taxonomy';
import type { IsoDate } from '../paper';
import { addDays } from '../query/parameters';
import type { ListedPaper } from '../store/items';
import type { PaperReader } from '../store/paper-store';
import type { ExportRow } from './columns';

/**
 * What a paper export reads and how a stored listing becomes a row. Pure over the store's read
 * side: every read is the store's Query on one day's partition (`byDayId`, by id, so paging is
 * stable while upvotes move), a page at a time, so memory holds one page whatever the range.
 */

export interface ExportRange {
  from: IsoDate;
  to: IsoDate;
  /** Only the listings this category is assigned to (either name of an arXiv alias pair). */
  category?: string;
}

/** The page size of the reads: DynamoDB's pages are at most 1 MB, and a listing is a few KB. */
const PAGE_SIZE = 100;

/** The days of `range`, first to last. */
export function* daysOf(range: Pick<ExportRange, 'from' | 'to'>): Generator<IsoDate> {
  for (let day = range.from; day <= range.to; day = addDays(day, 1)) {
    yield day;
    if (day === '9999-12-31') return;
  }
}

/**
 * The listings of one day, by paper id, read a page at a time; with a category, the ones it is
 * assigned to. Yields each row as its page arrives.
 */
export async function* exportRowsOfDay(
  reader: Pick<PaperReader, 'papersListedOn'>,
  day: IsoDate,
  category?: string,
): AsyncGenerator<ExportRow> {
  const wanted = category === undefined ? undefined : canonicalCategory(category);
  let cursor: string | undefined;
  do {
    const page = await reader.papersListedOn(day, { limit: PAGE_SIZE, cursor }, 'id');
    for (const paper of page.items) {
      if (wanted !== undefined && !isAssigned(paper, wanted)) continue;
      yield exportRow(paper);
    }
    cursor = page.cursor;
  } while (cursor);
}

/** Every listing of the range, day by day, each day's by paper id. */
export async function* exportRows(
  reader: Pick<PaperReader, 'papersListedOn'>,
  range: ExportRange,
): AsyncGenerator<ExportRow> {
  for (const day of daysOf(range)) yield* exportRowsOfDay(reader, day, range.category);
}

function isAssigned(paper: ListedPaper, canonicalCode: string): boolean {
  return (paper.categories ?? []).some(
    (category) => category.assigned && canonicalCategory(category.code) === canonicalCode,
  );
}

/** A stored listing as an export row: every column, `null` where the source gave nothing. */
export function exportRow(paper: ListedPaper): ExportRow {
  return {
    id: paper.id,
    listed_on: paper.listedOn,
    title: paper.title,
    authors: paper.authors ?? null,
    organization: paper.organization?.name ?? null,
    organization_fullname: paper.organization?.fullname ?? null,
    published_on: paper.publishedOn ?? null,
    upvotes: paper.upvotes ?? null,
    comments: paper.comments ?? null,
    arxiv_url: paper.links.arxiv ?? null,
    huggingface_url: paper.links.huggingface ?? null,
    github_url: paper.links.github ?? null,
    project_page_url: paper.links.projectPage ?? null,
    primary_category: paper.primaryCategory ?? null,
    categories:
      paper.categories?.map((category) => ({
        code: category.code,
        score: category.score,
        assigned: category.assigned,
      })) ?? null,
    category_source: paper.categorySource ?? null,
    classifier_version: paper.classifierVersion ?? null,
    fetched_at: paper.fetchedAt ?? null,
  };
}
