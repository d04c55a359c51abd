import { describe, expect, it } from 'vitest';
import { ingestRequestFrom } from '../../local/commands/ingest';
import { UsageError } from '../../shared/command-line';
import { requestedDay } from '../../shared/messages';

describe('papers ingest --revisit', () => {
  it('asks for the N days before the day to be fetched again', () => {
    expect(ingestRequestFrom({ date: '2026-06-12', revisit: '7' })).toEqual({
      date: '2026-06-12',
      revisitDays: 7,
    });
    expect(ingestRequestFrom({ revisit: '0' })).toEqual({ revisitDays: 0 });
  });

  it.each(['-1', '31', '2.5', 'x', ''])('refuses --revisit %j', (value) => {
    expect(() => ingestRequestFrom({ revisit: value })).toThrow(
      new UsageError(`--revisit must be a whole number of days from 0 to 30, got "${value}"`),
    );
  });

  it('is refused with --source: a saved file has no past days to fetch', () => {
    expect(() => ingestRequestFrom({ source: 'saved.json', revisit: '2' })).toThrow(UsageError);
  });
});

describe('requestedDay with daysAgo', () => {
  it('moves the day back, across a month and a year', () => {
    expect(requestedDay({ scheduledTime: '2026-03-02T23:30:00Z', daysAgo: 2 })).toBe('2026-02-28');
    expect(requestedDay({ date: '2027-01-03', daysAgo: 7 })).toBe('2026-12-27');
    expect(requestedDay({ date: '2026-06-12' })).toBe('2026-06-12');
  });
});
