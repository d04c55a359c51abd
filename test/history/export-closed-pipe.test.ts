import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runPapersCli } from '../support/papers-cli';

/** `papers export … | head -2`: the reader goes away while the export waits for it to take more. */
function exportReadOnce(args: readonly string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stderr: string; first: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/papers.mjs', 'export', ...args], { cwd: PROJECT_ROOT, env });
    let stderr = '';
    let first = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString('utf8');
      child.stdout.destroy(); // as `head` exits: the pipe's read end closes
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, first }));
  });
}

describe('papers export into a pipe closed early', () => {
  it('ends with exit code 0 and a summary that says where it stopped, no error, in JSON lines and in CSV', async () => {
    // Prepare: the fixture day's 30 papers ten times over, re-identified: 300 rows, about 300 KB of
    // JSON lines and 230 KB of CSV, far more than a pipe (64 KB) and the stream's buffer hold before
    // the reader takes them, so the reader goes away before the export is done. (The 30 alone fit:
    // the export could end before the reader closed, and rightly said it had listed all 30.)
    const dir = mkdtempSync(path.join(tmpdir(), 'export-pipe-'));
    const env = { ...process.env, PAPERS_DATA_DIR: dir };
    const fixture = path.join(PROJECT_ROOT, 'test/fixtures/listings/hf-daily-papers-2026-06-12.json');
    const items = JSON.parse(readFileSync(fixture, 'utf8')) as { paper: { id: string } }[];
    const listing = Array.from({ length: 10 }, (_, copy) =>
      items.map((item, i) => ({ ...item, paper: { ...item.paper, id: `2606.${90000 + copy * 100 + i}` } })),
    ).flat();
    const source = path.join(dir, 'hf-daily-papers-2026-06-12.json');
    writeFileSync(source, JSON.stringify(listing));
    expect((await runPapersCli(['ingest', '--source', source], { env })).code).toBe(0);

    // Act
    const range = ['--from', '2026-06-12', '--to', '2026-06-12'];
    const jsonl = await exportReadOnce(range, env);
    const csv = await exportReadOnce([...range, '--format', 'csv'], env);

    // Assess
    expect(jsonl.first).toMatch(/^\{"id":/);
    expect(csv.first).toMatch(/^id,/);
    for (const { code, stderr } of [jsonl, csv]) {
      expect(code).toBe(0);
      // Its summary only, which says the export stopped short (not that the day holds that many rows), no error.
      const stopped =
        /^papers export: stopped after (\d+) row\(s\) listed 2026-06-12\.\.2026-06-12, (jsonl|csv): the output was closed\n$/.exec(
          stderr,
        );
      expect(stopped, stderr).not.toBeNull();
      expect(Number(stopped?.[1])).toBeLessThan(300);
      expect(stderr).not.toMatch(/EPIPE|error/i);
    }
  }, 120_000);
});
