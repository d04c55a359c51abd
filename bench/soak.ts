import { parseArgs } from 'node:util';
import {
  type ExpectedPaper,
  type FindingKind,
  generateListing,
  type HfItem,
  HTML_ERROR_PAGE,
  inspectPipeline,
  openFaultStack,
  poisonItem,
  throttleAtRate,
  type UpstreamAnswer,
} from '../test/faults/harness';

/**
 * `npm run soak [-- --minutes N]`: the pipeline under a steady load with
 * injected faults, for N minutes (default 10), then a count of what landed.
 *
 * Every few seconds fetch-listing (the real handler, over HTTP from a server on
 * 127.0.0.1) fetches a generated listing for a new day, or fetches an earlier
 * day again with more upvotes; the real consumers drain the parse and classify
 * queues meanwhile. About 1% of everything goes wrong: upstream requests answer
 * a 503, a 429 with `Retry-After`, hang past the timeout, or send an HTML error
 * page as a 200; DynamoDB requests are throttled; papers are poison. A run
 * that throws is retried twice, as Lambda retries an asynchronous invocation.
 *
 * At the end it reports papers in, stored, in the DLQs, lost, duplicated,
 * rolled back, and the peak RSS; it exits 1 if anything was lost, doubled or
 * rolled back. Loopback only; bounded by the minutes plus a final drain.
 */

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'papers-per-listing': { type: 'string', default: '25' },
    'interval-ms': { type: 'string', default: '4000' },
    'fault-rate': { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '1' },
  },
});
const minutes = Number(values.minutes);
const papersPerListing = Number(values['papers-per-listing']);
const intervalMs = Number(values['interval-ms']);
const faultRate = Number(values['fault-rate']);
if (!(minutes > 0 && minutes <= 120) || !(papersPerListing >= 1 && papersPerListing <= 1000)) {
  process.stderr.write(
    'usage: npm run soak [-- --minutes N (1-120)] [--papers-per-listing N] [--interval-ms N]\n',
  );
  process.exit(2);
}

/** A small seeded generator (mulberry32), so a run can be repeated. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(Number(values.seed));

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const faults = await openFaultStack({ fetchTimeoutMs: 1000, fetchMaxAttempts: 3 });
const injected = { upstream: 0, poison: 0, fetchRetries: 0, fetchRunsFailed: 0 };
const upstreamFaults: UpstreamAnswer[] = [
  { status: 503 },
  { status: 429, retryAfter: '1' },
  { hang: true },
  { junk: HTML_ERROR_PAGE },
];
faults.upstream.intercept = () => {
  if (random() >= faultRate) return undefined;
  injected.upstream++;
  return upstreamFaults[Math.floor(random() * upstreamFaults.length)];
};
faults.dynamo.rules.push(throttleAtRate(faultRate, () => true, random));

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 500);

/** Per (paper, day): the newest capture that fetch-listing took in, and whether it was poison. */
const expected = new Map<string, ExpectedPaper & { poison: boolean }>();
const listings = new Map<string, HfItem[]>();
let fetchRuns = 0;
let refetches = 0;

function newDayListing(day: string, tick: number): HfItem[] {
  const items = generateListing(day, papersPerListing, { upvotes: (index) => (index * 7 + tick) % 90 });
  return items.map((item, index) => {
    if (random() >= faultRate) return item;
    injected.poison++;
    return poisonItem(day, `${item.paper.id.slice(0, 5)}9${String(index).padStart(4, '0')}`);
  });
}

/** One scheduled run: fetch-listing, retried twice if it throws (Lambda's async retries). */
async function scheduledRun(day: string, items: HfItem[]): Promise<void> {
  faults.upstream.script(day, [{ listing: items }]);
  fetchRuns++;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await faults.fetchDay(day);
      for (const item of items) {
        const poison = typeof item.paper.title !== 'string';
        expected.set(`${item.paper.id}|${day}`, {
          id: item.paper.id,
          listedOn: day,
          upvotes: poison ? undefined : (item.paper.upvotes as number),
          poison,
        });
      }
      return;
    } catch {
      if (attempt < 2) injected.fetchRetries++;
    }
  }
  injected.fetchRunsFailed++;
}

