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
 * Runs a project script (`local/cli.ts`, `scripts/train-classifier.ts`, …) in a
 * child process with tsx, as its npm script does, from the project root (and
 * with `INIT_CWD` the project root, as when npm is run there, unless `env`
 * sets it); feeds `stdin` when given.
 */
export function runProjectScript(
  script: string,
  args: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliOutcome> {
  return runInProject('node_modules/.bin/tsx', [script, ...args], options);
}

function runInProject(
  command: string,
  args: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv },
): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      // As `npm run` from the project root: npm passes the folder it was run in as INIT_CWD.
      env: { ...(options.env ?? process.env), INIT_CWD: options.env?.INIT_CWD ?? PROJECT_ROOT },
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

/** Runs `papers <args>` exactly as `npx papers <args>` and `npm run -s papers -- <args>` do (the bin launcher). */
export function runPapersCli(
  args: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliOutcome> {
  return runInProject(process.execPath, ['bin/papers.mjs', ...args], options);
}
