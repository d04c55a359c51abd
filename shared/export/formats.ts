import type { SchemaElement } from 'hyparquet';
import { ByteWriter, parquetWriteRows } from 'hyparquet-writer';
import { EXPORT_COLUMNS, type ExportColumn, type ExportRow } from './columns';

/**
 * A paper export's bytes, in each format. JSON lines and CSV are written a row at a time; Parquet
 * a row group at a time (hyparquet-writer's `parquetWriteRows` pulls the rows lazily), so memory
 * stays bounded by a row group, not by the range.
 */

export const EXPORT_FORMATS = ['jsonl', 'csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Rows per Parquet row group: a few MB of listings in memory at most, and groups Athena reads well. */
export const PARQUET_ROW_GROUP_SIZE = 5_000;

/** Where hyparquet-writer writes: a file (`fileWriter`) or memory (`ByteWriter`). */
export type ParquetSink = Parameters<typeof parquetWriteRows>[0]['writer'];

/** One row as a JSON line: every column, `null` where unknown. */
export function jsonLine(row: ExportRow): string {
  return `${JSON.stringify(row)}\n`;
}

/** The CSV header row. */
export function csvHeader(): string {
  return csvLine(EXPORT_COLUMNS.map((column) => column.name));
}

/**
 * One row as CSV (RFC 4180: CRLF, quoted when needed). Authors are joined by `; `; the
 * categories are their JSON array, as in the JSON lines, so no score or flag is lost.
 */
export function csvRow(row: ExportRow): string {
  return csvLine(
    EXPORT_COLUMNS.map(({ name, kind }) => {
      const value = row[name];
      if (value === null) return '';
      if (kind === 'strings') return (value as string[]).join('; ');
      if (kind === 'categories') return JSON.stringify(value);
      return String(value);
    }),
  );
}

function csvLine(fields: readonly string[]): string {
  return `${fields.map((text) => (/[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text)).join(',')}\r\n`;
}

/** The Parquet schema of an export: flat columns, the lists as standard 3-level LISTs (Athena's arrays). */
export function parquetSchema(): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: EXPORT_COLUMNS.length }];
  for (const column of EXPORT_COLUMNS as readonly ExportColumn[]) {
    const repetition_type = column.required ? 'REQUIRED' : 'OPTIONAL';
    if (column.kind === 'string') {
      schema.push({ name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type });
    } else if (column.kind === 'int') {
      schema.push({ name: column.name, type: 'INT32', repetition_type });
    } else {
      schema.push(
        { name: column.name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      );
      if (column.kind === 'strings') {
        schema.push({
          name: 'element',
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          repetition_type: 'REQUIRED',
        });
      } else {
        schema.push(
          { name: 'element', repetition_type: 'REQUIRED', num_children: 3 },
          { name: 'code', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          { name: 'score', type: 'DOUBLE', repetition_type: 'REQUIRED' },
          { name: 'assigned', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
        );
      }
    }
  }
  return schema;
}

/**
 * Writes `rows` as one Parquet file to `sink` (snappy-compressed, statistics on), pulling them a
 * row group at a time; an empty range gives a valid file with no rows.
 * @returns the number of rows written
 */
export async function writeParquet(rows: AsyncIterable<ExportRow>, sink: ParquetSink): Promise<number> {
  let count = 0;
  async function* counted() {
    for await (const row of rows) {
      count++;
      yield row;
    }
  }
  await parquetWriteRows({
    writer: sink,
    rows: counted(),
    columns: EXPORT_COLUMNS.map(({ name }) => ({ name })),
    schema: parquetSchema(),
    rowGroupSize: PARQUET_ROW_GROUP_SIZE,
    createdBy: 'daily-papers-pipeline export (hyparquet-writer)',
  });
  return count;
}

/** A Parquet file in memory (one day's export on its way to S3). */
export async function parquetBytes(
  rows: AsyncIterable<ExportRow>,
): Promise<{ bytes: Uint8Array; rows: number }> {
  const sink = new ByteWriter();
  const count = await writeParquet(rows, sink);
  return { bytes: sink.getBytes(), rows: count };
}
