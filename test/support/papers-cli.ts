import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project root, where `npm run -s papers` runs. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `papers <args>` in a child process exactly as `npm run -s papers -- <args>`
 * does (tsx on local/cli.ts), feeding `stdin` when given.
 */
export function runPapersCli(
  args: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/tsx', ['local/cli.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
