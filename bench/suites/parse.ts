/**
 * `parse.ratioToJsonParse`: how much slower turning a listing into validated
 * papers is than a bare `JSON.parse` of the same amount of JSON. Both sides
 * start from the listing's bytes (UTF-8 decoding included on both).
 *
 * Baselines: for the HF API (a JSON array) it is `JSON.parse` of the listing's
 * own bytes. For the HTML page, the text page and the arXiv XML feeds, whose
 * bytes are not JSON, it is `JSON.parse` of the parsed papers' JSON
 * serialisation, repeated until it is at least as large as the listing, with
 * the time scaled to the listing's size (per-byte throughput).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ListingContext, parseListing } from '../../shared/listing/index';
import type { ListingFormat } from '../../shared/paper';
import { type BenchSuite, type Metric, median } from '../harness';

interface Fixture {
  file: string;
  context: ListingContext;
}

const FIXTURES: Fixture[] = [
  { file: 'hf-daily-papers-2026-06-12.json', context: {} },
  { file: 'hf-daily-papers-2026-07-10+13.json', context: {} },
  { file: 'hf-daily-papers-2026-08-03.json', context: {} },
  { file: 'hf-papers-page-2026-07-10.html', context: {} },
  { file: 'hf-papers-page-text.txt', context: { fetchedAt: '2025-12-16T12:00:00Z' } },
  { file: 'arxiv-export-api-2026-06-14.atom.xml', context: {} },
  { file: 'arxiv-rss-2026-09-24.xml', context: {} },
];

const TARGET = 3;
const SAMPLE_MS = 2;
const SAMPLES = 41;
const decoder = new TextDecoder();

function readFixture(file: string): Uint8Array {
  return readFileSync(fileURLToPath(new URL(`../../test/fixtures/listings/${file}`, import.meta.url)));
}

/** Runs per sample so one sample lasts about {@link SAMPLE_MS}, above timer resolution. */
function iterationsFor(fn: () => unknown): number {
  // The first 200 ms also warm the JIT up before anything is sampled.
  const start = performance.now();
  let runs = 0;
  while (performance.now() - start < 200) {
    fn();
    runs++;
  }
  const perRun = (performance.now() - start) / runs;
  return Math.max(1, Math.ceil(SAMPLE_MS / perRun));
}

/**
 * Milliseconds per call over `iterations` back-to-back calls. A plain loop,
 * unlike the harness's `timeSamples`, which awaits every call: both sides are
 * synchronous, and a microtask per call would add the same fixed cost to each,
 * pulling the ratio towards 1.
 */
function sampleMs(fn: () => unknown, iterations: number): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) sink = fn();
  return (performance.now() - start) / iterations;
}

/** Every result is stored here, so the optimiser cannot drop a call whose result goes unused. */
export let sink: unknown;

/**
 * Median milliseconds per call of `a` and of `b`, sampled alternately so that
 * load from other processes on a shared machine weighs on both alike.
 */
function pairedMedians(a: () => unknown, b: () => unknown): [number, number] {
  const iterationsA = iterationsFor(a);
  const iterationsB = iterationsFor(b);
  const samplesA: number[] = [];
  const samplesB: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    samplesA.push(sampleMs(a, iterationsA));
    samplesB.push(sampleMs(b, iterationsB));
  }
  return [median(samplesA), median(samplesB)];
}

/** A JSON document at least `size` bytes long made of the papers' serialisation. */
function equalSizeJson(papers: unknown[], size: number): Uint8Array {
  const one = JSON.stringify(papers);
  const copies = Math.max(1, Math.ceil(size / Buffer.byteLength(one)));
  return new TextEncoder().encode(`[${Array.from({ length: copies }, () => one).join(',')}]`);
}

export const suite: BenchSuite = {
  name: 'parse',
  async run(): Promise<Metric[]> {
    const perFormat = new Map<ListingFormat, { parse: number; baseline: number }>();
    const metrics: Metric[] = [];
    for (const { file, context } of FIXTURES) {
      const bytes = readFixture(file);
      const listing = parseListing(bytes, context);
      if (listing.problems.length) throw new Error(`${file}: ${listing.problems.length} problems`);
      const parse = () => parseListing(bytes, context);
      let parseMs: number;
      let baselineMs: number;
      if (listing.format === 'hf-api') {
        [parseMs, baselineMs] = pairedMedians(parse, () => JSON.parse(decoder.decode(bytes)));
      } else {
        const json = equalSizeJson(listing.papers, bytes.length);
        let jsonMs: number;
        [parseMs, jsonMs] = pairedMedians(parse, () => JSON.parse(decoder.decode(json)));
        baselineMs = (jsonMs * bytes.length) / json.length;
      }
      const totals = perFormat.get(listing.format) ?? { parse: 0, baseline: 0 };
      totals.parse += parseMs;
      totals.baseline += baselineMs;
      perFormat.set(listing.format, totals);
      metrics.push({
        name: `parse.ms.${file}`,
        value: parseMs,
        unit: 'ms',
        note: `${listing.papers.length} papers, ${bytes.length} bytes; JSON.parse baseline ${baselineMs.toFixed(3)} ms`,
      });
    }
    const ratios: [ListingFormat, number][] = [...perFormat].map(([format, t]) => [
      format,
      t.parse / t.baseline,
    ]);
    for (const [format, ratio] of ratios) {
      metrics.push({
        name: `parse.ratioToJsonParse.${format}`,
        value: ratio,
        unit: 'x',
        target: { max: TARGET },
        note:
          format === 'hf-api'
            ? 'sum of median parse times / sum of median JSON.parse times of the same bytes, over the 3 API fixtures'
            : 'median parse time / median JSON.parse time of the papers’ JSON serialisation scaled to the listing’s size',
      });
    }
    const worst = ratios.reduce((a, b) => (b[1] > a[1] ? b : a));
    metrics.push({
      name: 'parse.ratioToJsonParse',
      value: worst[1],
      unit: 'x',
      target: { max: TARGET },
      note: `max across formats (worst: ${worst[0]}); per-format figures above`,
    });
    return metrics;
  },
};
