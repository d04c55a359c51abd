import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchDeadLetteredError, invokedAsynchronously } from '../../local/handlers';
import { localLambdaContext } from '../../local/http-adapter';
import { runIngest } from '../../local/ingest';
import { archiveBucket } from '../../shared/resources';
import {
  archiveKeys,
  checkInvariants,
  deadLetters,
  expectListing,
  expectNoViolations,
  type FaultStack,
  generateListing,
  HTML_ERROR_PAGE,
  openFaultStack,
  queueDepth,
  S3_UNAVAILABLE,
  sha256,
} from './harness';

/**
 * Faults between fetch-listing and the outside: the upstream over real HTTP on
 * 127.0.0.1, and S3. Each scenario uses its own day and ends with the invariant.
 */

let faults: FaultStack;

beforeAll(async () => {
  faults = await openFaultStack();
});

afterAll(async () => {
  await faults?.close();
});

/** Runs the invariant for `day`'s listing(s) and every body the upstream served for it. */
async function invariant(day: string, items: Parameters<typeof expectListing>[1]) {
  return checkInvariants(faults.stack, faults.client, {
    papers: expectListing(day, items),
    rawBodies: faults.upstream.served(day).values(),
  });
}

describe('upstream faults', () => {
  it('upstream 500s then success: the run retries and stores every paper', async () => {
    const day = '2026-03-02';
    const listing = generateListing(day, 12);
    faults.upstream.script(day, [{ status: 500 }, { status: 502 }, { listing }]);

    const report = await faults.fetchDay(day);
    await faults.drain();

    expect(report.papers).toBe(12);
    expectNoViolations(await invariant(day, listing));
  });

  it('429 with Retry-After: the retry waits as long as the upstream asked', async () => {
    const day = '2026-03-03';
    const listing = generateListing(day, 8);
    faults.upstream.script(day, [{ status: 429, retryAfter: '1' }, { listing }]);

    await faults.fetchDay(day);
    await faults.drain();

    const [first, second] = faults.upstream.requests.filter((request) => request.day === day);
    expect(second, 'the 429 was retried').toBeDefined();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expectNoViolations(await invariant(day, listing));
  });

  it('a connection that hangs past the timeout is abandoned and retried', async () => {
    const day = '2026-03-04';
    const listing = generateListing(day, 8);
    faults.upstream.script(day, [{ hang: true }, { listing }]);

    const started = Date.now();
    const report = await faults.fetchDay(day);
    await faults.drain();

    expect(report.papers).toBe(8);
    expect(Date.now() - started).toBeLessThan(15_000);
    expectNoViolations(await invariant(day, listing));
  });

  it('a truncated body (the connection closes mid-body) is retried, not parsed', async () => {
    const day = '2026-03-05';
    const listing = generateListing(day, 20);
    faults.upstream.script(day, [{ truncated: listing }, { listing }]);

    const report = await faults.fetchDay(day);
    await faults.drain();

    expect(report.papers).toBe(20);
    expectNoViolations(await invariant(day, listing));
  });

  it('an empty listing records the day as fetched with 0 papers and archives the bytes', async () => {
    const day = '2026-03-07';
    faults.upstream.script(day, [{ listing: [] }]);

    const report = await faults.fetchDay(day);
    await faults.drain();

    expect(report.papers).toBe(0);
    const days = await faults.store.ingestedDays({ limit: 100 });
    expect(days.items.find((one) => one.day === day)).toMatchObject({ listed: 0, papers: 0 });
    expectNoViolations(await invariant(day, []));
  });

  it('S3 unavailable while archiving: nothing is sent to the queue, the run fails loudly, a retry completes', async () => {
    const day = '2026-03-09';
    const listing = generateListing(day, 10);
    faults.upstream.script(day, [{ listing }]);
    const depthBefore = await queueDepth(faults.stack.sqs, faults.stack.queueUrls.parse);
    const s3Down = () => S3_UNAVAILABLE;
    faults.s3.rules.push(s3Down);

    const failed = await faults.fetchDay(day).then(
      () => undefined,
      (error: unknown) => error,
    );
    const depthDuringOutage = await queueDepth(faults.stack.sqs, faults.stack.queueUrls.parse);
    faults.s3.rules.splice(faults.s3.rules.indexOf(s3Down), 1);

    expect(failed, 'the run failed').toBeInstanceOf(Error);
    expect(depthDuringOutage, 'nothing was sent before the listing was archived').toBe(depthBefore);
    expect(
      await faults.store.ingestedDays({ limit: 100 }).then((page) => page.items.map((one) => one.day)),
    ).not.toContain(day);

    const retried = await faults.fetchDay(day);
    await faults.drain();
    expect(retried.papers).toBe(10);
    expectNoViolations(await invariant(day, listing));
  });

  it('#1 one oversized paper does not lose the listing: the others are stored and it is stored or dead-lettered with its reason', async () => {
    const day = '2026-03-10';
    const listing = generateListing(day, 12);
    // A collaboration paper: 3,500 authors put its item far over SQS's 256 KiB message limit.
    const big = listing[5] as (typeof listing)[number];
    big.paper.authors = Array.from({ length: 3500 }, (_, index) => ({
      _id: `a${String(index).padStart(23, '0')}`,
      name: `Collaboration Member Number ${index} of the Very Large Detector Experiment`,
      hidden: false,
    }));
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(256 * 1024);
    faults.upstream.script(day, [{ listing }]);

    const report = await faults.fetchDay(day).catch((error: Error) => error);
    await faults.drain();

    expect(report, 'fetch-listing did not fail the whole listing').not.toBeInstanceOf(Error);
    expectNoViolations(await invariant(day, listing));
  });

  it('#3 a 200 that is an HTML error page or an empty body is quarantined and fails the run; the retry stores the day', async () => {
    const day = '2026-03-11';
    const listing = generateListing(day, 9);
    faults.upstream.script(day, [{ junk: HTML_ERROR_PAGE }, { junk: '' }, { listing }]);

    const first = await faults.fetchDay(day).then(
      () => undefined,
      (error: unknown) => error,
    );
    const second = await faults.fetchDay(day).then(
      () => undefined,
      (error: unknown) => error,
    );
    const third = await faults.fetchDay(day);
    await faults.drain();

    expect(first, 'the HTML page failed the run (so it is retried)').toBeInstanceOf(Error);
    expect(second, 'the empty body failed the run (so it is retried)').toBeInstanceOf(Error);
    expect(third.papers).toBe(9);
    const keys = await archiveKeys(faults.stack);
    for (const junk of [HTML_ERROR_PAGE, '']) {
      expect(
        keys.some((key) => key.startsWith(archiveBucket.quarantinePrefix) && key.includes(sha256(junk))),
        `quarantine holds the ${junk ? 'HTML page' : 'empty body'}`,
      ).toBe(true);
    }
    expect(
      keys.some(
        (key) => key.startsWith(archiveBucket.listingsPrefix) && key.includes(sha256(HTML_ERROR_PAGE)),
      ),
    ).toBe(false);
    expectNoViolations(await invariant(day, listing));
  });

  it('#3 a listing still malformed after every retry is dead-lettered (fetch DLQ) with its reason', async () => {
    const day = '2026-03-12';
    faults.upstream.script(day, [{ junk: HTML_ERROR_PAGE }]);
    // As the schedule invokes it on AWS: asynchronously, retried, then sent to its on-failure destination.
    const scheduled = invokedAsynchronously(faults.handlers, {
      sqs: faults.stack.sqs,
      deadLetterQueueUrl: faults.stack.queueUrls.fetchDeadLetter,
      retryDelayMs: 0,
    });

    const outcome = await runIngest(faults.stack, scheduled, { date: day }, { retryDelaySeconds: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(outcome, 'the run fails, dead-lettered').toBeInstanceOf(FetchDeadLetteredError);

    const fetchLetters = (await deadLetters(faults.stack)).filter(
      (letter) => letter.queue === 'fetch' && letter.day === day,
    );
    expect(fetchLetters, 'the failed run sits in the fetch DLQ').toHaveLength(1);
    expect(fetchLetters[0]?.reason.errorName).toBeTruthy();
    expectNoViolations(await invariant(day, []));
  });

  it('#14 a run against an upstream that never answers ends, with its reason, before the function’s time is up', async () => {
    const day = '2026-03-14';
    faults.upstream.script(day, [{ hang: true }]);
    const remainingMs = 3000;
    const context = localLambdaContext('fetch-listing', remainingMs);
    const invoke = faults.handlers.fetchListing as (event: unknown, context: unknown) => Promise<unknown>;

    const started = Date.now();
    const outcome = await invoke({ scheduledTime: `${day}T00:00:00Z`, date: day }, context).then(
      (report) => report,
      (error: unknown) => error,
    );
    const elapsed = Date.now() - started;

    expect(outcome, 'the run failed').toBeInstanceOf(Error);
    expect(elapsed, 'it stopped before Lambda would have cut it off').toBeLessThan(remainingMs);
  });

  it('#14 an unbounded response body is refused, not read whole', async () => {
    const day = '2026-03-13';
    faults.upstream.script(day, [{ stream: 48 * 1024 * 1024 }]);
    const depthBefore = await queueDepth(faults.stack.sqs, faults.stack.queueUrls.parse);

    const outcome = await faults.fetchDay(day).then(
      (report) => report,
      (error: unknown) => error,
    );

    expect(outcome, 'a 48 MB body fails the run').toBeInstanceOf(Error);
    expect(`${(outcome as Error).name}: ${(outcome as Error).message}`).toMatch(
      /too ?large|larger than|exceeds/i,
    );
    const [year, month, date] = day.split('-');
    expect(
      (await archiveKeys(faults.stack)).filter((key) => key.startsWith(`listings/${year}/${month}/${date}/`)),
      'nothing of it is archived as a listing',
    ).toEqual([]);
    expect(await queueDepth(faults.stack.sqs, faults.stack.queueUrls.parse)).toBe(depthBefore);
  });
});
