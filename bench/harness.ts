import { performance } from 'node:perf_hooks';

/** One figure a suite reports; `target` states the bound, checked and printed beside it. */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  target?: { max?: number; min?: number };
  note?: string;
}

export interface BenchSuite {
  name: string;
  run(): Promise<Metric[]>;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Times `fn` `samples` times after `warmup` untimed runs; each sample runs it
 * `iterations` times, so fast functions are measured above timer resolution.
 * Returns milliseconds per call, one entry per sample.
 */
export async function timeSamples(
  fn: () => unknown,
  {
    samples = 15,
    warmup = 3,
    iterations = 1,
  }: { samples?: number; warmup?: number; iterations?: number } = {},
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    out.push((performance.now() - start) / iterations);
  }
  return out;
}

export function meetsTarget(metric: Metric): boolean | undefined {
  if (!metric.target) return undefined;
  const { max, min } = metric.target;
  return (max === undefined || metric.value <= max) && (min === undefined || metric.value >= min);
}
