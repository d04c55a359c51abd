import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseQueryArgs, run, toCsv } from '../../local/commands/query';
import { UsageError } from '../../shared/command-line';
import { csvField } from '../../shared/query/csv';
import { type CapturedOutput, captureOutput } from '../support/captured-output';
import { makeDataDir, openTestStack, type SeedPaper, seed } from './support';

const DAY = '2026-06-11';
const PAPERS: SeedPaper[] = [
  { id: '2606.00001', listedOn: DAY, upvotes: 9, categories: ['cs.CV'], title: 'Seeing, "clearly"' },
  { id: '2606.00002', listedOn: DAY, upvotes: 8, categories: ['cs.CL'], authors: ['A. One', 'B. Two'] },
  { id: '2606.00003', listedOn: DAY, upvotes: 7, categories: ['cs.CV'] },
];

describe('parseQueryArgs', () => {
  it('maps --category with bounds to GET /papers, following cursors by default', () => {
    expect(parseQueryArgs(['--category', 'cs.CV', '--from', '2026-06-01', '--to=2026-06-12'])).toMatchObject({
      kind: 'papers',
      path: '/papers',
      parameters: new URLSearchParams('category=cs.CV&from=2026-06-01&to=2026-06-12'),
      format: 'jsonl',
      limit: undefined,
    });
  });

  it('encodes an id with a slash into the path', () => {
    expect(parseQueryArgs(['--id', 'hep-th/9901001', '--format', 'csv'])).toMatchObject({
      kind: 'paper',
      path: '/papers/hep-th%2F9901001',
      format: 'csv',
    });
  });

  it.each([
    [[], 'ask for --date, --category, --from/--to, --q, --id, --days or --categories'],
    [
      ['--categories', '--date', DAY],
      'ask for one of --date/--category/--from/--to/--q, --id, --days or --categories',
    ],
    [['--date'], '--date needs a value'],
    [['--date', DAY, '--format', 'xml'], '--format must be jsonl, json or csv, got "xml"'],
    [['--date', DAY, '--limit', '0'], '--limit must be a positive integer, got "0"'],
    [['--date', DAY, '--limit', '5', '--all'], '--limit and --all contradict each other'],
    [
      ['--id', '2606.00001', '--days'],
      'ask for one of --date/--category/--from/--to/--q, --id, --days or --categories',
    ],
    [['--date', DAY, '--verbose'], 'unknown option "--verbose"'],
    [['--date', DAY, '--date', DAY], '--date is given more than once'],
    [['--days', '--date'], '--date needs a value'],
  ])('refuses %j: %s', (args, problem) => {
    expect(() => parseQueryArgs(args)).toThrow(new UsageError(problem));
  });

  it('maps --categories with bounds to GET /categories', () => {
    expect(parseQueryArgs(['--categories', '--from', '2026-06-01', '--to', '2026-06-12'])).toMatchObject({
      kind: 'categories',
      path: '/categories',
      parameters: new URLSearchParams('from=2026-06-01&to=2026-06-12'),
    });
  });

  it('passes --sort to the API, so an export can page a day by id', () => {
    expect(parseQueryArgs(['--date', DAY, '--sort', 'id', '--all'])).toMatchObject({
      parameters: new URLSearchParams(`date=${DAY}&sort=id`),
    });
  });

  it('leaves the values to the API to validate', () => {
    expect(parseQueryArgs(['--date', 'not-a-date'])).toMatchObject({
      parameters: new URLSearchParams('date=not-a-date'),
    });
  });
});

describe('toCsv', () => {
  it('quotes fields with commas, quotes, line breaks or edge spaces, and only those', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(42)).toBe('42');
  });

  it('writes a header row and one row per paper, authors joined by "; "', () => {
    const csv = toCsv('papers', [
      {
        id: '2606.00002',
        title: 'A title, with a comma',
        listedOn: DAY,
        upvotes: 8,
        primaryCategory: 'cs.CL',
        authors: ['A. One', 'B. Two'],
        links: { arxiv: 'https://arxiv.org/abs/2606.00002' },
      },
    ]);

    expect(csv).toBe(
      'id,title,listedOn,upvotes,primaryCategory,authors,arxiv\r\n' +
        '2606.00002,"A title, with a comma",2026-06-11,8,cs.CL,A. One; B. Two,https://arxiv.org/abs/2606.00002\r\n',
    );
  });
});

