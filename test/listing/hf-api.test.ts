import { describe, expect, it } from 'vitest';
import {
  ListingParseError,
  normalizeItem,
  PaperParseError,
  parseListing,
  splitListing,
} from '../../shared/listing/index';
import { fixture, fixtureText } from './support';

function apiItems(file: string): Record<string, unknown>[] {
  return JSON.parse(fixtureText(file));
}

describe('parseListing on the HF daily papers API', () => {
  it('reads every field of a paper with an organisation and AI keywords', () => {
    // Act
    const { papers } = parseListing(fixture('hf-daily-papers-2026-06-12.json'));

    // Assess
    const paper = papers[0];
    expect(paper).toMatchObject({
      id: '2606.00467',
      title:
        'On the Limits of LLM Adaptability: Impact of Model-Internalized Priors on Annotation Task Performance',
      authors: ['Etienne Casanova', 'Rafal Kocielnik', 'R. Michael Alvarez'],
      authorCount: 3,
      organization: { name: 'caltech', fullname: 'California institute of technology' },
      publishedOn: '2026-05-30',
      listedOn: '2026-06-12',
      upvotes: 0,
      comments: 2,
      links: {
        arxiv: 'https://arxiv.org/abs/2606.00467',
        huggingface: 'https://huggingface.co/papers/2606.00467',
      },
      source: 'hf-api',
    });
    expect(paper?.abstract).toMatch(
      /^Large Language Models \(LLMs\) are increasingly used for zero-shot annotation/,
    );
    expect(paper?.keywords).toHaveLength(14);
    expect(paper?.keywords?.slice(0, 3)).toEqual([
      'zero-shot annotation',
      'LLM-as-a-judge',
      'model-internalized priors',
    ]);
    expect(paper?.summary).toMatch(
      /^Large language models exhibit limited ability to correct zero-shot errors/,
    );
    expect(paper?.links.github).toBeUndefined();
  });

  it('takes GitHub from githubRepo, the project page from projectPage, and leaves out a missing organisation', () => {
    // Act
    const { papers } = parseListing(fixture('hf-daily-papers-2026-06-12.json'));

    // Assess
    expect(papers[1]).toMatchObject({
      id: '2606.12730',
      authorCount: 8,
      upvotes: 5,
      comments: 3,
      links: { github: 'https://github.com/psychology-of-AI/Rethinking-Pyschometric-Eval-LLMs' },
    });
    expect(papers[1]).not.toHaveProperty('organization');
    expect(papers[2]?.links).toEqual({
      arxiv: 'https://arxiv.org/abs/2606.13594',
      huggingface: 'https://huggingface.co/papers/2606.13594',
      projectPage: 'https://chicychen.github.io/dense-hetero-latent-mas/',
    });
  });

  it('finds a GitHub URL in the abstract when githubRepo is missing, without the trailing full stop', () => {
    // Act
    const { papers } = parseListing(fixture('hf-daily-papers-2026-06-12.json'));

    // Assess
    expect(papers[8]?.id).toBe('2606.12488');
    expect(papers[8]?.links.github).toBe('https://github.com/miccunifi/iamcl2r');
  });

  it('leaves out keywords and summary when the response has no ai_keywords or ai_summary', () => {
    // Act
    const { papers } = parseListing(fixture('hf-daily-papers-2026-08-03.json'));

    // Assess
    expect(papers.map((paper) => paper.id)).toEqual(['2607.26654', '2607.28229', '2607.27851']);
    expect(papers[0]).toMatchObject({
      title: 'Constitutional Midtraining: Content Presence Drives Alignment Gains',
      authorCount: 7,
      organization: { name: 'Oxford', fullname: 'University of Oxford' },
      publishedOn: '2026-07-29',
      listedOn: '2026-08-03',
      upvotes: 3,
      comments: 1,
      links: {
        github: 'https://github.com/desBugger/constitutional-mt',
        projectPage: 'https://www.lesswrong.com/posts/n5htoDGvKKJFAjji2',
      },
    });
    for (const paper of papers) {
      expect(paper).not.toHaveProperty('keywords');
      expect(paper).not.toHaveProperty('summary');
    }
    expect(papers[1]?.publishedOn).toBe('2026-07-30');
  });

  it('dates a 2024 item without submittedOnDailyAt by the day asked for, else by its outer publishedAt', () => {
    // Prepare: a 2024-style item, with arXiv's hard line breaks kept in title and abstract
    const item = {
      paper: {
        id: '2405.04434',
        title: 'DeepSeek-V2: A Strong, Economical, and Efficient\n  Mixture-of-Experts Language Model',
        summary:
          'We present DeepSeek-V2, a strong Mixture-of-Experts (MoE) language model\ncharacterized by economical training.',
        authors: [{ name: 'DeepSeek-AI' }],
        publishedAt: '2024-05-07T00:00:00.000Z',
        upvotes: 12,
      },
      publishedAt: '2024-05-08T02:11:44.518Z',
      numComments: 0,
    };
    const listing = JSON.stringify([item]);

    // Act
    const asked = parseListing(listing, { listedOn: '2024-05-08' }).papers[0];
    const unasked = parseListing(listing).papers[0];

    // Assess
    expect(asked?.listedOn).toBe('2024-05-08');
    expect(unasked?.listedOn).toBe('2024-05-08');
    expect(parseListing(listing, { listedOn: '2024-05-09' }).papers[0]?.listedOn).toBe('2024-05-09');
    expect(unasked).toMatchObject({
      id: '2405.04434',
      title: 'DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model',
      abstract:
        'We present DeepSeek-V2, a strong Mixture-of-Experts (MoE) language model characterized by economical training.',
      publishedOn: '2024-05-07',
      upvotes: 12,
      comments: 0,
    });
  });

  it('reports an item with wrong types as a problem and still returns the other papers', () => {
    // Prepare
    const items = apiItems('hf-daily-papers-2026-08-03.json');
    const bad = structuredClone(items[1]) as { paper: Record<string, unknown> };
    bad.paper.upvotes = 'many';
    bad.paper.title = 42;
    const listing = JSON.stringify([items[0], bad, items[2], 'not an item']);

    // Act
    const { papers, problems } = parseListing(listing);

    // Assess
    expect(papers.map((paper) => paper.id)).toEqual(['2607.26654', '2607.27851']);
    expect(problems).toHaveLength(2);
    expect(problems[0]?.index).toBe(1);
    expect(problems[0]?.message).toMatch(/^hf-api item 1: .*paper\.title: .*expected string.*paper\.upvotes/);
    expect(problems[1]?.index).toBe(3);
  });

  it('throws PaperParseError with the item index for an item without a title', () => {
    // Prepare
    const item = {
      format: 'hf-api' as const,
      index: 7,
      raw: { paper: { id: '2607.26654', title: '  \n ' } },
    };

    // Act
    const act = () => normalizeItem(item, {});

    // Assess
    expect(act).toThrow(PaperParseError);
    expect(act).toThrow('hf-api item 7: no title');
    try {
      act();
    } catch (error) {
      expect(error).toMatchObject({ name: 'PaperParseError', index: 7, format: 'hf-api' });
    }
  });

  it('gives a title-derived id and no arXiv links when the paper id is not an arXiv id', () => {
    // Prepare
    const listing = JSON.stringify([{ paper: { id: 'not-arxiv', title: 'A Paper Without arXiv' } }]);

    // Act
    const [paper] = parseListing(listing).papers;

    // Assess
    expect(paper?.id).toMatch(/^title-[0-9a-f]{16}$/);
    expect(paper?.links).toEqual({});
    expect(paper?.abstract).toBe('');
    expect(paper).not.toHaveProperty('authors');
    expect(paper).not.toHaveProperty('listedOn');
  });
});

