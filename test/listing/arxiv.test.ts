import { describe, expect, it } from 'vitest';
import { ListingParseError, normalizeItem, parseListing, splitListing } from '../../shared/listing/index';
import { PaperSchema } from '../../shared/paper';
import { fixture, fixtureText } from './support';

function atomFeed(entries: string): string {
  return `<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title>arXiv Query</title>
${entries}
</feed>`;
}

describe('parseListing on the arXiv export API (Atom)', () => {
  it('reads ids, dates, authors and categories with the primary one first', () => {
    // Act
    const { papers } = parseListing(fixture('arxiv-export-api-2026-06-14.atom.xml'));

    // Assess
    expect(papers.map((paper) => paper.id)).toEqual([
      '2606.13677',
      '2606.13591',
      '2606.13568',
      '2606.13515',
      '2606.13501',
    ]);
    expect(papers[0]).toEqual({
      id: '2606.13677',
      title: 'Mana: Dexterous Manipulation of Articulated Tools',
      abstract: expect.stringMatching(
        /^Articulated tool manipulation .* requiring only a few mouse clicks to specify functional affordances \(<1 minute per tool\)\. .*tool use\.$/,
      ),
      authors: ['Zhao-Heng Yin', 'Guanya Shi', 'Pieter Abbeel', 'C. Karen Liu'],
      authorCount: 4,
      publishedOn: '2026-06-11',
      links: {
        arxiv: 'https://arxiv.org/abs/2606.13677',
        huggingface: 'https://huggingface.co/papers/2606.13677',
        projectPage: 'https://zhaohengyin.github.io/mana',
      },
      sourceCategories: ['cs.RO', 'cs.AI', 'cs.CV', 'cs.LG'],
      source: 'arxiv-atom',
    });
    expect(papers[2]).toMatchObject({
      authors: ['Snigdha Chandan Khilar'],
      sourceCategories: ['cs.LG', 'math-ph'],
    });
    expect(papers[4]?.sourceCategories).toEqual(['cs.DC', 'cs.LG', 'cs.PF']);
  });

  it('takes listedOn only from the context: a query is not a listing day', () => {
    // Act
    const without = parseListing(fixture('arxiv-export-api-2026-06-14.atom.xml')).papers;
    const asked = parseListing(fixture('arxiv-export-api-2026-06-14.atom.xml'), {
      listedOn: '2026-06-14',
    }).papers;

    // Assess
    expect(without.some((paper) => 'listedOn' in paper)).toBe(false);
    expect(asked.every((paper) => paper.listedOn === '2026-06-14')).toBe(true);
  });

  it('keeps an old-style arXiv id without its version and joins a title broken over lines', () => {
    // Prepare
    const feed = atomFeed(`<entry>
    <id>http://arxiv.org/abs/hep-th/9901001v1</id>
    <title>Gauge Theory Correlators
      from Non-Critical String Theory</title>
    <summary>  We study AdS &amp; CFT.  Code: https://github.com/example/adscft.
    </summary>
    <published>1999-01-01T00:00:00Z</published>
    <author><name>Edward Witten</name></author>
    <category term="hep-th" scheme="http://arxiv.org/schemas/atom"/>
    <arxiv:primary_category term="hep-th"/>
  </entry>`);

    // Act
    const [paper] = parseListing(feed).papers;

    // Assess
    expect(paper).toMatchObject({
      id: 'hep-th/9901001',
      title: 'Gauge Theory Correlators from Non-Critical String Theory',
      abstract: 'We study AdS & CFT. Code: https://github.com/example/adscft.',
      publishedOn: '1999-01-01',
      sourceCategories: ['hep-th'],
      links: {
        arxiv: 'https://arxiv.org/abs/hep-th/9901001',
        huggingface: 'https://huggingface.co/papers/hep-th/9901001',
        github: 'https://github.com/example/adscft',
      },
    });
  });

  it('treats a feed without entries as a normal empty day', () => {
    // Act
    const listing = parseListing(atomFeed(''));

    // Assess
    expect(listing).toEqual({ format: 'arxiv-atom', papers: [], problems: [] });
  });

  it('fails on an API error entry, quoting the error', () => {
    // Prepare
    const feed = atomFeed(`<entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>
    <title>Error</title>
    <summary>incorrect id format for 1234</summary>
  </entry>`);

    // Act
    const act = () => parseListing(feed);

    // Assess
    expect(act).toThrow('arxiv-atom: the arXiv API returned an error: incorrect id format for 1234');
  });

  it('fails on truncated XML, naming the line and column', () => {
    // Prepare
    const text = fixtureText('arxiv-export-api-2026-06-14.atom.xml');
    const truncated = text.slice(0, text.indexOf('<entry>', 3000));

    // Act
    const act = () => parseListing(truncated);

    // Assess
    expect(act).toThrow(ListingParseError);
    expect(act).toThrow(
      /^arxiv-atom: malformed XML at line \d+ column \d+: unexpected end of document inside <feed>$/,
    );
  });

  it('fails on mismatched tags and stray ampersands', () => {
    // Act
    const mismatched = () => parseListing(atomFeed('<entry><id>x</entry>'));
    const ampersand = () => parseListing(atomFeed('<entry><id>x</id><title>A & B</title></entry>'));

    // Assess
    expect(mismatched).toThrow(
      /^arxiv-atom: malformed XML at line 4 column 13: expected <\/id>, found <\/entry>$/,
    );
    expect(ampersand).toThrow(/^arxiv-atom: malformed XML at line 4 column 27: an "&"/);
  });

  it('reports an entry without an id as a problem and keeps the others', () => {
    // Prepare
    const feed = atomFeed(`<entry><title>No id</title></entry>
  <entry><id>http://arxiv.org/abs/2606.00001v2</id><title>Has id</title></entry>`);

    // Act
    const { papers, problems } = parseListing(feed);

    // Assess
    expect(papers.map((paper) => paper.id)).toEqual(['2606.00001']);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^arxiv-atom item 0: id: /);
  });
});

