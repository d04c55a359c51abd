import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { run, usage } from '../../local/commands/quality';
import { UsageError } from '../../shared/command-line';
import { shippedValidationFigures } from '../../shared/quality/validation-figures';
import { QualityReportSchema } from '../../shared/query/response-schemas';
import { makeDataDir, openTestStack } from '../query/support';
import { type CapturedOutput, captureOutput } from '../support/captured-output';
import { runPapersCli } from '../support/papers-cli';
import { JUNE_11, JUNE_12, seedQualityListings } from './support';

describe('papers quality', () => {
  let dataDir: string;
  let output: CapturedOutput;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const stack = await openTestStack(dataDir);
    await seedQualityListings(stack, [...JUNE_11, ...JUNE_12]);
    await stack.close();
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    vi.stubEnv('PAPERS_DATA_DIR', dataDir);
    output = captureOutput();
    return () => vi.restoreAllMocks();
  });

  it('prints a row per day, the total and the validation figures, "-" for a day without an enriched paper', async () => {
    const code = await run(['--from', '2026-06-11', '--to', '2026-06-13']);

    expect(code, output.stderr).toBe(0);
    const validation = shippedValidationFigures().percent;
    const rows = output.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(['quality 2026-06-11..2026-06-13']);
    expect(rows[1]).toEqual([
      'day',
      'listings',
      'enriched',
      'top1=primary',
      'top1 in arXiv',
      'primary in top3',
    ]);
    expect(rows.slice(3, 6)).toEqual([
      ['2026-06-11', '6', '4', '50.00%', '75.00%', '75.00%'],
      ['2026-06-12', '3', '2', '50.00%', '100.00%', '100.00%'],
      ['2026-06-13', '0', '0', '-', '-', '-'],
    ]);
    expect(rows[7]).toEqual(['total', '9', '6', '50.00%', '83.33%', '83.33%']);
    expect(rows[8]).toEqual([
      'validation',
      String(shippedValidationFigures().papers),
      `${validation.top1IsPrimary.toFixed(2)}%`,
      `${validation.top1InCategories.toFixed(2)}%`,
      `${validation.primaryInTop3.toFixed(2)}%`,
    ]);
  });

  it('covers the last ingested days with listings by default, and says so', async () => {
    const code = await run([]);

    expect(code, output.stderr).toBe(0);
    expect(output.stdout).toContain(
      'quality 2026-06-11..2026-06-12 (the last 2 ingested day(s) with listings)',
    );
    expect(output.stdout).not.toContain('2026-06-13');
  });

  it('prints the report GET /quality gives with --json', async () => {
    const code = await run(['--from', '2026-06-11', '--to', '2026-06-12', '--json']);

    expect(code, output.stderr).toBe(0);
    const report = QualityReportSchema.parse(JSON.parse(output.stdout));
    expect(report.items.map((day) => day.day)).toEqual(['2026-06-11', '2026-06-12']);
    expect(report.total).toMatchObject({ enriched: 6, counts: { top1IsPrimary: 3 } });
  });

  it('says so, exit 1, when no ingested day has listings', async () => {
    const empty = await makeDataDir();
    try {
      vi.stubEnv('PAPERS_DATA_DIR', empty);
      expect(await run([])).toBe(1);
      expect(output.stderr).toContain('no ingested day has listings yet');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses half a range', async () => {
    await expect(run(['--from', '2026-06-11'])).rejects.toThrow(UsageError);
  });
});

describe('papers quality --help', () => {
  it('prints its usage and exits 0', async () => {
    const outcome = await runPapersCli(['quality', '--help']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe(usage);
  });
});
