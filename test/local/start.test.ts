/**
 * `npm start` as a new user meets it: with no network it still shows the pipeline working, on the
 * shipped sample, kept apart from real data; with its port in use it fails before any work.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';

const work = mkdtempSync(join(tmpdir(), 'papers-start-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A port nothing listens on: bound once by the system's choice, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `papers start` in a child process, with its stderr collected as it comes. */
function startCli(args: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcessWithoutNullStreams = spawn(
    'node_modules/.bin/tsx',
    ['local/cli.ts', 'start', ...args],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, INIT_CWD: PROJECT_ROOT, ...env },
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  /** Resolves with the API's URL once the command serves it; rejects if it exits first. */
  const serving = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', () => {
      const url = /query API on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url) resolve(url);
    });
    exited.then((code) => reject(new Error(`exited ${code} before serving:\n${stderr}`)));
  });
  return { child, exited, serving, stderr: () => stderr };
}

describe('npm start with no network', () => {
  it('says so in one line, ingests the sample listing into a data folder of its own, and serves it', async () => {
    const dataDir = join(work, 'no-network');
    const unreachable = `http://127.0.0.1:${await closedPort()}/api/daily_papers?date={date}`;
    const run = startCli(['--port', '0'], { PAPERS_DATA_DIR: dataDir, LISTING_URL_TEMPLATE: unreachable });
    try {
      const url = await run.serving;
      const response = await fetch(`${url}/papers?date=2026-06-12&limit=100`);
      const page = (await response.json()) as { items: { id: string }[] };

      expect(response.status).toBe(200);
      expect(page.items).toHaveLength(30);
      const lines = run.stderr().split('\n');
      expect(lines[0]).toMatch(
        /^papers start: could not fetch today's listing \(GET http:\/\/127\.0\.0\.1:\d+\/.*\): ingesting the sample listing that ships with the project instead$/,
      );
      expect(lines[1]).toMatch(/^ingest 2026-06-12: listed 30, new 30, /);
      expect(run.stderr()).toContain(`data folder: ${join(dataDir, 'sample')}, the sample listing only`);
      expect(run.stderr()).toContain('npm start -- --date YYYY-MM-DD');
      expect(run.stderr()).toContain('npm start -- --source FILE-OR-URL');
      // The sample's table is in its own folder; nothing was written to the real one.
      expect(existsSync(join(dataDir, 'sample', 'dynamodb'))).toBe(true);
      expect(readdirSync(dataDir)).toEqual(['sample']);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
  });
});

describe('npm start with its port in use', () => {
  let taken: Server;
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('fails with exit 1 before it opens the stack or ingests anything', async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    const dataDir = join(work, 'port-in-use');

    const { code, stderr } = await runPapersCli(
      [
        'start',
        '--source',
        'test/fixtures/listings/hf-daily-papers-2026-06-12.json',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
      ],
      { env: { ...process.env, PAPERS_DATA_DIR: dataDir } },
    );

    expect(code).toBe(1);
    expect(stderr).toBe(
      `papers start: port ${port} on 127.0.0.1 is in use: pass --port with another one (0 picks a free port)\n`,
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});
