import { vi } from 'vitest';

/** What a command wrote to stdout and stderr while captured. */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/**
 * Captures what is written to `process.stdout` and `process.stderr` (for a command run in the
 * test's own process) until `vi.restoreAllMocks()`. A write's callback is called, as a stream
 * calls it once the chunk is out, so code that waits for its output to drain goes on.
 */
export function captureOutput(): CapturedOutput {
  const output: CapturedOutput = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    vi.spyOn(process[name], 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      output[name] += String(chunk);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    });
  }
  return output;
}
