import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaperSchema } from '../../shared/paper';
import { type CliOutcome, runPapersCli } from '../support/papers-cli';
import { FIXTURES_DIR } from './support';

function papersCli(...args: string[]): Promise<CliOutcome> {
  return runPapersCli(['parse', ...args]);
}

function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('papers parse', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/api/daily_papers?date=2026-08-03') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(readFileSync(`${FIXTURES_DIR}hf-daily-papers-2026-08-03.json`));
      } else if (request.url === '/slow') {
        // Never answers: the command's timeout must end the wait.
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('prints one paper per line and a summary for a listing file', async () => {
    // Act
    const { code, stdout, stderr } = await papersCli(
      `${FIXTURES_DIR}hf-papers-page-text.txt`,
      '--fetched-at',
      '2025-12-16T09:30:00Z',
    );

    // Assess
    expect(code).toBe(0);
    const papers = jsonLines(stdout).map((line) => PaperSchema.parse(line));
    expect(papers).toHaveLength(36);
    expect(papers.find((paper) => paper.title === 'Parallel Scaling Law for Language Models')).toMatchObject({
      authorCount: 8,
      publishedOn: '2025-05-15',
      upvotes: 3,
      listedOn: '2025-12-16',
    });
    expect(stderr).toBe('papers parse: format=hf-text papers=36 problems=0\n');
  });

  it('says when the text page has no day to anchor its dates, and uses --fetched-at when given', async () => {
    const bare = await papersCli(`${FIXTURES_DIR}hf-papers-page-text.txt`);
    const anchored = await papersCli(
      `${FIXTURES_DIR}hf-papers-page-text.txt`,
      '--fetched-at',
      '2025-12-16T12:00:00Z',
    );

    expect(bare.code).toBe(0);
    expect(bare.stderr).toContain('no --fetched-at or --listed-on');
    expect(anchored.stderr).not.toContain('no --fetched-at');
    const listedOn = anchored.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).listedOn);
    expect(new Set(listedOn)).toEqual(new Set(['2025-12-16']));
  });

  it('fetches a listing over HTTP and parses it', async () => {
    // Act
    const { code, stdout, stderr } = await papersCli(`${base}/api/daily_papers?date=2026-08-03`);

    // Assess
    expect(code).toBe(0);
    const papers = jsonLines(stdout).map((line) => PaperSchema.parse(line));
    expect(papers.map((paper) => paper.id)).toEqual(['2607.26654', '2607.28229', '2607.27851']);
    expect(papers.every((paper) => paper.listedOn === '2026-08-03')).toBe(true);
    expect(stderr).toBe('papers parse: format=hf-api papers=3 problems=0\n');
  });

  it('uses --listed-on for items that do not carry their day', async () => {
    // Act
    const { code, stdout } = await papersCli(
      `${FIXTURES_DIR}arxiv-export-api-2026-06-14.atom.xml`,
      '--listed-on',
      '2026-06-14',
    );

    // Assess
    expect(code).toBe(0);
    const papers = jsonLines(stdout).map((line) => PaperSchema.parse(line));
    expect(papers).toHaveLength(5);
    expect(papers.every((paper) => paper.listedOn === '2026-06-14')).toBe(true);
  });

  it('exits 0 and reports item problems on stderr when some items are bad', async () => {
    // Prepare
    const items = JSON.parse(readFileSync(`${FIXTURES_DIR}hf-daily-papers-2026-08-03.json`, 'utf8'));
    const file = join(mkdtempSync(join(tmpdir(), 'papers-parse-')), 'listing.json');
    writeFileSync(file, JSON.stringify([items[0], { paper: { id: 42 } }, items[2]]));

    // Act
    const { code, stdout, stderr } = await papersCli(file);

    // Assess
    expect(code).toBe(0);
    expect(jsonLines(stdout)).toHaveLength(2);
    expect(stderr).toMatch(
      /^papers parse: problem: hf-api item 1: paper\.id: .*\npapers parse: format=hf-api papers=2 problems=1\n$/,
    );
  });

  it('exits 1 with the HTTP status when the server answers 404', async () => {
    // Act
    const { code, stdout, stderr } = await papersCli(`${base}/missing`);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`papers parse: cannot fetch ${base}/missing: HTTP 404 Not Found\n`);
  });

  it('exits 1 when the server does not answer within the timeout', async () => {
    // Act
    const { code, stderr } = await papersCli(`${base}/slow`, '--timeout-ms', '300');

    // Assess
    expect(code).toBe(1);
    expect(stderr).toBe(`papers parse: cannot fetch ${base}/slow: no response within 300 ms\n`);
  });

  it('exits 1 naming the format and the place when the listing cannot be parsed', async () => {
    // Act
    const { code, stdout, stderr } = await papersCli(`${FIXTURES_DIR}hf-paper-page-2509.24002.html`);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'papers parse: the listing could not be parsed: hf-html: no element with data-target="DailyPapers"\n',
    );
  });

  it('exits 1 for a file that does not exist', async () => {
    // Act
    const { code, stderr } = await papersCli('no/such/listing.json');

    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/^papers parse: cannot read no\/such\/listing\.json: ENOENT/);
  });

  it('exits 2 for a bad --listed-on or a missing argument', async () => {
    // Act
    const badDay = await papersCli(
      `${FIXTURES_DIR}hf-daily-papers-2026-08-03.json`,
      '--listed-on',
      '2026-02-30',
    );
    const noArgument = await papersCli();

    // Assess
    expect(badDay.code).toBe(2);
    expect(badDay.stderr).toMatch(
      /^papers parse: --listed-on must be a real day as YYYY-MM-DD, got "2026-02-30"\nusage: /,
    );
    expect(noArgument.code).toBe(2);
    expect(noArgument.stderr).toMatch(/^papers parse: expected one file or URL\nusage: /);
  });
});

describe('papers parse, run through npm from another folder', () => {
  it('reads a relative path from the folder the user ran npm in (INIT_CWD), not the project root', async () => {
    const { code, stdout, stderr } = await runPapersCli(['parse', 'hf-daily-papers-2026-06-12.json'], {
      env: { ...process.env, INIT_CWD: FIXTURES_DIR },
    });

    expect(stderr).toBe('papers parse: format=hf-api papers=30 problems=0\n');
    expect(code).toBe(0);
    expect(jsonLines(stdout)).toHaveLength(30);
  });
});
