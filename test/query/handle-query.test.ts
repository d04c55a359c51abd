import { describe, expect, it } from 'vitest';
import type { QualityListing } from '../../shared/quality/live-quality';
import { handleQuery, type QueryRequest } from '../../shared/query/handle-query';
import type {
  CategoryCount,
  IngestedDay,
  ListedPaper,
  PaperRecord,
  RankedPaper,
} from '../../shared/store/items';
import {
  type CategoryQueryOptions,
  type DayOrder,
  InvalidCursorError,
  type Page,
  type PageRequest,
  type PaperReader,
} from '../../shared/store/paper-store';
import type { RangeRequest, SearchRequest } from '../../shared/store/ranked-reads';

/** A store that records the read calls it gets and answers with empty pages. */
class RecordingStore implements PaperReader {
  calls: unknown[][] = [];
  categoryOptions: (CategoryQueryOptions | undefined)[] = [];
  paper: PaperRecord | undefined;
  refuseCursors = false;

  async papersListedOn(day: string, page: PageRequest, _order?: DayOrder): Promise<Page<ListedPaper>> {
    return this.answer(['papersListedOn', day, page], page);
  }
  async papersInCategory(
    code: string,
    from: string,
    to: string,
    page: PageRequest,
    options?: CategoryQueryOptions,
  ): Promise<Page<ListedPaper>> {
    this.categoryOptions.push(options);
    return this.answer(['papersInCategory', code, from, to, page], page);
  }
  async paperById(id: string): Promise<PaperRecord | undefined> {
    this.calls.push(['paperById', id]);
    return this.paper;
  }
  async ingestedDays(page: PageRequest): Promise<Page<IngestedDay>> {
    return this.answer(['ingestedDays', page], page);
  }
  async searchPapers(request: SearchRequest): Promise<Page<RankedPaper>> {
    return this.answer(['searchPapers', request], request);
  }
  async papersInRange(request: RangeRequest): Promise<Page<RankedPaper>> {
    return this.answer(['papersInRange', request], request);
  }
  async categoryCounts(from: string, to: string): Promise<CategoryCount[]> {
    this.calls.push(['categoryCounts', from, to]);
    return [];
  }
  async ingestedDay(day: string): Promise<IngestedDay | undefined> {
    this.calls.push(['ingestedDay', day]);
    return undefined;
  }
  async qualityListingsOn(day: string): Promise<QualityListing[]> {
    this.calls.push(['qualityListingsOn', day]);
    return [];
  }
  private answer<T>(call: unknown[], page: PageRequest): Page<T> {
    this.calls.push(call);
    if (page.cursor && this.refuseCursors)
      throw new InvalidCursorError('cursor belongs to a different query');
    return { items: [] };
  }
}

const TODAY = '2026-06-15';

function get(path: string, rawQueryString = ''): QueryRequest {
  return { method: 'GET', path, rawQueryString };
}

async function ask(request: QueryRequest, store = new RecordingStore()) {
  const response = await handleQuery(request, store, { today: () => TODAY });
  return { response, store };
}