describe('parseListing on the arXiv RSS feed', () => {
  it('reads the announcement day, categories in order and comma-separated authors', () => {
    // Act
    const { papers } = parseListing(fixture('arxiv-rss-2026-09-24.xml'));

    // Assess
    expect(papers.map((paper) => paper.id)).toEqual(['2609.26811', '2609.26820', '2205.06398', '2009.13987']);
    expect(papers.every((paper) => paper.listedOn === '2026-09-24')).toBe(true);
    expect(papers[1]).toMatchObject({
      title:
        'Signal2Symbol: Neuro-Symbolic Temporal Reasoning for Explainable Physiological Time-Series Anomaly Detection',
      authors: ['Naser Mansour', 'Sidahmed Benabderrahmane', 'Ameer Rahwan'],
      authorCount: 3,
      sourceCategories: ['cs.LG', 'cs.AI'],
      links: {
        arxiv: 'https://arxiv.org/abs/2609.26820',
        huggingface: 'https://huggingface.co/papers/2609.26820',
      },
      source: 'arxiv-rss',
    });
    expect(papers[2]?.sourceCategories).toEqual(['stat.ME', 'stat.AP', 'stat.ML']);
    expect(papers[3]).toMatchObject({
      id: '2009.13987',
      authors: ['Michael Joswig', 'Marek Kaluba', 'Lukas Ruff'],
    });
  });

  it('strips the "arXiv:… Announce Type: … Abstract:" prefix and invents no publication day', () => {
    // Act
    const [paper] = parseListing(fixture('arxiv-rss-2026-09-24.xml')).papers;

    // Assess
    expect(paper?.abstract).toMatch(/^Local learning trains each layer with its own auxiliary loss/);
    expect(paper?.abstract).toMatch(/where normalization is absent\.$/);
    expect(paper).not.toHaveProperty('publishedOn');
  });

  it.each([
    ['A B, C D and E F', ['A B', 'C D', 'E F']],
    ['A B, C D, and E F', ['A B', 'C D', 'E F']],
    ['Solo Author', ['Solo Author']],
  ])('splits the creators %j into names', (creators, names) => {
    // Prepare
    const feed = `<rss><channel><item><title>T</title><guid>oai:arXiv.org:2609.00001v1</guid><dc:creator>${creators}</dc:creator></item></channel></rss>`;

    // Act
    const [paper] = parseListing(feed).papers;

    // Assess
    expect(paper?.authors).toEqual(names);
    expect(paper?.authorCount).toBe(names.length);
  });

  it('treats a channel without items as a normal empty day', () => {
    // Act
    const listing = parseListing(
      '<?xml version="1.0"?><rss version="2.0"><channel><title>cs.LG</title></channel></rss>',
    );

    // Assess
    expect(listing).toEqual({ format: 'arxiv-rss', papers: [], problems: [] });
  });
});

