import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHandlers, loadHandlers } from '../../local/handlers';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { runIngest } from '../../local/ingest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { renderAtomFeed } from '../../shared/query/atom-feed';
import { answerHttpRequest } from '../../shared/query/http-api';
import { addDays } from '../../shared/query/parameters';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { modelClassification } from '../support/classifications';
import { LISTINGS_DIR } from '../support/fixture-server';

/**
 * The Atom feeds, from a real listing ingested through the whole local pipeline, read back with
 * an independent, strict XML parser (saxes: well-formedness and namespaces) and checked against what
 * RFC 4287 requires of a feed and its entries.
 */

const ATOM = 'http://www.w3.org/2005/Atom';
const DAY = '2026-06-12';
const FIXTURE = fileURLToPath(new URL('hf-daily-papers-2026-06-12.json', LISTINGS_DIR));

interface FixturePaper {
  paper: { id: string; title: string; summary: string; authors: { name: string }[] };
}

let dataDir: string;
let stack: LocalStack;
let handlers: LocalHandlers;
let store: DynamoPaperStore;
let fixture: FixturePaper[];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-feeds-'));
  stack = await openLocalStack({ dataDir });
  handlers = await loadHandlers(stack);
  await runIngest(
    stack,
    handlers,
    { source: FIXTURE, fetchedAt: `${DAY}T21:00:00.000Z` },
    { retryDelaySeconds: 0 },
  );
  store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
  fixture = JSON.parse(await readFile(FIXTURE, 'utf8'));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** An element as the parser saw it: namespace-resolved name, attributes, text and child elements. */
interface XmlElement {
  namespaceURI: string;
  localName: string;
  attributes: Record<string, string>;
  text: string;
  elements: XmlElement[];
}

/** Parses `xml` with saxes, namespace-aware; any well-formedness or namespace error throws. */
function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const root: XmlElement = {
    namespaceURI: '',
    localName: '#document',
    attributes: {},
    text: '',
    elements: [],
  };
  const open: XmlElement[] = [root];
  parser.on('opentag', (tag) => {
    const element: XmlElement = {
      namespaceURI: tag.uri ?? '',
      localName: tag.local ?? tag.name,
      attributes: Object.fromEntries(
        Object.values(tag.attributes).map((attribute) => [attribute.name, attribute.value]),
      ),
      text: '',
      elements: [],
    };
    open.at(-1)?.elements.push(element);
    open.push(element);
  });
  parser.on('text', (text) => {
    const current = open.at(-1);
    if (current) current.text += text;
  });
  parser.on('closetag', () => {
    open.pop();
  });
  parser.write(xml).close();
  const [document] = root.elements;
  if (!document || root.elements.length !== 1) throw new Error('not one root element');
  return document;
}

const children = (element: XmlElement, name: string) =>
  element.elements.filter((child) => child.namespaceURI === ATOM && child.localName === name);
const textOf = (element: XmlElement, name: string) => children(element, name)[0]?.text;
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The problems RFC 4287 would find in a feed: its required elements, and each entry's. */
function atomProblems(feed: XmlElement): string[] {
  const problems: string[] = [];
  if (feed.namespaceURI !== ATOM || feed.localName !== 'feed') return ['the root is not an Atom feed'];
  for (const name of ['id', 'title', 'updated']) {
    if (children(feed, name).length !== 1) problems.push(`feed: exactly one ${name} required`);
  }
  if (!RFC_3339.test(textOf(feed, 'updated') ?? '')) problems.push('feed: updated is not an RFC 3339 time');
  if (!URL.canParse(textOf(feed, 'id') ?? '')) problems.push('feed: id is not an IRI');
  const feedHasAuthor = children(feed, 'author').some((author) => textOf(author, 'name'));
  if (!children(feed, 'link').some((link) => link.attributes.rel === 'self'))
    problems.push('feed: no self link');
  children(feed, 'entry').forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    for (const name of ['id', 'title', 'updated']) {
      if (children(entry, name).length !== 1) problems.push(`${where}: exactly one ${name} required`);
    }
    if (!RFC_3339.test(textOf(entry, 'updated') ?? ''))
      problems.push(`${where}: updated is not an RFC 3339 time`);
    if (!URL.canParse(textOf(entry, 'id') ?? '')) problems.push(`${where}: id is not an IRI`);
    if (!feedHasAuthor && !children(entry, 'author').some((author) => textOf(author, 'name'))) {
      problems.push(`${where}: no author`);
    }
    const alternates = children(entry, 'link').filter(
      (link) => (link.attributes.rel ?? 'alternate') === 'alternate',
    );
    if (children(entry, 'content').length === 0 && alternates.length === 0)
      problems.push(`${where}: no alternate link`);
  });
  return problems;
}

