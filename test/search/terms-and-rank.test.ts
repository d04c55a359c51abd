import { describe, expect, it } from 'vitest';
import { type Posting, rankCandidates } from '../../shared/search/rank';
import { indexedDocument, queryTerms, textHash } from '../../shared/search/terms';
import { TERM_BUCKETS, termBucket } from '../../shared/store/keys';

describe('queryTerms', () => {
  it('stems, lower-cases and drops stop words, so a query meets the indexed text', () => {
    expect(queryTerms('Diffusion Transformers for the transformer')).toEqual(['diffus', 'transform']);
    expect(queryTerms('the of a')).toEqual([]);
  });
});

describe('indexedDocument', () => {
  it('weighs a title word three times, an author name twice, an abstract word once', () => {
    const document = indexedDocument({
      title: 'Sparse Attention',
      abstract: 'Attention is sparse here.',
      authors: ['Ada Lovelace'],
    });

    expect(Object.fromEntries(document.terms)).toEqual({ spars: 4, attent: 4, ada: 2, lovelac: 2 });
    expect(document.length).toBe(12);
  });

  it('hashes the text it indexes: another abstract, another hash', () => {
    const text = { title: 'A', abstract: 'b', authors: [] };

    expect(textHash(text)).toBe(textHash({ ...text }));
    expect(textHash(text)).not.toBe(textHash({ ...text, abstract: 'c' }));
  });
});

describe('rankCandidates', () => {
  const posting = (id: string, tf: number, day = '2026-06-12', length = 100): Posting => ({
    id,
    day,
    tf,
    length,
    hash: 'h',
  });

  it('puts papers with every word first, then the higher BM25 score', () => {
    const ranked = rankCandidates(
      [
        [posting('a', 1), posting('b', 5), posting('c', 1)],
        [posting('a', 1), posting('d', 9)],
      ],
      100,
    );

    expect(ranked.map((candidate) => [candidate.id, candidate.matched])).toEqual([
      ['a', 2],
      ['d', 1],
      ['b', 1],
      ['c', 1],
    ]);
  });

  it('ranks a paper listed on two days once, with both days, latest first', () => {
    const ranked = rankCandidates([[posting('a', 1, '2026-06-11'), posting('a', 1, '2026-06-12')]], 10);

    expect(ranked).toHaveLength(1);
    expect(ranked[0]?.listings.map((listing) => listing.day)).toEqual(['2026-06-12', '2026-06-11']);
  });

  it('weighs a rare word above a common one', () => {
    const common = Array.from({ length: 50 }, (_, i) => posting(`c${i}`, 1));
    const ranked = rankCandidates([[...common, posting('x', 1)], [posting('r', 1)]], 100);

    expect(ranked[0]?.id).toBe('r');
  });
});

describe('termBucket', () => {
  it('is 32-bit FNV-1a, so the postings already written keep their bucket in every version', () => {
    // Published FNV-1a test vectors (http://www.isthe.com/chongo/tech/comp/fnv/).
    expect(termBucket('a', 2 ** 32)).toBe(0xe40c292c);
    expect(termBucket('foobar', 2 ** 32)).toBe(0xbf9cf968);
    expect(termBucket('foobar')).toBe(0xbf9cf968 % TERM_BUCKETS);
  });

  it('spreads the terms of a text over every bucket', () => {
    const terms = [
      ...indexedDocument({ title: 'x', abstract: queryTerms(LONG_TEXT).join(' ') }).terms.keys(),
    ];
    const sizes = new Array(TERM_BUCKETS).fill(0);
    for (const term of terms) sizes[termBucket(term)]++;

    expect(terms.length).toBeGreaterThan(40);
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });
});

const LONG_TEXT = `Large language models trained on web-scale corpora show emergent reasoning, yet their
behaviour under distribution shift remains poorly understood. We study retrieval augmented generation for
question answering over scientific literature, comparing dense and sparse retrievers, rerankers and
long-context transformers on benchmarks spanning biology, chemistry, physics and mathematics. Our analysis
reveals that citation graphs improve recall, that calibration degrades with context length, and that small
distilled students can match their teachers when supervised with rationales.`;
