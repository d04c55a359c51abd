import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_ROOT } from './papers-cli';

export interface ServeProcess {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * `papers serve --port 0 <args>` in a child process, as a user starts it (the bin launcher, from
 * the project root); resolves once it says where it listens.
 */
export function startPapersServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/papers.mjs', 'serve', '--port', '0', ...args], {
    cwd: PROJECT_ROOT,
    env,
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<ServeProcess>((resolve, reject) => {
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
      const match = /query API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1]) {
        resolve({
          origin: match[1],
          child,
          stderr: () => stderr,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`papers serve exited ${code}: ${stderr}`)));
  });
}