async function getFeed(url: string) {
  const result = await handlers.query(
    functionUrlEvent({ method: 'GET', url, headers: { host: 'papers.example.com' } }),
    localLambdaContext('query'),
  );
  if (typeof result !== 'object') throw new Error('unstructured result');
  return { status: result.statusCode, headers: result.headers ?? {}, xml: result.body ?? '' };
}

describe('GET /feeds/daily.xml', () => {
  it('is a well-formed Atom feed of the latest listing day with every required element', async () => {
    const { status, headers, xml } = await getFeed('/feeds/daily.xml');
    const document = parseXml(xml);

    expect(status).toBe(200);
    expect(headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(atomProblems(document)).toEqual([]);
    const feed = document;
    expect(textOf(feed, 'title')).toBe(`Daily Papers, ${DAY}`);
    expect(textOf(feed, 'id')).toBe('https://papers.example.com/feeds/daily.xml');
    expect(children(feed, 'entry')).toHaveLength(fixture.length);
  });

  it('gives each paper its HF and arXiv links, authors, categories and abstract', async () => {
    const document = parseXml((await getFeed('/feeds/daily.xml')).xml);
    const entries = children(document, 'entry');

    for (const { paper } of fixture) {
      const entry = entries.find(
        (candidate) => textOf(candidate, 'id') === `https://arxiv.org/abs/${paper.id}`,
      );
      expect(entry, paper.id).toBeDefined();
      if (!entry) continue;
      const links = children(entry, 'link').map((link) => [link.attributes.rel, link.attributes.href]);
      expect(links).toContainEqual(['alternate', `https://huggingface.co/papers/${paper.id}`]);
      expect(links).toContainEqual(['related', `https://arxiv.org/abs/${paper.id}`]);
      expect(children(entry, 'author').map((author) => textOf(author, 'name'))).toEqual(
        paper.authors.slice(0, 50).map((author) => author.name.trim()),
      );
      expect(children(entry, 'category').length).toBeGreaterThan(0);
      expect(children(entry, 'category')[0]?.attributes.term).toMatch(/^[a-z-]+(\.[A-Za-z-]+)?$/);
      expect(textOf(entry, 'summary')?.replace(/\s+/g, ' ').trim()).toBe(
        paper.summary.replace(/\s+/g, ' ').trim(),
      );
      expect(textOf(entry, 'title')?.replace(/\s+/g, ' ').trim()).toBe(
        paper.title.replace(/\s+/g, ' ').trim(),
      );
    }
  });

  it('refuses query parameters with a 400', async () => {
    const { status } = await getFeed('/feeds/daily.xml?limit=5');
    expect(status).toBe(400);
  });
});

describe("a feed's base URL", () => {
  const feedId = async (headers: Record<string, string>) =>
    textOf(
      parseXml(
        (
          await answerHttpRequest(
            { method: 'GET', path: '/feeds/daily.xml', rawQueryString: '', headers },
            store,
            { allowedOrigins: '*' },
          )
        ).body,
      ),
      'id',
    );

  it.each([
    [{ host: '' }, 'https://localhost/feeds/daily.xml'],
    [{ host: 'evil.example.com/phish?' }, 'https://localhost/feeds/daily.xml'],
    [{ host: 'a b' }, 'https://localhost/feeds/daily.xml'],
    [{ host: '127.0.0.1:8787', 'x-forwarded-proto': 'http' }, 'http://127.0.0.1:8787/feeds/daily.xml'],
    [{ host: '[::1]:8787' }, 'https://[::1]:8787/feeds/daily.xml'],
    [
      { host: 'x.lambda-url.us-east-1.on.aws', 'x-forwarded-host': 'd1.cloudfront.net' },
      'https://d1.cloudfront.net/feeds/daily.xml',
    ],
    [
      { host: 'papers.example.com', 'x-forwarded-host': 'a.example.com, b.internal' },
      'https://a.example.com/feeds/daily.xml',
    ],
    [
      { host: 'papers.example.com', 'x-forwarded-host': 'not a host' },
      'https://papers.example.com/feeds/daily.xml',
    ],
  ])('takes the host from %j only when it is a host name', async (headers, id) => {
    expect(await feedId(headers)).toBe(id);
  });
});

describe('GET /feeds/categories/{code}.xml', () => {
  const ask = (url: string, today: string) =>
    answerHttpRequest(
      { method: 'GET', path: url, rawQueryString: '', headers: { host: 'papers.example.com' } },
      store,
      { allowedOrigins: '*', today: () => today },
    );

  it("holds the category's papers of the last 14 days, each once, and every required element", async () => {
    const day = await store.papersListedOn(DAY, { limit: 100 });
    const category = day.items[0]?.primaryCategory ?? 'cs.CV';
    const expected = day.items.filter((paper) =>
      paper.categories?.some((entry) => entry.assigned && entry.code === category),
    );

    const within = await ask(`/feeds/categories/${category}.xml`, '2026-06-25');
    const after = await ask(`/feeds/categories/${category}.xml`, '2026-06-26');

    const document = parseXml(within.body);
    expect(within.statusCode).toBe(200);
    expect(atomProblems(document)).toEqual([]);
    const entries = children(document, 'entry');
    expect(entries.map((entry) => textOf(entry, 'id')).sort()).toEqual(
      expected.map((paper) => `https://arxiv.org/abs/${paper.id}`).sort(),
    );
    for (const entry of entries) {
      expect(children(entry, 'category').map((element) => element.attributes.term)).toContain(category);
    }
    // 2026-06-12 is the 15th day back from 2026-06-26: out of the window.
    expect(children(parseXml(after.body), 'entry')).toHaveLength(0);
    expect(atomProblems(parseXml(after.body))).toEqual([]);
  });

  describe('with more listings in the 14 days than a feed holds', () => {
    // 25 a day for 14 days: 350 listings of cs.LG, more than the feed's 300 entries, on days of
    // their own (the fixture's day is months before).
    const NEWEST_DAY = '2026-12-04';
    const PER_DAY = 25;
    const days = Array.from({ length: 14 }, (_, back) => addDays(NEWEST_DAY, -back));
    const idOf = (day: string, index: number) => `2612.${day.slice(8)}${String(index).padStart(3, '0')}`;

    beforeAll(async () => {
      for (const day of days) {
        const results = await store.storeListings(
          Array.from({ length: PER_DAY }, (_, index) => ({
            paper: {
              id: idOf(day, index),
              title: `Paper ${index} of ${day}`,
              abstract: 'An abstract.',
              authors: ['A. Author'],
              upvotes: index,
              links: { arxiv: `https://arxiv.org/abs/${idOf(day, index)}` },
              source: 'hf-api' as const,
            },
            origin: {
              listedOn: day,
              fetchedAt: `${day}T12:00:00.000Z`,
              archiveKey: `listings/${day.replaceAll('-', '/')}/x.json`,
            },
            classification: modelClassification('cs.LG'),
          })),
        );
        expect(results.filter((result) => result.error)).toEqual([]);
      }
    }, 120_000);

    it('holds the newest listings, newest first, and drops the oldest', async () => {
      const response = await ask('/feeds/categories/cs.LG.xml', NEWEST_DAY);
      const entries = children(parseXml(response.body), 'entry');
      const ids = entries.map((entry) => textOf(entry, 'id'));
      const updated = entries.map((entry) => textOf(entry, 'updated') ?? '');

      expect(response.statusCode).toBe(200);
      expect(entries).toHaveLength(300);
      for (const day of days.slice(0, 12)) {
        for (let index = 0; index < PER_DAY; index++) {
          expect(ids).toContain(`https://arxiv.org/abs/${idOf(day, index)}`);
        }
      }
      expect(ids).not.toContain(`https://arxiv.org/abs/${idOf(days[13] as string, 0)}`);
      expect(updated[0]?.slice(0, 10)).toBe(NEWEST_DAY);
      expect(updated).toEqual([...updated].sort().reverse());
    });
  });

  it.each(['cs.cv', 'not a code', '%E0%A4%A'])('refuses the code %j with a 400 naming code', async (code) => {
    const response = await ask(`/feeds/categories/${code}.xml`, '2026-06-25');

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ parameter: 'code' });
  });

  it('refuses a mistyped code with the nearest known codes, as GET /papers?category does', async () => {
    const feed = await ask('/feeds/categories/cs.CVV.xml', '2026-06-25');
    const papers = await answerHttpRequest(
      {
        method: 'GET',
        path: '/papers',
        rawQueryString: 'category=cs.CVV',
        headers: { host: 'papers.example.com' },
      },
      store,
      { allowedOrigins: '*', today: () => '2026-06-25' },
    );

    expect(feed.statusCode).toBe(400);
    expect(JSON.parse(feed.body)).toMatchObject({ parameter: 'code', suggestions: ['cs.CV'] });
    expect(JSON.parse(feed.body).suggestions).toEqual(JSON.parse(papers.body).suggestions);
  });
});