describe('splitListing on the HF daily papers API: the listing day', () => {
  it('is the day every item was submitted to the daily list', () => {
    // Act
    const june = splitListing(fixture('hf-daily-papers-2026-06-12.json'));
    const august = splitListing(fixture('hf-daily-papers-2026-08-03.json'));

    // Assess
    expect(june.listedOn).toBe('2026-06-12');
    expect(august.listedOn).toBe('2026-08-03');
  });

  it('is the shared day even when the timestamps differ in time of day', () => {
    // Prepare
    const items = apiItems('hf-daily-papers-2026-08-03.json');
    const paper = (items[1] as { paper: Record<string, unknown> }).paper;
    paper.submittedOnDailyAt = '2026-08-03T23:59:59.999Z';

    // Act
    const split = splitListing(JSON.stringify(items));

    // Assess
    expect(split.listedOn).toBe('2026-08-03');
  });

  it('is the latest day when the items span several days (earlier days are carried over)', () => {
    // Act
    const split = splitListing(fixture('hf-daily-papers-2026-07-10+13.json'));

    // Assess
    expect(split.listedOn).toBe('2026-07-13');
    expect(split.items).toHaveLength(25);
  });

  it('is the day of the other items when one lacks submittedOnDailyAt or has an unreadable one', () => {
    // Prepare
    const withoutDay = apiItems('hf-daily-papers-2026-08-03.json');
    delete (withoutDay[2] as { paper: Record<string, unknown> }).paper.submittedOnDailyAt;
    const withNull = apiItems('hf-daily-papers-2026-08-03.json');
    (withNull[0] as { paper: Record<string, unknown> }).paper.submittedOnDailyAt = null;
    const withGarbage = apiItems('hf-daily-papers-2026-08-03.json');
    (withGarbage[1] as { paper: Record<string, unknown> }).paper.submittedOnDailyAt = 'yesterday';
    const withoutPaper = [...apiItems('hf-daily-papers-2026-08-03.json'), { title: 'no paper object' }];

    // Act
    const splits = [withoutDay, withNull, withGarbage, withoutPaper].map((items) =>
      splitListing(JSON.stringify(items)),
    );

    // Assess: one unreadable item never unnames the listing (nor sends the run to another day).
    for (const split of splits) expect(split.listedOn).toBe('2026-08-03');
  });

  it('is absent when no item carries submittedOnDailyAt (responses from 2024)', () => {
    // Prepare
    const items = apiItems('hf-daily-papers-2026-08-03.json');
    for (const item of items) delete (item as { paper: Record<string, unknown> }).paper.submittedOnDailyAt;

    // Act
    const split = splitListing(JSON.stringify(items));

    // Assess
    expect(split).not.toHaveProperty('listedOn');
  });

  it('is absent for an empty day, and leaves the items and their papers as they were', () => {
    // Act
    const empty = splitListing('[]');
    const split = splitListing(fixture('hf-daily-papers-2026-06-12.json'));

    // Assess
    expect(empty).toEqual({ format: 'hf-api', items: [] });
    expect(split.items.every((item) => !('listedOn' in item))).toBe(true);
    expect(split.items.map((item) => normalizeItem(item))).toEqual(
      parseListing(fixture('hf-daily-papers-2026-06-12.json')).papers,
    );
  });
});