describe('papers query', () => {
  let dataDir: string;
  let output: CapturedOutput;

  beforeAll(async () => {
    dataDir = await makeDataDir();
    const stack = await openTestStack(dataDir);
    await seed(stack.store, PAPERS);
    await stack.close();
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    // Each run opens the stack afresh on a new port: load the handler afresh too, as a new process would.
    vi.resetModules();
    vi.stubEnv('PAPERS_DATA_DIR', dataDir);
    output = captureOutput();
    return () => vi.restoreAllMocks();
  });

  it('prints a day as JSON lines, most upvoted first, through the handler', async () => {
    const code = await run(['--date', DAY]);

    expect(code).toBe(0);
    const lines = output.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((paper) => paper.id)).toEqual(['2606.00001', '2606.00002', '2606.00003']);
  });

  it('stops at --limit and says how to continue', async () => {
    const code = await run(['--date', DAY, '--limit', '2', '--format', 'json']);

    expect(code).toBe(0);
    expect(JSON.parse(output.stdout).map((paper: { id: string }) => paper.id)).toEqual([
      '2606.00001',
      '2606.00002',
    ]);
    expect(output.stderr).toMatch(/continue with --cursor [A-Za-z0-9_-]+/);
  });

  it("searches with --q, in the API's CSV columns for a search", async () => {
    const code = await run(['--q', 'abstract', '--primary', '--category', 'cs.CV', '--format', 'csv']);

    expect(code).toBe(0);
    const lines = output.stdout.split('\r\n');
    expect(lines[0]).toBe('id,title,listedOn,upvotes,primaryCategory,authors,arxiv,days,score');
    expect(
      lines
        .slice(1, -1)
        .map((line) => line.split(',')[0])
        .sort(),
    ).toEqual(['2606.00001', '2606.00003']);
  });

  it('gives a ranked range with its upvotes and the days each paper was listed', async () => {
    const code = await run(['--from', DAY, '--to', DAY, '--sort', 'upvotes', '--format', 'csv']);

    expect(code).toBe(0);
    expect(output.stdout.split('\r\n').slice(0, 2)).toEqual([
      'id,title,listedOn,upvotes,primaryCategory,authors,arxiv,days,score',
      `2606.00001,"Seeing, ""clearly""",${DAY},9,cs.CV,Ada Lovelace; Alan Turing,https://arxiv.org/abs/2606.00001,${DAY},`,
    ]);
  });

  it('counts papers per category over a range with --categories, as the API counts them', async () => {
    const code = await run(['--categories', '--from', DAY, '--to', DAY, '--format', 'csv']);

    expect(code).toBe(0);
    const lines = output.stdout.split('\r\n');
    expect(lines[0]).toBe('code,name,group,papers,primary');
    expect(lines.find((line) => line.startsWith('cs.CV,'))).toMatch(/^cs\.CV,.*,2,2$/);
    expect(lines.find((line) => line.startsWith('cs.CL,'))).toMatch(/^cs\.CL,.*,1,1$/);
  });

  it('prints CSV with correct quoting, leaving unknown values empty', async () => {
    // Category results carry no upvotes (they live on the listing): the column stays empty.
    const code = await run(['--category', 'cs.CV', '--from', DAY, '--to', DAY, '--format', 'csv']);

    expect(code).toBe(0);
    expect(output.stdout.split('\r\n')).toEqual([
      'id,title,listedOn,upvotes,primaryCategory,authors,arxiv',
      '2606.00001,"Seeing, ""clearly""",2026-06-11,,cs.CV,Ada Lovelace; Alan Turing,https://arxiv.org/abs/2606.00001',
      '2606.00003,Paper 2606.00003,2026-06-11,,cs.CV,Ada Lovelace; Alan Turing,https://arxiv.org/abs/2606.00003',
      '',
    ]);
  });

  it("reports a parameter the API refuses as a usage error, with the API's message", async () => {
    // local/cli.ts prints it with the usage and exits 2 (test/local/cli-usage.test.ts).
    await expect(run(['--date', '2026-02-30'])).rejects.toThrow(
      new UsageError('date: must be a real date YYYY-MM-DD'),
    );

    expect(output.stdout).toBe('');
  });

  it('exits 1 with the API message for an unknown paper', async () => {
    const code = await run(['--id', '2606.99999']);

    expect(code).toBe(1);
    expect(output.stderr).toContain('no paper with id 2606.99999');
  });

  it('prints nothing more for an empty answer from a table that holds days', async () => {
    const code = await run(['--category', 'astro-ph.SR', '--from', DAY, '--to', DAY]);

    expect(code).toBe(0);
    expect(output.stdout).toBe('');
    expect(output.stderr).toBe('');
  });
});

describe('papers query on a data folder that holds no day', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await makeDataDir();
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("says on stderr that nothing was ingested there, naming the folder and the sample's", async () => {
    vi.resetModules();
    vi.stubEnv('PAPERS_DATA_DIR', dataDir);
    const output = captureOutput();

    const code = await run(['--days']).finally(() => vi.restoreAllMocks());

    expect(code).toBe(0);
    expect(output.stdout).toBe('');
    expect(output.stderr).toContain(`papers query: no day ingested yet in ${dataDir}`);
    // Where `npm start` would keep the sample with this PAPERS_DATA_DIR: a folder of its own in it.
    expect(output.stderr).toContain(`PAPERS_DATA_DIR=${path.join(dataDir, 'sample')}`);
  });
});

describe('papers query given a value the API refuses', () => {
  it.each([
    [['--date', '2026-99-99'], 'date: must be a real date YYYY-MM-DD'],
    [['--category', 'cs.CVV'], 'category: is not an arXiv category (did you mean cs.CV?)'],
    [['--from', '2026-06-12', '--to', '2026-06-01'], 'to: must not be before from (2026-06-12)'],
  ])('refuses %j with the API message, without opening a stack', async (args, message) => {
    const dataDir = await makeDataDir();
    vi.resetModules();
    vi.stubEnv('PAPERS_DATA_DIR', dataDir);
    try {
      await expect(run(args)).rejects.toThrow(new UsageError(message));
      // Nothing was opened: no table, no lock, no queues in the data folder.
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