describe('renderAtomFeed', () => {
  it('escapes markup and drops characters XML cannot carry, so any abstract gives a well-formed feed', () => {
    const xml = renderAtomFeed({
      selfUrl: 'https://papers.example.com/feeds/daily.xml',
      title: 'T & <b>',
      subtitle: 's',
      emptyUpdated: '2026-06-12T00:00:00.000Z',
      recordUrl: (id) => `https://papers.example.com/papers/${id}`,
      papers: [
        {
          id: 'title-0123456789abcdef',
          title: 'A <i>"quoted"</i> & \u0000bell\u0007 title \ud800',
          abstract: ']]> <script>alert(1)</script> \u001b[0m',
          authors: ['O\'Brien & "Sons"'],
          listedOn: '2026-06-12',
          links: {},
          source: 'hf-text',
        },
      ],
    });
    const document = parseXml(xml);
    const entry = children(document, 'entry')[0] as XmlElement;

    expect(atomProblems(document)).toEqual([]);
    expect(textOf(entry, 'title')).toBe('A <i>"quoted"</i> & bell title ');
    expect(textOf(entry, 'summary')).toBe(']]> <script>alert(1)</script> [0m');
    expect(children(entry, 'link')[0]?.attributes.href).toBe(
      'https://papers.example.com/papers/title-0123456789abcdef',
    );
  });

  it('is checked by a parser that refuses a malformed feed', () => {
    expect(() => parseXml('<feed xmlns="http://www.w3.org/2005/Atom"><title>a & b</title></feed>')).toThrow();
    expect(() => parseXml('<feed xmlns="http://www.w3.org/2005/Atom"><title>a</feed>')).toThrow();
    expect(atomProblems(parseXml(`<feed xmlns="${ATOM}"><entry><title>x</title></entry></feed>`))).toContain(
      'feed: exactly one id required',
    );
  });
});
