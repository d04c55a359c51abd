import { describe, expect, it } from 'vitest';
import { listingArchiveKey, quarantineKey } from '../../shared/archive';
import {
  ClassifyMessageSchema,
  FetchRequestError,
  MalformedMessageError,
  ParseMessageSchema,
  parseFetchRequest,
  parseMessage,
  requestedDay,
} from '../../shared/messages';
import type { Paper } from '../../shared/paper';
import { classifyMessageBody } from '../../shared/pipeline/parse-stage';

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

describe('classifyMessageBody', () => {
  const origin = {
    listedOn: '2026-06-12',
    fetchedAt: '2026-06-12T23:30:00.000Z',
    archiveKey: 'listings/2026/06/12/abc.json',
  } as const;
  const paper = (abstract: string): Paper => ({
    id: '2606.00001',
    title: 'A paper',
    abstract,
    links: { arxiv: 'https://arxiv.org/abs/2606.00001' },
    source: 'hf-api',
  });

  it('carries the paper whole when it fits in one SQS message', () => {
    const message = parseMessage(ClassifyMessageSchema, classifyMessageBody(paper('short'), origin));

    expect(message).toEqual({ v: 1, paper: paper('short'), origin });
  });

  it('carries a reference to the stored listing when the paper is over the SQS limit', () => {
    const body = classifyMessageBody(paper('x'.repeat(300 * 1024)), origin);

    expect(Buffer.byteLength(body)).toBeLessThan(1024);
    expect(parseMessage(ClassifyMessageSchema, body)).toEqual({ v: 2, paperId: '2606.00001', origin });
  });
});
