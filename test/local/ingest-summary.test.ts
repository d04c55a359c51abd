import { afterAll, describe, expect, it, vi } from 'vitest';
import { describeSummary, hidesRecordWarnings, noNetworkHint } from '../../local/commands/ingest';
import type { IngestSummary } from '../../local/ingest';
import { ListingFetchError } from '../../shared/fetch/http';

/** A run in which one record failed twice before it was stored: the handlers logged a warning each time. */
const summaryWithRetries: IngestSummary = {
  day: '2026-06-12',
  listings: [],
  listed: 1,
  new: 1,
  updated: 0,
  stale: 0,
  failedAttempts: 2,
  deadLettered: { parse: 0, classify: 0 },
  consumers: [],
};
const HINT = 'set PAPERS_LOG_LEVEL=WARN';

describe('describeSummary', () => {
  it.each([['ERROR'], ['CRITICAL'], ['SILENT']])(
    'says how to see why records failed when the handlers log at %s',
    (level) => {
      expect(describeSummary(summaryWithRetries, level)).toContain(HINT);
    },
  );

  it.each([['WARN'], ['INFO'], ['DEBUG'], ['TRACE']])(
    'leaves the hint out when the handlers log at %s: the warnings are already there',
    (level) => {
      expect(describeSummary(summaryWithRetries, level)).not.toContain(HINT);
    },
  );

  it('says so too, with where the record is, when one went to a dead-letter queue at its first failure', () => {
    // A record that can never parse goes to the DLQ at once: no failed attempt is counted for it.
    const poisoned = { ...summaryWithRetries, failedAttempts: 0, deadLettered: { parse: 1, classify: 0 } };

    const text = describeSummary(poisoned, 'ERROR');

    expect(text).toContain(HINT);
    expect(text).toContain('papers -- dlq list');
    expect(describeSummary(poisoned, 'WARN')).not.toContain(HINT);
  });

  it('leaves the hint out when no record failed', () => {
    expect(describeSummary({ ...summaryWithRetries, failedAttempts: 0 }, 'ERROR')).not.toContain(HINT);
  });
});

describe('hidesRecordWarnings', () => {
  it('reads the level as Powertools reads POWERTOOLS_LOG_LEVEL: trimmed, case-sensitive, INFO when unknown', () => {
    expect(hidesRecordWarnings(' ERROR ')).toBe(true);
    expect(hidesRecordWarnings('error')).toBe(false);
    expect(hidesRecordWarnings('LOUD')).toBe(false);
    expect(hidesRecordWarnings(undefined)).toBe(false);
  });
});

describe('noNetworkHint', () => {
  // The sample's folder is in the default data folder, whatever the developer's own PAPERS_DATA_DIR.
  vi.stubEnv('PAPERS_DATA_DIR', '');
  afterAll(() => vi.unstubAllEnvs());
  const hint = noNetworkHint(
    new ListingFetchError(
      'fetch failed: getaddrinfo ENOTFOUND huggingface.co',
      'https://huggingface.co/api/daily_papers?date=2026-12-03',
      undefined,
      3,
    ),
  );

  it('names the failure and offers the sample through npm start, which keeps it in a folder of its own', () => {
    expect(hint).toContain('could not fetch the listing: fetch failed: getaddrinfo ENOTFOUND huggingface.co');
    expect(hint).toContain('npm start');
    expect(hint).toContain('.papers-data/sample');
  });

  it('never suggests ingesting the sample among the real days', () => {
    expect(hint).not.toMatch(/ingest --source \S*local\/sample/);
  });
});
