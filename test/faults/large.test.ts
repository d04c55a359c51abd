import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkInvariants,
  expectListing,
  expectNoViolations,
  type FaultStack,
  generateListing,
  openFaultStack,
} from './harness';

/**
 * Volume: a day of 1,000 papers in the real API's shape, through every stage. One
 * page (`limit=1000`): fetch-listing follows a bounded number of pages per run.
 */

let faults: FaultStack;

beforeAll(async () => {
  faults = await openFaultStack({ pageLimit: 1000 });
});

afterAll(async () => {
  await faults?.close();
});

describe('volume', () => {
  it('a listing of 1,000 papers is stored and classified, every paper once', async () => {
    const day = '2026-02-16';
    const listing = generateListing(day, 1000);
    faults.upstream.script(day, [{ listing }]);

    const report = await faults.fetchDay(day);
    await faults.drain();

    expect(report.papers).toBe(1000);
    expectNoViolations(
      await checkInvariants(faults.stack, faults.client, {
        papers: expectListing(day, listing),
        rawBodies: faults.upstream.served(day).values(),
      }),
    );
    // Ten times the other scenarios' work; on a loaded 2-core machine the drain alone can take a minute.
  }, 180_000);
});
