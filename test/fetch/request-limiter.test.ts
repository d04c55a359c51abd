import { afterEach, describe, expect, it } from 'vitest';
import { fetchListing } from '../../shared/fetch/http';
import { createRequestLimiter } from '../../shared/fetch/request-limiter';
import { type FixtureServer, startFixtureServer } from '../support/fixture-server';

/** A clock that only moves when the limiter sleeps, so the start times are exact. */
function fakeClock() {
  let time = 1_000_000;
  return {
    now: () => time,
    sleep: async (ms: number) => {
      time += ms;
    },
    advance(ms: number) {
      time += ms;
    },
  };
}

describe('createRequestLimiter', () => {
  it('spaces requests evenly: 3 per second start 333 ms apart, whoever asks', async () => {
    // Prepare
    const clock = fakeClock();
    const limiter = createRequestLimiter({ requests: 3, perMs: 1_000, ...clock });
    const starts: number[] = [];

    // Act
    for (let i = 0; i < 4; i++) {
      await limiter.acquire();
      starts.push(clock.now());
    }

    // Assess
    const gaps = starts.slice(1).map((start, i) => start - (starts[i] as number));
    for (const gap of gaps) expect(gap).toBeCloseTo(1000 / 3, 6);
  });

  it('does not wait when requests come slower than the limit', async () => {
    const clock = fakeClock();
    const limiter = createRequestLimiter({ requests: 1, perMs: 100, ...clock });
    await limiter.acquire();
    clock.advance(500);
    const before = clock.now();

    await limiter.acquire();

    expect(clock.now()).toBe(before);
  });

  it('holds every request for a Retry-After, not only the one that got it', async () => {
    const clock = fakeClock();
    const limiter = createRequestLimiter({ requests: 100, perMs: 1_000, ...clock });
    await limiter.acquire();
    const heldFrom = clock.now();

    limiter.holdFor(5_000);
    await limiter.acquire();

    expect(clock.now() - heldFrom).toBeGreaterThanOrEqual(5_000);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createRequestLimiter({ requests: 0, perMs: 1_000 })).toThrow(RangeError);
  });
});

describe('fetchListing with a limiter', () => {
  let server: FixtureServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("takes a slot for every attempt and passes a 429's Retry-After on to the limiter", async () => {
    // Prepare
    let call = 0;
    server = await startFixtureServer(() =>
      call++ === 0 ? { status: 429, body: 'slow down', headers: { 'retry-after': '3' } } : { body: '[]' },
    );
    const acquired: number[] = [];
    const holds: number[] = [];
    const limiter = {
      acquire: async () => {
        acquired.push(acquired.length + 1);
      },
      holdFor: (ms: number) => {
        holds.push(ms);
      },
    };

    // Act
    const fetched = await fetchListing(server.origin, {
      userAgent: 'daily-papers-pipeline/test',
      timeoutMs: 2_000,
      maxAttempts: 3,
      sleep: async () => {},
      limiter,
    });

    // Assess
    expect(fetched.attempts).toBe(2);
    expect(acquired).toEqual([1, 2]);
    expect(holds).toEqual([3_000]);
  });
});
