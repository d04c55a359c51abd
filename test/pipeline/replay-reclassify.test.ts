/**
 * `runReplay` and `runReclassify` on the local stack: a replay from the archive ends in the rows a
 * fresh ingest of the same bytes left, with nothing fetched; a reclassify sends only the stale
 * listings through classify-paper.
 */
import { DeleteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReclassify, runReplay } from '../../local/history';
import { runIngest } from '../../local/ingest';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { classifierVersion } from '../../shared/classify';
import { daysBetween } from '../../shared/history/day-range';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

let upstream: FixtureServer;
let pipeline: PipelineTestStack;
const client = () => makeDocumentClient(pipeline.stack.env.AWS_ENDPOINT_URL_DYNAMODB);
const tableName = () => pipeline.stack.env.TABLE_NAME ?? '';

type Row = Record<string, unknown>;

/** Every item of the table, in key order (a test may Scan; the code under test never does). */
async function tableRows(): Promise<Row[]> {
  const rows: Row[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client().send(new ScanCommand({ TableName: tableName(), ExclusiveStartKey: start }));
    rows.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (row: Row) => `${row.pk} ${row.sk}`;
  return rows.sort((a, b) => key(a).localeCompare(key(b)));
}

/** The rows with the times of their own writes (not of the listing) set aside. */
const withoutWriteTimes = (rows: Row[]) =>
  rows.map(({ storedAt: _storedAt, lastStoredAt: _lastStoredAt, ...row }) => row);

beforeAll(async () => {
  upstream = await startFixtureServer(async (url) => {
    const day = url.searchParams.get('date');
    if (day === '2026-06-12') return { body: await readListing('hf-daily-papers-2026-06-12.json') };
    if (day === '2026-07-13') return { body: await readListing('hf-daily-papers-2026-07-10+13.json') };
    return { body: '[]' };
  });
  pipeline = await openPipelineTestStack(upstream, { name: 'replay', pageSize: 100 });
  for (const date of ['2026-06-12', '2026-07-11', '2026-07-13']) {
    const summary = await runIngest(pipeline.stack, pipeline.handlers, { date }, { retryDelaySeconds: 0 });
    expect(summary.deadLettered).toEqual({ parse: 0, classify: 0 });
  }
}, 120_000);

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
});

describe('runReplay', () => {
  it('ends in the same table rows as the fresh ingest of the same bytes, fetching nothing', async () => {
    // Prepare: what the fresh ingest left, then every paper item and every day's paper set removed.
    const ingested = await tableRows();
    for (const row of ingested) {
      const key = { pk: row.pk, sk: row.sk };
      if (String(row.pk).startsWith('PAPER#')) {
        await client().send(new DeleteCommand({ TableName: tableName(), Key: key }));
      } else {
        await client().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: key,
            UpdateExpression: 'REMOVE paperIds, lastStoredAt',
          }),
        );
      }
    }
    expect((await tableRows()).some((row) => String(row.pk).startsWith('PAPER#'))).toBe(false);
    const requestsBefore = upstream.requests.length;

    // Act
    const report = await runReplay(
      pipeline.stack,
      pipeline.handlers,
      daysBetween('2026-06-10', '2026-07-13'),
      { retryDelaySeconds: 0 },
    );

    // Assess
    expect(withoutWriteTimes(await tableRows())).toEqual(withoutWriteTimes(ingested));
    expect(report).toMatchObject({ listings: 3, papers: 30 + 25, deadLettered: { parse: 0, classify: 0 } });
    expect(report.empty).toHaveLength(daysBetween('2026-06-10', '2026-07-13').length - 3);
    expect(upstream.requests.length).toBe(requestsBefore);
  }, 120_000);

  it('run over rows that are already there, changes nothing but the time the day was last stored', async () => {
    const withoutDayStoreTime = (rows: Row[]) => rows.map(({ lastStoredAt: _lastStoredAt, ...row }) => row);
    const before = await tableRows();

    await runReplay(pipeline.stack, pipeline.handlers, ['2026-06-12'], { retryDelaySeconds: 0 });

    expect(withoutDayStoreTime(await tableRows())).toEqual(withoutDayStoreTime(before));
  }, 60_000);
});

describe('runReclassify', () => {
  it('sends only the listings a model other than the shipped one classified, and redoes them', async () => {
    // Prepare: 4 listings classified by an older model, 2 never classified.
    const current = await tableRows();
    const listings = current.filter((row) => String(row.sk).startsWith('LISTED#2026-06-12'));
    const stale = listings.slice(0, 6);
    for (const [index, row] of stale.entries()) {
      await client().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: { pk: row.pk, sk: row.sk },
          ...(index < 4
            ? {
                UpdateExpression: 'SET classification.classifierVersion = :old',
                ExpressionAttributeValues: { ':old': 'arxiv-linear-0000older' },
              }
            : { UpdateExpression: 'REMOVE classification' }),
        }),
      );
    }

    const scans = () => pipeline.stack.requestCounts().dynamodb.Scan ?? 0;
    const queries = () => pipeline.stack.requestCounts().dynamodb.Query ?? 0;
    const [scansBefore, queriesBefore] = [scans(), queries()];

    // Act
    const report = await runReclassify(pipeline.stack, pipeline.handlers, undefined, {
      retryDelaySeconds: 0,
    });

    // Assess: six stale, six redone, and classify-paper saw those six records only.
    expect(report).toMatchObject({ version: classifierVersion(), examined: 55, stale: 6, redone: 6 });
    const classify = report.consumers.filter((consumer) => consumer.name === 'classify-paper');
    expect(classify.reduce((sum, consumer) => sum + consumer.records, 0)).toBe(6);
    expect(report.consumers.filter((c) => c.name === 'parse-paper').every((c) => c.records === 0)).toBe(true);
    // One Query (or more) per ingested day (4), none a Scan.
    expect(queries() - queriesBefore).toBeGreaterThanOrEqual(4);
    expect(scans()).toBe(scansBefore);
    // The same model gives the same classification: the table is back to what it was, except
    // when each day last had a listing stored (classify-paper stores the listing with its
    // classification, and records its day in the same batch) and the revision of each listing
    // written again, one more than before for the six.
    const comparable = (rows: Record<string, unknown>[]) =>
      rows.map(({ lastStoredAt: _storedAt, revision: _revision, ...row }) => ({
        ...row,
        ...(row.pk === 'DAYS' ? {} : { lastStoredAt: _storedAt }),
      }));
    const after = await tableRows();
    expect(comparable(after)).toEqual(comparable(current));
    const revisions = (rows: Record<string, unknown>[]) =>
      new Map(rows.map((row) => [`${row.pk} ${row.sk}`, Number(row.revision ?? 0)]));
    const [before, now] = [revisions(current), revisions(after)];
    const advanced = [...now].filter(([key, revision]) => revision !== before.get(key));
    expect(advanced.map(([key]) => key).sort()).toEqual(stale.map((row) => `${row.pk} ${row.sk}`).sort());
    for (const [key, revision] of advanced) expect(revision, key).toBe((before.get(key) ?? 0) + 1);
  }, 60_000);

  it('finds nothing stale when every listing carries the shipped version', async () => {
    const report = await runReclassify(pipeline.stack, pipeline.handlers, ['2026-06-12', '2026-07-13']);

    expect(report).toMatchObject({ stale: 0, redone: 0 });
  }, 60_000);
});