describe('parseListing on malformed API responses', () => {
  it('treats an empty array as a normal empty day', () => {
    // Act
    const listing = parseListing('[]\n');

    // Assess
    expect(listing).toEqual({ format: 'hf-api', papers: [], problems: [] });
  });

  it('says where truncated JSON ends', () => {
    // Prepare
    const bytes = fixture('hf-daily-papers-2026-06-12.json').slice(0, 5123);

    // Act
    const act = () => parseListing(bytes);

    // Assess
    expect(act).toThrow(ListingParseError);
    expect(act).toThrow('hf-api: unexpected end of JSON at byte 5123');
  });

  it('says where invalid JSON breaks: the byte offset, or the text around it', () => {
    // Act
    const missingColon = () => parseListing('[{"paper": {"id": "2401.00001", "title" "Zoë"}}]');
    const extraComma = () => parseListing('[{"paper": {"id": "2401.00001", "title": "Zoë"}},, {}]');

    // Assess
    expect(missingColon).toThrow(/^hf-api: invalid JSON at byte 40: /);
    // "ë" takes two bytes: the offset counts bytes, not characters.
    expect(() => parseListing('["Zoë", "x" "y"]')).toThrow(/^hf-api: invalid JSON at byte 13: /);
    expect(extraComma).toThrow(/^hf-api: invalid JSON: Unexpected token ','.*"Zoë"\}\},, \{\}\]/);
  });

  it('rejects a JSON object, which is not a listing, naming its error field', () => {
    // Act
    const act = () =>
      parseListing('{"error":"Invalid date"}', { url: 'https://huggingface.co/api/daily_papers' });

    // Assess
    expect(act).toThrow('hf-api: expected a JSON array of papers, got an object (error: Invalid date)');
  });
});
