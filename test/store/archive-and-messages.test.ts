import { describe, expect, it } from 'vitest';
import { listingArchiveKey, quarantineKey } from '../../shared/archive';
import {
  FetchRequestError,
  MalformedMessageError,
  ParseMessageSchema,
  parseFetchRequest,
  parseMessage,
  requestedDay,
} from '../../shared/messages';

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

  it('keeps bytes that are not a listing under quarantine/, never beside the listings', () => {
    expect(quarantineKey('2026-06-12', bytes, 'unknown')).toMatch(
      /^quarantine\/2026\/06\/12\/[0-9a-f]{64}\.bin$/,
    );
  });
});

describe('parseFetchRequest', () => {
  it('takes a capture time, and names the field of a request that is not one', () => {
    expect(parseFetchRequest({ date: '2026-06-12', fetchedAt: '2026-06-12T23:30:00Z' })).toEqual({
      date: '2026-06-12',
      fetchedAt: '2026-06-12T23:30:00Z',
    });
    expect(() => parseFetchRequest({ date: '12/06/2026' })).toThrow(FetchRequestError);
    expect(() => parseFetchRequest({ fetchedAt: 'yesterday' })).toThrow(/fetchedAt/);
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

  it('takes a reference to an archived item (v2) and refuses one without its index', () => {
    const listing = { archiveKey: 'listings/2026/06/12/x.json', fetchedAt: '2026-06-12T23:30:00Z' };
    const reference = { v: 2, listing, ref: { format: 'hf-api', index: 3 } };

    expect(parseMessage(ParseMessageSchema, JSON.stringify(reference))).toEqual(reference);
    expect(() =>
      parseMessage(ParseMessageSchema, JSON.stringify({ ...reference, ref: { format: 'hf-api' } })),
    ).toThrow(/index/);
  });

  it('says which field does not match the schema', () => {
    const body = JSON.stringify({ v: 1, listing: { archiveKey: 'k', fetchedAt: 'yesterday' }, item: {} });
    expect(() => parseMessage(ParseMessageSchema, body)).toThrow(/fetchedAt/);
  });
});
