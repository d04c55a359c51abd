import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
    // Prepare: the sample listing's 30 papers, more than a pipe holds before the reader takes them.
    const env = { ...process.env, PAPERS_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'export-pipe-')) };
    const fixture = path.join(PROJECT_ROOT, 'test/fixtures/listings/hf-daily-papers-2026-06-12.json');
    expect((await runPapersCli(['ingest', '--source', fixture], { env })).code).toBe(0);

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
      expect(stderr).toMatch(
        /^papers export: stopped after \d+ row\(s\) listed 2026-06-12\.\.2026-06-12, (jsonl|csv): the output was closed\n$/,
      );
      expect(stderr).not.toMatch(/EPIPE|error/i);
    }
  }, 120_000);
});