let stopping = false;
const drainer = (async () => {
  while (!stopping) {
    await faults.drain().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
})();

const started = Date.now();
const endAt = started + minutes * 60_000;
const firstDay = Date.parse('2026-11-30T00:00:00Z');
let tick = 0;
process.stderr.write(
  `soak: ${minutes} min, a listing of ${papersPerListing} every ${intervalMs} ms, ${faultRate * 100}% faults\n`,
);
while (Date.now() < endAt) {
  const tickStarted = Date.now();
  const known = [...listings.keys()];
  if (tick % 4 === 3 && known.length > 0) {
    // An earlier day fetched again: its papers gained upvotes since.
    const day = known[Math.floor(random() * known.length)] as string;
    const again = (listings.get(day) ?? []).map((item) => {
      const copy = structuredClone(item);
      if (typeof copy.paper.upvotes === 'number') copy.paper.upvotes += 1 + Math.floor(random() * 5);
      return copy;
    });
    listings.set(day, again);
    refetches++;
    await scheduledRun(day, again);
  } else {
    const day = new Date(firstDay - listings.size * 86_400_000).toISOString().slice(0, 10);
    const items = newDayListing(day, tick);
    listings.set(day, items);
    await scheduledRun(day, items);
  }
  tick++;
  if (tick % 15 === 0) {
    const elapsed = ((Date.now() - started) / 60_000).toFixed(1);
    process.stderr.write(`soak: ${elapsed} min, ${fetchRuns} runs, ${expected.size} papers in\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - tickStarted))));
}

// The last messages: stop injecting, let the consumers finish.
faults.upstream.intercept = undefined;
faults.dynamo.rules.length = 0;
stopping = true;
await drainer;
await faults.drain();

const inspection = await inspectPipeline(faults.stack, faults.client, { papers: [...expected.values()] });
clearInterval(sampler);
const byKind = (kind: FindingKind) => inspection.findings.filter((finding) => finding.kind === kind).length;
const stats = {
  minutes,
  fetchRuns,
  refetches,
  papersIn: expected.size,
  poisonIn: [...expected.values()].filter((paper) => paper.poison).length,
  stored: inspection.stored,
  inDeadLetterQueues: inspection.deadLettered,
  lost: byKind('lost'),
  duplicated: byKind('duplicate'),
  rolledBack: byKind('rolled-back'),
  halfDone: byKind('half-done') + byKind('stale-category'),
  deadLetteredWithoutReason: byKind('no-reason'),
  storedAndDeadLettered: byKind('stored-and-dead-lettered'),
  injected: { ...injected, dynamodb: faults.dynamo.injected },
  peakRssMiB: Math.round(peakRss / 1024 / 1024),
};
await faults.close();

process.stdout.write(
  [
    `soak ${minutes} min: ${fetchRuns} fetch-listing runs (${refetches} re-fetches of an earlier day)`,
    `  papers in ${stats.papersIn} (poison ${stats.poisonIn}), stored ${stats.stored}, in DLQs ${stats.inDeadLetterQueues}`,
    `  lost ${stats.lost}, duplicated ${stats.duplicated}, rolled back ${stats.rolledBack}, half done ${stats.halfDone}, ` +
      `dead-lettered without a reason ${stats.deadLetteredWithoutReason}, stored and dead-lettered ${stats.storedAndDeadLettered}`,
    `  faults injected: upstream ${injected.upstream}, poison papers ${injected.poison}, DynamoDB ${JSON.stringify(faults.dynamo.injected)}; ` +
      `fetch retries ${injected.fetchRetries}, runs failed after every retry ${injected.fetchRunsFailed}`,
    `  peak RSS ${stats.peakRssMiB} MiB`,
    ...inspection.findings.slice(0, 5).map((finding) => `  e.g. ${finding.kind}: ${finding.message}`),
    '',
  ].join('\n'),
);
process.exit(stats.lost + stats.duplicated + stats.rolledBack > 0 ? 1 : 0);
