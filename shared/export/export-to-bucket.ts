import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { IsoDate } from '../paper';
import type { PaperReader } from '../store/paper-store';
import { type ExportRow, exportObjectKey } from './columns';
import { daysOf, exportRowsOfDay } from './export-rows';
import { csvHeader, csvRow, type ExportFormat, jsonLine, parquetBytes } from './formats';

/**
 * `papers export --aws`: the same files as a local export, one per listing day, in the archive
 * bucket under a Hive-style prefix (`exports/papers/listed_on=YYYY-MM-DD/papers.parquet`), which
 * the stack's Glue table reads with partition projection. One day's file is built in memory (a day
 * holds at most a few hundred listings) and put; a day without listings writes nothing.
 */

export interface ExportedDay {
  day: IsoDate;
  key: string;
  rows: number;
  bytes: number;
}

const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
};

/**
 * Writes each day of `from`–`to` that has listings to `bucket`; a day exported again is
 * overwritten with what the table holds now.
 * @param onDay called after each day written (progress)
 */
export async function exportToBucket(
  reader: Pick<PaperReader, 'papersListedOn'>,
  s3: S3Client,
  bucket: string,
  range: { from: IsoDate; to: IsoDate },
  format: ExportFormat,
  onDay: (day: ExportedDay) => void = () => {},
): Promise<ExportedDay[]> {
  const written: ExportedDay[] = [];
  for (const day of daysOf(range)) {
    const { bytes, rows } = await dayFile(exportRowsOfDay(reader, day), format);
    if (rows === 0) continue;
    const key = exportObjectKey(format, day);
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: CONTENT_TYPES[format] }),
    );
    const exported = { day, key, rows, bytes: bytes.byteLength };
    written.push(exported);
    onDay(exported);
  }
  return written;
}

async function dayFile(
  rows: AsyncIterable<ExportRow>,
  format: ExportFormat,
): Promise<{ bytes: Uint8Array; rows: number }> {
  if (format === 'parquet') return parquetBytes(rows);
  const parts: string[] = format === 'csv' ? [csvHeader()] : [];
  let count = 0;
  for await (const row of rows) {
    parts.push(format === 'csv' ? csvRow(row) : jsonLine(row));
    count++;
  }
  return { bytes: Buffer.from(parts.join('')), rows: count };
}
