/**
 * The query API's answers as CSV (RFC 4180: CRLF line ends, a field quoted when it holds a
 * comma, a quote, a line break or edge spaces, quotes doubled), each with a header row. The
 * HTTP API's `format=csv` and the CLI's `--format csv` write the same bytes.
 */

type Row = Record<string, unknown>;

export const PAPER_COLUMNS = [
  'id',
  'title',
  'listedOn',
  'upvotes',
  'primaryCategory',
  'authors',
  'arxiv',
] as const;
export const DAY_COLUMNS = ['day', 'papers', 'listed', 'lastFetchedAt', 'lastStoredAt'] as const;

/** One CSV field. */
export function csvField(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** A paper's {@link PAPER_COLUMNS}, its figures from `listing` (the day it was listed). */
function paperFields(paper: Row, listing: Row): unknown[] {
  const authors = Array.isArray(paper.authors) ? paper.authors.join('; ') : '';
  const links = paper.links as Row | undefined;
  const arxiv = typeof links === 'object' && links !== null ? links.arxiv : undefined;
  return [paper.id, paper.title, listing.listedOn, listing.upvotes, paper.primaryCategory, authors, arxiv];
}

function paperLine(paper: Row, listing: Row): string {
  return csvLine(paperFields(paper, listing));
}

/** Listed papers: id, title, listedOn, upvotes, primaryCategory, authors (joined by `; `), arxiv link. */
export function papersCsv(papers: readonly Row[]): string {
  return csvLine(PAPER_COLUMNS) + papers.map((paper) => paperLine(paper, paper)).join('');
}

export const RANKED_PAPER_COLUMNS = [...PAPER_COLUMNS, 'days', 'score'] as const;

/**
 * Papers once over a range (a ranked range, a search): the paper columns, then the days each was
 * listed on in the range (joined by `; `) and, for a search, its score. Fixed columns, so the pages
 * of one answer join into one table.
 */
export function rankedPapersCsv(papers: readonly Row[]): string {
  return (
    csvLine(RANKED_PAPER_COLUMNS) +
    papers
      .map((paper) => {
        const days = Array.isArray(paper.days) ? paper.days.join('; ') : '';
        return csvLine([...paperFields(paper, paper), days, paper.score]);
      })
      .join('')
  );
}

/** Paper records (`GET /papers/{id}`): the paper columns, one line per day each was listed. */
export function paperRecordsCsv(records: readonly Row[]): string {
  const lines = [csvLine(PAPER_COLUMNS)];
  for (const record of records) {
    const listings = Array.isArray(record.listings) ? (record.listings as Row[]) : [];
    for (const listing of listings) lines.push(paperLine(record, listing));
  }
  return lines.join('');
}

/** Ingested days: day, papers, listed, lastFetchedAt, lastStoredAt. */
export function daysCsv(days: readonly Row[]): string {
  return csvLine(DAY_COLUMNS) + days.map((day) => csvLine(DAY_COLUMNS.map((column) => day[column]))).join('');
}

/**
 * Rows of any other shape: the columns are every key the rows have, in first-seen order; a list
 * of strings is joined by `; `, any other non-scalar written as JSON. For answers without a
 * dedicated layout, so every list the API gives can be had as CSV.
 */
export function genericCsv(rows: readonly Row[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (value: unknown) =>
    Array.isArray(value) && value.every((item) => typeof item === 'string')
      ? value.join('; ')
      : typeof value === 'object' && value !== null
        ? JSON.stringify(value)
        : value;
  return csvLine(columns) + rows.map((row) => csvLine(columns.map((column) => cell(row[column])))).join('');
}
