/**
 * `papers backfill` as a process: killed with SIGKILL in the middle of a range and started
 * again, it finishes the rest, reports the days it skipped, fetches nothing again that had
 * landed, and stores every paper once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { readListing, startFixtureServer } from '../support/fixture-server';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface HfItem {
  paper: { id: string; submittedOnDailyAt: string };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('papers backfill killed with SIGKILL and run again', () => {
  it('lands every paper once and fetches again only the day that had not landed', async () => {
    // Prepare: an upstream whose Sunday hangs on the first run, until the backfill is killed.
    const both: HfItem[] = JSON.parse((await readListing('hf-daily-papers-2026-07-10+13.json')).toString());
    const ofDay = (day: string) => both.filter((item) => item.paper.submittedOnDailyAt.startsWith(day));
    let sundayRequested: () => void = () => {};
    const sundayAsked = new Promise<void>((resolve) => {
      sundayRequested = resolve;
    });
    let hang = true;
    const server = await startFixtureServer((url) => {
      const day = url.searchParams.get('date') ?? '';
      if (day === '2026-07-12' && hang) {
        sundayRequested();
        return new Promise(() => {}); // never answers: the process is killed while it waits
      }
      return { body: JSON.stringify(day === '2026-07-10' || day === '2026-07-13' ? ofDay(day) : []) };
    });
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-backfill-resume-'));
    dirs.push(dataDir);
    const env = {
      ...process.env,
      PAPERS_DATA_DIR: dataDir,
      FETCH_MAX_REQUESTS_PER_5_MIN: '30000',
      PAPERS_FETCH_RETRY_DELAY_MS: '10',
    };
    const args = [
      'backfill',
      '--from',
      '2026-07-10',
      '--to',
      '2026-07-13',
      '--concurrency',
      '1',
      '--url-template',
      `${server.origin}/api/daily_papers?date={date}&limit=100`,
    ];
    try {
      // Act: run 1, killed (the stack's owner, the node process tsx runs) once Sunday is asked for.
      const child = spawn('node_modules/.bin/tsx', ['local/cli.ts', ...args], {
        cwd: PROJECT_ROOT,
        env: { ...env, INIT_CWD: PROJECT_ROOT },
        stdio: 'ignore',
      });
      children.push(child);
      await sundayAsked;
      const owner = Number((await readFile(path.join(dataDir, 'stack.lock'), 'utf8')).trim());
      process.kill(owner, 'SIGKILL');
      await exited(child);
      const askedInRun1 = server.requests.map((request) => request.url.searchParams.get('date'));
      expect(askedInRun1).toEqual(['2026-07-10', '2026-07-11', '2026-07-12']);

      // Act: run 2, the same command.
      hang = false;
      const second = await runPapersCli(args, { env });

      // Assess: it says what it skipped, and succeeds.
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/2 day\(s\) to fetch, 2 already fetched \(skipped\)/);
      expect(second.stderr).toMatch(/backfill 2026-07-12: landed, 0 paper\(s\) from 1 page\(s\) \[1\/2\]/);
      expect(second.stderr).toMatch(
        /4 day\(s\): 2 landed, 2 skipped \(already fetched\), 0 failed; 14 paper\(s\)/,
      );
      expect(second.stderr).toMatch(/skipped: 2026-07-10, 2026-07-11/);
      // Nothing that had landed was fetched again; only the day in flight at the kill was.
      const askedInRun2 = server.requests
        .slice(askedInRun1.length)
        .map((request) => request.url.searchParams.get('date'));
      expect(askedInRun2).toEqual(['2026-07-12', '2026-07-13']);

      // Assess: every paper once, classified, nothing left in the queues.
      const stack = await openLocalStack({ dataDir });
      try {
        const store = new DynamoPaperStore(
          makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
          stack.env.TABLE_NAME ?? '',
        );
        for (const day of ['2026-07-10', '2026-07-13']) {
          const papers = (await store.papersListedOn(day, { limit: 100 }, 'id')).items;
          const expected = ofDay(day).map((item) => item.paper.id);
          expect(papers.map((paper) => paper.id).sort()).toEqual([...expected].sort());
          expect(papers.every((paper) => paper.classifierVersion !== undefined)).toBe(true);
        }
        const days = (await store.ingestedDays({ limit: 100 })).items;
        expect(days.find((day) => day.day === '2026-07-10')).toMatchObject({ papers: 11, listed: 11 });
        expect(days.find((day) => day.day === '2026-07-13')).toMatchObject({ papers: 14, listed: 14 });
      } finally {
        await stack.close();
      }
    } finally {
      await server.close();
    }
  }, 240_000);
});
