/**
 * The columns of a paper export, one definition for every format and for the Glue table that
 * Athena reads the Parquet exports through (`infra/pipeline-stack.ts`). One row per (paper,
 * listing day). Plain data only: the stack imports it, so no writer library here.
 *
 * A value the source did not give is `null` in every format (an empty cell in CSV).
 */

/** How a column is typed: a string, a 32-bit integer, a list of strings, or the ranked categories. */
export type ExportColumnKind = 'string' | 'int' | 'strings' | 'categories';

export interface ExportColumn {
  name: string;
  kind: ExportColumnKind;
  /** Never null. */
  required?: boolean;
  description: string;
}

export const EXPORT_COLUMNS = [
  {
    name: 'id',
    kind: 'string',
    required: true,
    description: 'arXiv id without version, or title- and 16 hex digits',
  },
  {
    name: 'listed_on',
    kind: 'string',
    required: true,
    description: 'the listing day, YYYY-MM-DD (on AWS the partition)',
  },
  { name: 'title', kind: 'string', required: true, description: 'title' },
  { name: 'authors', kind: 'strings', description: 'author names, in order' },
  { name: 'organization', kind: 'string', description: 'the organisation the listing names (its HF handle)' },
  { name: 'organization_fullname', kind: 'string', description: "the organisation's full name" },
  { name: 'published_on', kind: 'string', description: 'the arXiv publication day, YYYY-MM-DD' },
  { name: 'upvotes', kind: 'int', description: 'upvotes on the listing day, as the latest fetch gave them' },
  { name: 'comments', kind: 'int', description: 'comments, as the latest fetch that gave a figure said' },
  { name: 'arxiv_url', kind: 'string', description: 'arXiv abstract page' },
  { name: 'huggingface_url', kind: 'string', description: 'Hugging Face paper page' },
  { name: 'github_url', kind: 'string', description: 'code repository' },
  { name: 'project_page_url', kind: 'string', description: 'project page' },
  { name: 'primary_category', kind: 'string', description: 'most likely arXiv category' },
  {
    name: 'categories',
    kind: 'categories',
    description: 'the ranked categories, most likely first: code, calibrated score, assigned',
  },
  {
    name: 'category_source',
    kind: 'string',
    description: 'model (predicted) or source (the feed gave them)',
  },
  { name: 'classifier_version', kind: 'string', description: 'the model that classified the listing' },
  { name: 'fetched_at', kind: 'string', description: 'when the listing was last fetched (ISO 8601)' },
] as const satisfies readonly ExportColumn[];

export type ExportColumnName = (typeof EXPORT_COLUMNS)[number]['name'];

/** One category of an exported row. */
export interface ExportedCategory {
  code: string;
  score: number;
  assigned: boolean;
}

type ValueOf<K extends ExportColumnKind> = K extends 'int'
  ? number
  : K extends 'strings'
    ? string[]
    : K extends 'categories'
      ? ExportedCategory[]
      : string;

/** One exported row: every column, `null` where the value is unknown. */
export type ExportRow = {
  [C in (typeof EXPORT_COLUMNS)[number] as C['name']]: C extends { required: true }
    ? ValueOf<C['kind']>
    : ValueOf<C['kind']> | null;
};

/** The Hive type of a column, as Glue and Athena name it. */
export function hiveType(kind: ExportColumnKind): string {
  switch (kind) {
    case 'int':
      return 'int';
    case 'strings':
      return 'array<string>';
    case 'categories':
      return 'array<struct<code:string,score:double,assigned:boolean>>';
    default:
      return 'string';
  }
}

/** Where the Parquet exports live in the archive bucket: one folder per listing day (Hive-style). */
export const EXPORTS_PREFIX = 'exports/papers/';
/** The partition column of the exports table, the listing day. */
export const EXPORT_PARTITION = 'listed_on';
/** The first day exports can hold (HF Daily Papers' first listing): partition projection starts there. */
export const EXPORTS_FIRST_DAY = '2023-05-01';

/** The key of one day's export file. JSON lines and CSV go beside the table's prefix, never in it. */
export function exportObjectKey(format: 'jsonl' | 'csv' | 'parquet', day: string): string {
  const prefix = format === 'parquet' ? EXPORTS_PREFIX : `exports/papers-${format}/`;
  return `${prefix}${EXPORT_PARTITION}=${day}/papers.${format}`;
}
