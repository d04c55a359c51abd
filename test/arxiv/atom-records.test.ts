import { describe, expect, it } from 'vitest';
import { arxivEntriesOf } from '../../shared/arxiv/atom-records';
import { arxivQueryUrl, idBatches } from '../../shared/arxiv/client';
import { ListingParseError } from '../../shared/listing/errors';
import { readListing } from '../support/fixture-server';

describe('arxivEntriesOf', () => {
  it('reads the real export-API answer: ids without versions, arXiv’s categories primary first, comment, version, date', async () => {
    // Act
    const entries = arxivEntriesOf(await readListing('arxiv-export-api-2026-06-14.atom.xml'));

    // Assess
    expect([...entries.keys()]).toEqual([
      '2606.13677',
      '2606.13591',
      '2606.13568',
      '2606.13515',
      '2606.13501',
    ]);
    expect(entries.get('2606.13677')).toEqual({
      categories: ['cs.RO', 'cs.AI', 'cs.CV', 'cs.LG'],
      comment: 'Project Page: https://zhaohengyin.github.io/mana',
      version: 1,
      versionUpdated: '2026-06-11T17:59:49.000Z',
    });
    expect(entries.get('2606.13591')?.categories).toEqual(['cs.AI', 'cs.LG', 'cs.MA']);
  });

  it('puts the primary first when arXiv lists it later among the categories, and reads journal_ref and doi', () => {
    const atom = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
      <entry><id>http://arxiv.org/abs/hep-th/9901001v3</id><updated>2001-02-03T04:05:06Z</updated>
        <category term="math-ph"/><category term="hep-th"/><arxiv:primary_category term="hep-th"/>
        <arxiv:journal_ref>Phys. Rev. D 60 (1999) 1</arxiv:journal_ref><arxiv:doi>10.1103/PhysRevD.60.1</arxiv:doi>
      </entry></feed>`;

    const entries = arxivEntriesOf(new TextEncoder().encode(atom));

    expect(entries.get('hep-th/9901001')).toEqual({
      categories: ['hep-th', 'math-ph'],
      journalRef: 'Phys. Rev. D 60 (1999) 1',
      doi: '10.1103/PhysRevD.60.1',
      version: 3,
      versionUpdated: '2001-02-03T04:05:06.000Z',
    });
  });

  it('refuses an API error entry and bytes that are not a feed', () => {
    const error = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_x</id><summary>incorrect id format for x</summary></entry></feed>`;
    expect(() => arxivEntriesOf(new TextEncoder().encode(error))).toThrow(ListingParseError);
    expect(() => arxivEntriesOf(new TextEncoder().encode('<html>busy</html>'))).toThrow(ListingParseError);
  });
});

describe('the export-API request', () => {
  it('asks for at most 100 ids, each once, with max_results to match', () => {
    const ids = Array.from({ length: 230 }, (_, i) => `2609.${String(i).padStart(5, '0')}`);

    const batches = idBatches([...ids, ids[0] as string]);

    expect(batches.map((batch) => batch.length)).toEqual([100, 100, 30]);
    const url = new URL(arxivQueryUrl('http://127.0.0.1:1/api/query', batches[2] as string[]));
    expect(url.searchParams.get('max_results')).toBe('30');
    expect(url.searchParams.get('id_list')?.split(',')).toEqual(ids.slice(200));
  });
});