describe('handleQuery routing', () => {
  it('sends GET /papers?date=D to papersListedOn with the default limit of 50', async () => {
    // Act
    const { response, store } = await ask(get('/papers', 'date=2026-06-12'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.route).toBe('GET /papers?date');
    expect(response.body).toEqual({ items: [], day: { date: '2026-06-12', status: 'not-fetched' } });
    // An empty page asks why it is empty: the day's record tells a day never fetched from an empty one.
    expect(store.calls).toEqual([
      ['papersListedOn', '2026-06-12', { limit: 50, cursor: undefined }],
      ['ingestedDay', '2026-06-12'],
    ]);
  });

  it('passes sort=id through to the store, and upvotes when sort is not given', async () => {
    const store = new RecordingStore();
    const orders: unknown[] = [];
    store.papersListedOn = async (_day, _page, order) => {
      orders.push(order);
      return { items: [] };
    };

    await ask(get('/papers', 'date=2026-06-12&sort=id'), store);
    await ask(get('/papers', 'date=2026-06-12&sort=upvotes'), store);
    await ask(get('/papers', 'date=2026-06-12'), store);

    expect(orders).toEqual(['id', 'upvotes', 'upvotes']);
  });

  it('sends GET /papers?q= to searchPapers with the stemmed, distinct words and no range', async () => {
    const { response, store } = await ask(get('/papers', 'q=Diffusion%20Transformers%20diffusion'));

    expect(response.route).toBe('GET /papers?q');
    expect(store.calls).toEqual([
      [
        'searchPapers',
        {
          terms: ['diffus', 'transform'],
          range: undefined,
          categories: undefined,
          primaryOnly: undefined,
          order: 'relevance',
          limit: 50,
          cursor: undefined,
        },
      ],
    ]);
  });

  it('combines q with a day, several categories and primary', async () => {
    const { store } = await ask(
      get('/papers', 'q=agents&date=2026-06-12&category=cs.CL,cs.AI&primary=true&sort=date&limit=5'),
    );

    expect(store.calls[0]).toEqual([
      'searchPapers',
      {
        terms: ['agent'],
        range: { from: '2026-06-12', to: '2026-06-12' },
        categories: ['cs.CL', 'cs.AI'],
        primaryOnly: true,
        order: 'date',
        limit: 5,
        cursor: undefined,
      },
    ]);
  });

  it.each([
    ['from=2026-06-01&to=2026-06-12', { from: '2026-06-01', to: '2026-06-12', order: 'upvotes' }],
    ['category=cs.CV&sort=date&to=2026-06-12', { from: '2026-05-14', to: '2026-06-12', order: 'date' }],
    ['category=cs.CV,cs.LG', { from: '2026-05-17', to: TODAY, categories: ['cs.CV', 'cs.LG'] }],
    ['category=cs.CV&primary=true', { categories: ['cs.CV'], primaryOnly: true }],
  ])('sends the ranked range %s to papersInRange', async (query, expected) => {
    const { response, store } = await ask(get('/papers', query));

    expect(response.route).toBe('GET /papers?from');
    expect(store.calls[0]?.[0]).toBe('papersInRange');
    expect(store.calls[0]?.[1]).toMatchObject(expected);
  });

  it('keeps ?category=C without sort as the stream of listings, day by day', async () => {
    const { response } = await ask(get('/papers', 'category=cs.CV&from=2026-06-01&to=2026-06-12'));

    expect(response.route).toBe('GET /papers?category');
  });

  it('sends GET /categories to categoryCounts over the 30 days ending today by default', async () => {
    const { response, store } = await ask(get('/categories'));

    expect(response.body).toEqual({ items: [], from: '2026-05-17', to: TODAY });
    expect(store.calls).toEqual([['categoryCounts', '2026-05-17', TODAY]]);
  });

  it('names the nearest known codes of a typo in a machine-readable list', async () => {
    const { response } = await ask(get('/papers', 'category=cs.CVV'));

    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({ parameter: 'category', suggestions: ['cs.CV'] });
  });

  it('passes limit and cursor through to the store', async () => {
    const { store } = await ask(get('/papers', 'date=2026-06-12&limit=2&cursor=abc_DEF-123'));

    expect(store.calls[0]).toEqual(['papersListedOn', '2026-06-12', { limit: 2, cursor: 'abc_DEF-123' }]);
  });

  it('sends GET /papers?category=C&from=D&to=D to papersInCategory with the inclusive range', async () => {
    const { response, store } = await ask(
      get('/papers', 'category=cs.CV&from=2026-06-01&to=2026-06-12&limit=100'),
    );

    expect(response.statusCode).toBe(200);
    expect(response.route).toBe('GET /papers?category');
    expect(store.calls).toEqual([
      ['papersInCategory', 'cs.CV', '2026-06-01', '2026-06-12', { limit: 100, cursor: undefined }],
    ]);
  });

  it.each([
    ['no bounds: the 30 days ending today', 'category=quant-ph', '2026-05-17', TODAY],
    ['only from: 30 days starting at from', 'category=math.OC&from=2026-01-01', '2026-01-01', '2026-01-30'],
    ['only to: 30 days ending at to', 'category=cond-mat.mes-hall&to=2026-03-01', '2026-01-31', '2026-03-01'],
    [
      'from equal to to: that one day',
      'category=cs.CV&from=2026-06-12&to=2026-06-12',
      '2026-06-12',
      '2026-06-12',
    ],
  ])('fills a category range with %s', async (_case, query, from, to) => {
    const { store } = await ask(get('/papers', query));

    expect(store.calls[0]?.slice(2, 4)).toEqual([from, to]);
  });

  it.each([
    ['no bounds', 'category=quant-ph', true],
    ['only from', 'category=quant-ph&from=2026-01-01', false],
    ['only to', 'category=quant-ph&to=2026-03-01', false],
    ['both bounds', 'category=quant-ph&from=2026-01-01&to=2026-01-02', false],
  ])('tells the store the range rolls with today only with %s', async (_case, query, rollingRange) => {
    const { store } = await ask(get('/papers', query));

    expect(store.categoryOptions).toEqual([{ rollingRange }]);
  });

  it('sends GET /papers/{id} to paperById, dropping an arXiv version', async () => {
    const store = new RecordingStore();
    store.paper = {
      id: '2410.17243',
      title: 'A paper',
      abstract: '',
      links: {},
      source: 'hf-api',
      listings: [{ listedOn: '2026-06-12', upvotes: 3, fetchedAt: '2026-06-12T08:00:00.000Z' }],
      upvoteHistory: [{ listedOn: '2026-06-12', fetchedAt: '2026-06-12T08:00:00.000Z', upvotes: 3 }],
    };

    const { response } = await ask(get('/papers/2410.17243v2'), store);

    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(store.paper);
    expect(store.calls).toEqual([['paperById', '2410.17243']]);
  });

  it.each([
    ['as is', '/papers/hep-th/9901001'],
    ['percent-encoded', '/papers/hep-th%2F9901001'],
  ])('takes an old-style arXiv id with its slash %s', async (_case, path) => {
    const { store } = await ask(get(path));

    expect(store.calls).toEqual([['paperById', 'hep-th/9901001']]);
  });

  it('answers 404 naming the id when the store has no such paper', async () => {
    const { response } = await ask(get('/papers/2410.99999'));

    expect(response.statusCode).toBe(404);
    expect(response.body).toEqual({ error: 'NotFound', message: 'no paper with id 2410.99999' });
  });

  it('sends GET /days to ingestedDays', async () => {
    const { response, store } = await ask(get('/days', 'limit=7'));

    expect(response.statusCode).toBe(200);
    expect(store.calls).toEqual([['ingestedDays', { limit: 7, cursor: undefined }]]);
  });

  it('ignores a trailing slash', async () => {
    const { response } = await ask(get('/days/'));

    expect(response.statusCode).toBe(200);
  });

  it.each(['/', '/paper', '/days/2026-06-12', '/api/papers', '/papersx'])(
    'answers 404 for the unknown route %s without calling the store',
    async (path) => {
      const { response, store } = await ask(get(path, 'date=2026-06-12'));

      expect(response.statusCode).toBe(404);
      expect(response.body).toMatchObject({ error: 'NotFound' });
      expect(store.calls).toEqual([]);
    },
  );

  it('treats everything under /papers/ as an id, so a path trick is a 400 on id, never a lookup', async () => {
    const { response, store } = await ask(get('/papers/x/../../days'));

    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({ parameter: 'id' });
    expect(store.calls).toEqual([]);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'])(
    'answers 405 with allow: GET, HEAD, OPTIONS for %s (HEAD and OPTIONS are answered around it, by http-api.ts)',
    async (method) => {
      const { response, store } = await ask({ method, path: '/papers', rawQueryString: 'date=2026-06-12' });

      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(response.body).toMatchObject({ error: 'MethodNotAllowed' });
      expect(store.calls).toEqual([]);
    },
  );

  it('answers 404, not 405, for another method on an unknown route', async () => {
    const { response } = await ask({ method: 'POST', path: '/nowhere', rawQueryString: '' });

    expect(response.statusCode).toBe(404);
  });
});

describe('handleQuery parameter validation', () => {
  it.each([
    // [query string, path, the parameter the 400 names, a phrase of its message]
    ['date=2026-02-30', '/papers', 'date', 'date: must be a real date YYYY-MM-DD'],
    ['date=2026-6-1', '/papers', 'date', 'date: must be a real date YYYY-MM-DD'],
    ['date=', '/papers', 'date', 'date: must be a real date YYYY-MM-DD'],
    ['date=yesterday', '/papers', 'date', 'date: must be a real date YYYY-MM-DD'],
    ['', '/papers', 'date', 'date: is required'],
    ['limit=5', '/papers', 'date', 'date: is required'],
    ['sort=upvotes', '/papers', 'date', 'date: is required, or category, q, or from and to'],
    [
      'DATE=2026-06-12',
      '/papers',
      'DATE',
      'DATE: is not a parameter of GET /papers (it takes date, category, q, or from and to; names are lower-case)',
    ],
    [
      'day=2026-06-12&limit=5',
      '/papers',
      'day',
      'day: is not a parameter of GET /papers (it takes date, category, q, or from and to)',
    ],
    [
      'category=cs.cv',
      '/papers',
      'category',
      'category: must be spelled cs.CV (category codes are case-sensitive)',
    ],
    ['category=COND-MAT.MES-HALL', '/papers', 'category', 'category: must be an arXiv category code'],
    ['category=cond-mat.Mes-hall', '/papers', 'category', 'category: must be spelled cond-mat.mes-hall'],
    ['date=2026-06-12&limit=0', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12&limit=101', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12&limit=-1', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12&limit=2.5', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12&limit=1e2', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12&limit=', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12&cursor=', '/papers', 'cursor', 'cursor: must be the cursor of a previous page'],
    [
      'date=2026-06-12&cursor=not%20base64!',
      '/papers',
      'cursor',
      'cursor: must be the cursor of a previous page',
    ],
    ['date=2026-06-12&date=2026-06-13', '/papers', 'date', 'date: is given more than once'],
    [
      'date=2026-06-12&sort=asc',
      '/papers',
      'sort',
      'sort: must be upvotes (most upvoted first, the default) or id',
    ],
    [
      'category=cs.CV&sort=id',
      '/papers',
      'sort',
      'sort: must be upvotes (most upvoted first, the default) or date',
    ],
    ['category=cs.CVV', '/papers', 'category', 'category: is not an arXiv category (did you mean cs.CV'],
    ['category=cv', '/papers', 'category', 'category: is not an arXiv category (did you mean cs.CV'],
    ['category=cs', '/papers', 'category', 'category: is not an arXiv category'],
    [
      'category=cs.CV,cs.LGG&sort=upvotes',
      '/papers',
      'category',
      'is not an arXiv category (did you mean cs.LG',
    ],
    ['category=cs.CV&primary=yes', '/papers', 'primary', 'primary: must be true'],
    ['from=2026-06-01&primary=true', '/papers', 'primary', 'primary: needs category'],
    ['q=agents&primary=true', '/papers', 'primary', 'primary: needs category'],
    ['from=2026-06-01&sort=relevance', '/papers', 'sort', 'sort: must be upvotes'],
    ['q=', '/papers', 'q', 'q: must hold a word to search for'],
    ['q=the%20of%20a', '/papers', 'q', 'q: must hold a word to search for'],
    ['q=a1%20b2%20c3%20d4%20e5%20f6%20g7%20h8%20i9', '/papers', 'q', 'q: must hold at most 8 distinct words'],
    [
      'q=diffusion&date=2026-06-12&from=2026-06-01',
      '/papers',
      'date',
      'date: cannot be combined with from or to',
    ],
    ['q=diffusion&sort=upvotes', '/papers', 'sort', 'sort: must be relevance'],
    ['q=diffusion&category=cs.CVV', '/papers', 'category', 'did you mean cs.CV'],
    ['q=diffusion&DATE=2026-06-12', '/papers', 'DATE', 'DATE: is not a parameter of GET /papers?q=…'],
    ['from=2026-07-32', '/categories', 'from', 'from: must be a real date'],
    ['from=2026-07-01&to=2026-06-01', '/categories', 'to', 'to: must not be before from'],
    ['category=cs.CV', '/categories', 'category', 'category: is not a parameter of GET /categories'],
    ['date=2026-06-12&from=2026-06-01', '/papers', 'from', 'from: is not a parameter of GET /papers?date=…'],
    ['date=2026-06-12&category=cs.CV', '/papers', 'date', 'date: cannot be combined with category'],
    ['category=', '/papers', 'category', 'category: must be an arXiv category code'],
    ['category=cs.CV;drop', '/papers', 'category', 'category: must be an arXiv category code'],
    ['category=CATEGORY%23cs.CV', '/papers', 'category', 'category: must be an arXiv category code'],
    ['category=cs.CV&from=2026-06-31', '/papers', 'from', 'from: must be a real date YYYY-MM-DD'],
    ['category=cs.CV&to=June', '/papers', 'to', 'to: must be a real date YYYY-MM-DD'],
    [
      'category=cs.CV&from=2026-06-12&to=2026-06-11',
      '/papers',
      'to',
      'to: must not be before from (2026-06-12)',
    ],
    [
      'category=cs.CV&from=2025-01-01&to=2026-06-12',
      '/papers',
      'to',
      'to: must be at most 366 days from from',
    ],
    ['category=cs.CV&limit=1000', '/papers', 'limit', 'limit: must be an integer from 1 to 100'],
    ['category=cs.CV&page=2', '/papers', 'page', 'page: is not a parameter of GET /papers?category=…'],
    ['date=2026-06-12&__proto__=x', '/papers', '__proto__', '__proto__: is not a parameter of GET /papers'],
    ['__proto__=x', '/days', '__proto__', '__proto__: is not a parameter of GET /days'],
    ['constructor=x', '/days', 'constructor', 'constructor: is not a parameter of GET /days'],
    ['', '/papers/2410', 'id', 'id: must be an arXiv id'],
    ['', '/papers/PAPER%232410.17243', 'id', 'id: must be an arXiv id'],
    ['', '/papers/%E0%A4%A', 'id', 'id: must be an arXiv id'],
    [
      'limit=5',
      '/papers/2410.17243',
      'limit',
      'limit: is not a parameter of GET /papers/{id} (it takes none)',
    ],
    ['limit=abc', '/days', 'limit', 'limit: must be an integer from 1 to 100'],
    ['date=2026-06-12', '/days', 'date', 'date: is not a parameter of GET /days (allowed: limit, cursor)'],
  ])('?%s on %s is a 400 naming %s', async (query, path, parameter, message) => {
    // Act
    const { response, store } = await ask(get(path, query));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({ error: 'BadRequest', parameter });
    expect((response.body as { message: string }).message).toContain(message);
    expect(store.calls).toEqual([]);
  });

  it('accepts a well-formed category the taxonomy does not know: a source may carry a newer one', async () => {
    const { response, store } = await ask(get('/papers', 'category=cs.XY&from=2026-06-01&to=2026-06-12'));

    expect(response.statusCode).toBe(200);
    expect(store.calls).toHaveLength(1);
  });

  it('spans a range of exactly 366 days, both ends included', async () => {
    const { response } = await ask(get('/papers', 'category=cs.CV&from=2025-06-13&to=2026-06-13'));

    expect(response.statusCode).toBe(200);
  });

  it('answers 400 naming cursor when the store did not issue the cursor for this query', async () => {
    // Prepare
    const store = new RecordingStore();
    store.refuseCursors = true;

    // Act
    const { response } = await ask(get('/papers', 'date=2026-06-12&cursor=eyJxIjoiZGF5In0'), store);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.body).toEqual({
      error: 'BadRequest',
      message: 'cursor: belongs to a different query',
      parameter: 'cursor',
    });
  });

  it('lets an unexpected store error through for the caller to turn into a 500', async () => {
    const store = new RecordingStore();
    store.papersListedOn = async () => {
      throw new Error('table unreachable');
    };

    await expect(handleQuery(get('/papers', 'date=2026-06-12'), store)).rejects.toThrow('table unreachable');
  });
});