describe('the arXiv feeds’ XML reader', () => {
  it('reads category terms in either quote style, with entities, from self-closing and open tags', () => {
    // Prepare
    const feed = atomFeed(`<entry>
    <id>http://arxiv.org/abs/2606.00002v1</id><title>T</title>
    <category term='cs.LG' scheme="http://arxiv.org/schemas/atom"/>
    <category scheme = 'x' term = "q-bio.NC&amp;x" ></category>
    <category scheme="no term"/>
    <arxiv:primary_category term="cs.LG" term="stat.ML"/>
  </entry>`);

    // Act
    const [paper] = parseListing(feed).papers;

    // Assess: a repeated attribute keeps its last value, as in the attribute map.
    expect(paper?.sourceCategories).toEqual(['stat.ML', 'cs.LG', 'q-bio.NC&x']);
  });

  it('rejects a "<" inside an attribute value and an attribute without whitespace before it', () => {
    // Act
    const lessThan = () => parseListing(atomFeed('<entry><category term="a<b"/></entry>'));
    const glued = () => parseListing(atomFeed('<entry><category term="a"scheme="b"/></entry>'));

    // Assess
    expect(lessThan).toThrow(
      /^arxiv-atom: malformed XML at line 4 column 17: malformed start tag <category>$/,
    );
    expect(glued).toThrow(/^arxiv-atom: malformed XML at line 4 column 26: malformed start tag <category>$/);
  });

  it('points at a stray "&" inside an attribute value', () => {
    // Act
    const act = () => parseListing(atomFeed('<entry><category scheme="x" term="A & B"/></entry>'));

    // Assess
    expect(act).toThrow(/^arxiv-atom: malformed XML at line 4 column 37: an "&" that begins no known entity/);
  });
});

describe('normalizeItem on arXiv items', () => {
  it('gives papers that conform to PaperSchema, links included, after a queue round trip', () => {
    // Prepare
    const feed = atomFeed(`<entry>
    <id>http://arxiv.org/abs/2606.00003v1</id>
    <title>Links
      everywhere</title>
    <summary>Code: https://github.com/example/repo.</summary>
    <arxiv:comment>Project page at: https://example.org/project. 9 pages</arxiv:comment>
    <author><name>A. Author</name></author>
  </entry>
  <entry><id>urn:no-arxiv-id</id><title>Only a title</title></entry>`);
    const split = splitListing(feed);

    // Act
    const papers = split.items.map((item) => normalizeItem(JSON.parse(JSON.stringify(item))));

    // Assess
    expect(papers[0]?.links).toEqual({
      arxiv: 'https://arxiv.org/abs/2606.00003',
      huggingface: 'https://huggingface.co/papers/2606.00003',
      github: 'https://github.com/example/repo',
      projectPage: 'https://example.org/project',
    });
    expect(papers[1]?.id).toMatch(/^title-[0-9a-f]{16}$/);
    for (const paper of papers) expect(PaperSchema.parse(paper)).toEqual(paper);
  });
});
