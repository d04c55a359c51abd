import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExportArgs, writeExport } from '../../local/commands/export';
import { runIngest } from '../../local/ingest';
import { UsageError } from '../../shared/command-line';
import { EXPORT_COLUMNS, type ExportRow } from '../../shared/export/columns';
import { exportRows } from '../../shared/export/export-rows';
import { exportToBucket } from '../../shared/export/export-to-bucket';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

/**
 * `papers export`: two real listings ingested through the pipeline (30 papers on 2026-06-12; 25 on
 * 2026-07-10 and 2026-07-13 from one response), exported in each format and read back, the
 * Parquet file with hyparquet (a reader apart from the writer), every value checked against the
 * paper as `GET /papers/{id}` reads it from its own partition.
 */

type FixtureItem = { paper: { id: string; upvotes: number }; numComments?: number };
let pipeline: PipelineTestStack;
let upstream: FixtureServer;
let outDir: string;
const fixtures: Record<string, FixtureItem[]> = {};
const RANGE = { from: '2026-06-12', to: '2026-07-13' };

beforeAll(async () => {
  for (const [day, name] of [
    ['2026-06-12', 'hf-daily-papers-2026-06-12.json'],
    ['2026-07-13', 'hf-daily-papers-2026-07-10+13.json'],
  ] as const) {
    fixtures[day] = JSON.parse((await readListing(name)).toString()) as FixtureItem[];
  }
  upstream = await startFixtureServer((url) => ({
    body: JSON.stringify(fixtures[url.searchParams.get('date') ?? ''] ?? []),
  }));
  pipeline = await openPipelineTestStack(upstream, { name: 'export', pageSize: 100 });
  for (const date of ['2026-06-12', '2026-07-13']) {
    await runIngest(pipeline.stack, pipeline.handlers, { date }, { retryDelaySeconds: 0 });
  }
  outDir = await mkdtemp(path.join(os.tmpdir(), 'papers-export-'));
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

const allFixtureItems = () => Object.values(fixtures).flat();

/** What a row must hold, from the paper's own partition (`GET /papers/{id}`), not from the export's reads. */
async function expectedRow(id: string, listedOn: string): Promise<ExportRow> {
  const record = await pipeline.store.paperById(id);
  if (!record) throw new Error(`paper ${id} is not stored`);
  const listing = record.listings.find((entry) => entry.listedOn === listedOn);
  return {
    id,
    listed_on: listedOn,
    title: record.title,
    authors: record.authors ?? null,
    organization: record.organization?.name ?? null,
    organization_fullname: record.organization?.fullname ?? null,
    published_on: record.publishedOn ?? null,
    upvotes: listing?.upvotes ?? null,
    comments: listing?.comments ?? null,
    arxiv_url: record.links.arxiv ?? null,
    huggingface_url: record.links.huggingface ?? null,
    github_url: record.links.github ?? null,
    project_page_url: record.links.projectPage ?? null,
    primary_category: record.primaryCategory ?? null,
    categories: record.categories?.map(({ code, score, assigned }) => ({ code, score, assigned })) ?? null,
    category_source: record.categorySource ?? null,
    classifier_version: record.classifierVersion ?? null,
    fetched_at: listing?.fetchedAt ?? null,
  };
}

async function exportTo(
  format: 'jsonl' | 'csv' | 'parquet',
  range = RANGE as typeof RANGE & { category?: string },
) {
  const out = path.join(outDir, `papers-${format}-${range.category ?? 'all'}.${format}`);
  const { rows } = await writeExport(exportRows(pipeline.store, range), { format, out });
  return { out, rows };
}

async function jsonLines(file: string): Promise<ExportRow[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ExportRow);
}

/** RFC 4180, as the export writes it: CRLF records, fields quoted when they hold `,`, `"` or a line break. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += char;
  }
  return records;
}

describe('papers export', () => {
  it('writes one JSON line per (paper, listing day) of the range, days in order, ids in order within a day', async () => {
    const { out, rows } = await exportTo('jsonl');
    const lines = await jsonLines(out);

    expect(rows).toBe(55);
    expect(lines).toHaveLength(55);
    expect(new Set(lines.map((row) => row.id))).toEqual(
      new Set(allFixtureItems().map((item) => item.paper.id)),
    );
    const days = lines.map((row) => row.listed_on);
    expect([...days].sort()).toEqual(days);
    expect(new Set(days)).toEqual(new Set(['2026-06-12', '2026-07-10', '2026-07-13']));
    for (const day of new Set(days)) {
      const ids = lines.filter((row) => row.listed_on === day).map((row) => row.id);
      expect([...ids].sort()).toEqual(ids);
    }
    for (const line of lines) expect(line).toEqual(await expectedRow(line.id, line.listed_on));
    // Figures as the listing gave them, classified by the shipped model.
    for (const item of allFixtureItems()) {
      const row = lines.find((line) => line.id === item.paper.id);
      expect(row?.upvotes).toBe(item.paper.upvotes);
      expect(row?.comments).toBe(item.numComments ?? null);
      expect(row?.classifier_version).toMatch(/.+-[0-9a-f]+/);
      expect(row?.categories?.[0]).toEqual(
        expect.objectContaining({ code: row?.primary_category, assigned: true }),
      );
    }
  });

  it('writes the same rows as CSV, a header first, lists flattened', async () => {
    const { out, rows } = await exportTo('csv');
    const [header, ...records] = parseCsv(await readFile(out, 'utf8'));
    const lines = await jsonLines((await exportTo('jsonl')).out);

    expect(rows).toBe(55);
    expect(header).toEqual(EXPORT_COLUMNS.map((column) => column.name));
    expect(records).toHaveLength(55);
    records.forEach((record, index) => {
      const expected = lines[index] as ExportRow;
      const cell = (name: keyof ExportRow) => record[header?.indexOf(name) ?? -1];
      expect(cell('id')).toBe(expected.id);
      expect(cell('title')).toBe(expected.title);
      expect(cell('authors')).toBe(expected.authors?.join('; ') ?? '');
      expect(cell('upvotes')).toBe(expected.upvotes === null ? '' : String(expected.upvotes));
      expect(JSON.parse(cell('categories') || 'null')).toEqual(expected.categories);
      expect(cell('classifier_version')).toBe(expected.classifier_version ?? '');
    });
  });

  it('writes a Parquet file that another reader (hyparquet) reads back row for row', async () => {
    const { out, rows } = await exportTo('parquet');
    const bytes = await readFile(out);
    const read = (await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    })) as Record<string, unknown>[];
    const lines = await jsonLines((await exportTo('jsonl')).out);

    expect(rows).toBe(55);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    // hyparquet gives a null list as an absent field.
    expect(
      read.map((row) => ({ ...row, authors: row.authors ?? null, categories: row.categories ?? null })),
    ).toEqual(lines);
  });

  it('keeps to the listings one category is assigned to', async () => {
    const lines = await jsonLines((await exportTo('jsonl')).out);
    const code = lines[0]?.primary_category ?? 'cs.CV';
    const assigned = lines.filter((row) => row.categories?.some((c) => c.assigned && c.code === code));

    const { out, rows } = await exportTo('jsonl', { ...RANGE, category: code });
    expect(assigned.length).toBeGreaterThan(0);
    expect(rows).toBe(assigned.length);
    expect(await jsonLines(out)).toEqual(assigned);
  });

  it('exports an empty range as no rows, and a valid empty Parquet file', async () => {
    const range = { from: '2026-06-13', to: '2026-06-20' };
    expect((await exportTo('jsonl', range)).rows).toBe(0);
    const { out, rows } = await exportTo('parquet', { ...range, category: 'empty' });
    const bytes = await readFile(out);
    expect(rows).toBe(0);
    expect(
      await parquetReadObjects({
        file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      }),
    ).toEqual([]);
  });

  it('with --aws, writes one Parquet file per listing day under the Hive-style prefix', async () => {
    const { s3, env } = pipeline.stack as unknown as {
      s3: import('@aws-sdk/client-s3').S3Client;
      env: Record<string, string>;
    };
    const bucket = env.ARCHIVE_BUCKET ?? '';
    const days = await exportToBucket(pipeline.store, s3, bucket, RANGE, 'parquet');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'exports/' }));

    expect(days.map(({ day, key, rows }) => [day, key, rows])).toEqual([
      ['2026-06-12', 'exports/papers/listed_on=2026-06-12/papers.parquet', 30],
      ['2026-07-10', 'exports/papers/listed_on=2026-07-10/papers.parquet', expect.any(Number)],
      ['2026-07-13', 'exports/papers/listed_on=2026-07-13/papers.parquet', expect.any(Number)],
    ]);
    expect(days.reduce((sum, day) => sum + day.rows, 0)).toBe(55);
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual(days.map((day) => day.key));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: days[2]?.key }));
    const bytes = await object.Body?.transformToByteArray();
    const read = (await parquetReadObjects({ file: bytes?.buffer as ArrayBuffer })) as ExportRow[];
    expect(read.map((row) => row.listed_on)).toEqual(Array(days[2]?.rows).fill('2026-07-13'));
  });
});

describe('papers export usage', () => {
  it('reads a range, a category, a format and a file', () => {
    expect(parseExportArgs(['--from', '2026-06-01', '--to', '2026-06-30', '--category', 'cs.CV'])).toEqual({
      range: { from: '2026-06-01', to: '2026-06-30', category: 'cs.CV' },
      format: 'jsonl',
    });
    expect(parseExportArgs(['--aws', '--stack', 'S', '--from', '2026-06-01', '--to', '2026-06-01'])).toEqual({
      range: { from: '2026-06-01', to: '2026-06-01' },
      format: 'parquet',
      stackName: 'S',
    });
  });

  it.each([
    [['--to', '2026-06-01'], '--from and --to are required (the listing days to export, inclusive)'],
    [
      ['--from', '2026-06-02', '--to', '2026-06-01'],
      '--to must not be before --from (2026-06-02), got 2026-06-01',
    ],
    [
      ['--from', '2026-06-01', '--to', '2026-06-01', '--format', 'xml'],
      '--format must be one of jsonl, csv, parquet, got "xml"',
    ],
    [
      ['--from', '2026-06-01', '--to', '2026-06-01', '--format', 'parquet'],
      '--format parquet needs --out FILE (Parquet is not written to a terminal or a pipe)',
    ],
    [['--from', '2026-06-01', '--to', '2026-06-01', '--aws'], '--aws needs --stack NAME'],
  ])('refuses %j', (args, message) => {
    expect(() => parseExportArgs(args)).toThrow(new UsageError(message));
  });
});
