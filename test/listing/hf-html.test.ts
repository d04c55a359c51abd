import { describe, expect, it } from 'vitest';
import { ListingParseError, parseListing, splitListing } from '../../shared/listing/index';
import { fixture, fixtureText } from './support';

function page(attributes: string): string {
  return `<!DOCTYPE html><html><body><main><div class="SVELTE_HYDRATER contents" ${attributes}></div></main></body></html>`;
}

function escapeAttribute(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replaceAll('<', '&lt;');
}

describe('parseListing on the HF papers page (HTML)', () => {
  it('reads the DailyPapers props and lists the papers on the page’s day', () => {
    // Act
    const split = splitListing(fixture('hf-papers-page-2026-07-10.html'));
    const { papers } = parseListing(fixture('hf-papers-page-2026-07-10.html'));

    // Assess
    expect(split.listedOn).toBe('2026-07-10');
    expect(papers).toHaveLength(11);
    expect(papers.every((paper) => paper.listedOn === '2026-07-10')).toBe(true);
    expect(papers[0]).toMatchObject({
      id: '2607.08716',
      title: 'Remember When It Matters: Proactive Memory Agent for Long-Horizon Agents',
      source: 'hf-html',
    });
    expect(papers[0]?.abstract).toContain('We call this failure mode "behavioral state decay".');
  });

  it('gives the same papers as the API items it embeds, whatever the escaping', () => {
    // Prepare: the page was built from these API items
    const api = parseListing(fixture('hf-daily-papers-2026-07-10+13.json')).papers.filter(
      (paper) => paper.listedOn === '2026-07-10',
    );

    // Act
    const { papers } = parseListing(fixture('hf-papers-page-2026-07-10.html'));

    // Assess
    expect(papers).toEqual(api.map((paper) => ({ ...paper, source: 'hf-html' })));
  });

  it('reads single-quoted data-props written before data-target, as on the saved paper page', () => {
    // Prepare
    const items = JSON.parse(fixtureText('hf-daily-papers-2026-08-03.json'));
    const props = JSON.stringify({ dailyPapers: items, dateString: '2026-08-03' });
    const html = page(`data-props='${escapeAttribute(props)}' data-target="DailyPapers"`);

    // Act
    const { papers, problems } = parseListing(html);

    // Assess
    expect(problems).toEqual([]);
    expect(papers.map((paper) => paper.id)).toEqual(['2607.26654', '2607.28229', '2607.27851']);
    expect(papers[0]?.source).toBe('hf-html');
  });

  it('treats an empty dailyPapers list as a normal empty day', () => {
    // Act
    const listing = parseListing(
      page(`data-target="DailyPapers" data-props="${escapeAttribute('{"dailyPapers":[]}')}"`),
    );

    // Assess
    expect(listing).toEqual({ format: 'hf-html', papers: [], problems: [] });
  });

  it('fails with the format and the reason when the page has no DailyPapers element', () => {
    // Act
    const act = () => parseListing(fixture('hf-paper-page-2509.24002.html'));

    // Assess
    expect(act).toThrow(ListingParseError);
    expect(act).toThrow('hf-html: no element with data-target="DailyPapers"');
  });

  it('fails when data-props is not JSON or has no dailyPapers array', () => {
    // Act
    const truncated = () =>
      parseListing(page(`data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:[{"`));
    const wrongShape = () =>
      parseListing(page(`data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:{}}"`));
    const missing = () => parseListing(page('data-target="DailyPapers"'));

    // Assess
    expect(truncated).toThrow(/^hf-html: data-props: unexpected end of JSON at byte \d+$/);
    expect(wrongShape).toThrow(/^hf-html: data-props: dailyPapers: /);
    expect(missing).toThrow('hf-html: the DailyPapers element has no data-props attribute');
  });
});
