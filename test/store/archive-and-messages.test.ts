import { describe, expect, it } from 'vitest';
import { listingArchiveKey } from '../../shared/archive';
import { MalformedMessageError, ParseMessageSchema, parseMessage, requestedDay } from '../../shared/messages';

describe('listingArchiveKey', () => {
  const bytes = new TextEncoder().encode('[{"paper":{}}]');

  it('partitions by listing day and names the object by its content', () => {
    expect(listingArchiveKey('2026-06-12', bytes, 'hf-api')).toMatch(
      /^listings\/2026\/06\/12\/[0-9a-f]{64}\.json$/,
    );
  });

  it('gives the same bytes the same key, and changed bytes a new one beside it', () => {
    const same = listingArchiveKey('2026-06-12', new TextEncoder().encode('[{"paper":{}}]'), 'hf-api');
    const changed = listingArchiveKey('2026-06-12', new TextEncoder().encode('[]'), 'hf-api');

    expect(same).toBe(listingArchiveKey('2026-06-12', bytes, 'hf-api'));
    expect(changed).not.toBe(same);
    expect(changed.split('/').slice(0, 4)).toEqual(same.split('/').slice(0, 4));
  });

  it('keeps a listing of unknown format as .bin', () => {
    expect(listingArchiveKey('2026-06-12', bytes, 'unknown')).toMatch(/\.bin$/);
  });
});

describe('requestedDay', () => {
  it('prefers an explicit date, then the scheduled time (UTC), then now', () => {
    const now = new Date('2026-11-27T10:00:00Z');
    expect(requestedDay({ date: '2026-06-12', scheduledTime: '2026-06-13T23:30:00Z' }, now)).toBe(
      '2026-06-12',
    );
    expect(requestedDay({ scheduledTime: '2026-06-13T23:30:00Z' }, now)).toBe('2026-06-13');
    expect(requestedDay({}, now)).toBe('2026-11-27');
  });
});

describe('parseMessage', () => {
  it('names a body that is not JSON', () => {
    expect(() => parseMessage(ParseMessageSchema, '{"v":1,')).toThrow(MalformedMessageError);
    expect(() => parseMessage(ParseMessageSchema, '{"v":1,')).toThrow(/not JSON/);
  });

  it('says which field does not match the schema', () => {
    const body = JSON.stringify({ v: 1, listing: { archiveKey: 'k', fetchedAt: 'yesterday' }, item: {} });
    expect(() => parseMessage(ParseMessageSchema, body)).toThrow(/fetchedAt/);
  });
});
