/** Progress of a training run, one line at a time on stderr, so stdout carries only the result. */
export function log(message: string): void {
  process.stderr.write(`train-classifier: ${message}\n`);
}
