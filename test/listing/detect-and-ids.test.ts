import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectFormat, ListingParseError, parseListing } from '../../shared/listing/index';
import { arxivIdFrom, normalizeWhitespace, titleDerivedId } from '../../shared/paper';
import { fixtureText } from './support';

describe('detectFormat', () => {
  it.each([
    ['hf-daily-papers-2026-08-03.json', 'hf-api'],
    ['hf-papers-page-2026-07-10.html', 'hf-html'],
    ['hf-paper-page-2509.24002.html', 'hf-html'],
    ['hf-papers-page-text.txt', 'hf-text'],
    ['arxiv-export-api-2026-06-14.atom.xml', 'arxiv-atom'],
    ['arxiv-rss-2026-09-24.xml', 'arxiv-rss'],
  ] as const)('recognises %s as %s from its content', (file, format) => {
    // Act
    const detected = detectFormat(fixtureText(file));

    // Assess
    expect(detected).toBe(format);
  });

  it.each([
    ['', /^unknown: the listing is empty/],
    ['  \n', /^unknown: the listing is empty/],
    ['{"a": 1}', /^unknown: a JSON object, not a listing/],
    ['<svg><circle/></svg>', /^unknown: markup with root element <svg> is not a known listing$/],
    ['hello world', /^unknown: not a known listing format \(starts with "hello world"\)$/],
  ])('fails with format "unknown" on %j', (text, message) => {
    // Act
    const act = () => parseListing(text);

    // Assess
    expect(act).toThrow(ListingParseError);
    expect(act).toThrow(message);
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ name: 'ListingParseError', format: 'unknown' });
    }
  });

  it('accepts bytes with a UTF-8 byte-order mark', () => {
    // Prepare
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('[]')]);

    // Act
    const listing = parseListing(bytes);

    // Assess
    expect(listing).toEqual({ format: 'hf-api', papers: [], problems: [] });
  });
});

describe('paper ids', () => {
  it.each([
    ['2410.17243v2', '2410.17243'],
    ['https://arxiv.org/abs/2410.17243', '2410.17243'],
    ['oai:arXiv.org:2609.26811v1', '2609.26811'],
    ['http://arxiv.org/abs/hep-th/9901001v1', 'hep-th/9901001'],
    ['math.GT/0309136', 'math.GT/0309136'],
    ['no id here', undefined],
  ])('takes the arXiv id of %s as %s', (text, id) => {
    // Act
    const found = arxivIdFrom(text);

    // Assess
    expect(found).toBe(id);
  });

  it('derives the same title id whatever the case, punctuation and line breaks', () => {
    // Act
    const ids = [
      'Robust Layerwise Scaling Rules by Proper Weight Decay Tuning',
      'robust layerwise scaling rules by proper weight decay tuning',
      '  Robust Layerwise\n  Scaling Rules — by Proper Weight-Decay Tuning. ',
    ].map(titleDerivedId);

    // Assess
    expect(new Set(ids).size).toBe(1);
    expect(titleDerivedId('Robust Layerwise Scaling Rules by Proper Weight Decay Tuning (v2)')).not.toBe(
      ids[0],
    );
  });

  it('hashes the lower-cased letters and digits of the title, NFKC-normalised', () => {
    // Prepare
    const sha = (text: string) => `title-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;

    // Act
    const ascii = titleDerivedId('PFGM++: Unlocking the Potential');
    const accented = titleDerivedId('Light Schro\u0308dinger Bridge');

    // Assess
    expect(ascii).toBe(sha('pfgm unlocking the potential'));
    expect(accented).toBe(sha('light schrödinger bridge'));
    expect(accented).toBe(titleDerivedId('LIGHT SCHRÖDINGER BRIDGE'));
  });

  it('collapses every kind of whitespace run into one space', () => {
    // Act
    const normalized = normalizeWhitespace('  A\ttitle \n  broken\u00a0over\r\nlines  ');

    // Assess
    expect(normalized).toBe('A title broken over lines');
  });
});
