import { afterEach, describe, expect, it } from 'vitest';
import { makeFunctionUrlClient } from '../../shared/aws/function-url-client';
import { startVerifyingFunctionUrl, type VerifyingFunctionUrl } from '../support/sigv4-function-url';

// Fixed credentials and a fixed clock: the same signature on every run.
const ACCESS_KEY_ID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SIGNED_AT = new Date('2026-07-14T09:30:00Z');
const clock = () => SIGNED_AT;

let functionUrl: VerifyingFunctionUrl | undefined;

afterEach(async () => {
  await functionUrl?.close();
  functionUrl = undefined;
});

async function start() {
  functionUrl = await startVerifyingFunctionUrl({
    keys: { [ACCESS_KEY_ID]: SECRET },
    region: 'eu-west-1',
    now: clock,
    answer: (path) => ({ statusCode: 200, body: { path } }),
  });
  return functionUrl;
}

describe('makeFunctionUrlClient', () => {
  it('signs a GET the way the Function URL verifies it, query string and session token included', async () => {
    // Prepare
    const server = await start();
    const client = makeFunctionUrlClient(server.url, {
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken: 'session-token' },
      region: 'eu-west-1',
      now: clock,
    });

    // Act
    const response = await client.get(
      '/papers?category=cs.CV&from=2026-07-01&to=2026-07-14&q=vision%20transformer',
    );

    // Assess
    expect(server.requests).toEqual([
      {
        path: '/papers?category=cs.CV&from=2026-07-01&to=2026-07-14&q=vision%20transformer',
        verified: true,
        reason: undefined,
      },
    ]);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      path: '/papers?category=cs.CV&from=2026-07-01&to=2026-07-14&q=vision%20transformer',
    });
  });

  it('is refused with a 403 when signed with the wrong secret key', async () => {
    const server = await start();
    const client = makeFunctionUrlClient(server.url, {
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: `${SECRET}-wrong` },
      region: 'eu-west-1',
      now: clock,
    });

    const response = await client.get('/days');

    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body)).toEqual({
      Message: 'The request signature we calculated does not match the signature you provided.',
    });
    expect(server.requests[0]?.verified).toBe(false);
  });

  it('is refused when signed for another region, or by a clock the service thinks 10 minutes off', async () => {
    const server = await start();
    const otherRegion = makeFunctionUrlClient(server.url, {
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      region: 'us-east-1',
      now: clock,
    });
    const lateClock = makeFunctionUrlClient(server.url, {
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      region: 'eu-west-1',
      now: () => new Date(SIGNED_AT.getTime() + 10 * 60 * 1000),
    });

    const [region, late] = await Promise.all([otherRegion.get('/days'), lateClock.get('/days')]);

    expect(region.statusCode).toBe(403);
    expect(late.statusCode).toBe(403);
    expect(server.requests.map((request) => request.reason).sort()).toEqual([
      'Credential should be scoped to a valid region/service.',
      'Signature expired',
    ]);
  });

  it('resolves credentials from a provider (the SDK default chain) at each request', async () => {
    const server = await start();
    let calls = 0;
    const client = makeFunctionUrlClient(server.url, {
      credentials: async () => {
        calls++;
        return { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET };
      },
      region: 'eu-west-1',
      now: clock,
    });

    const response = await client.get('/papers/2607.07673');

    expect(response.statusCode).toBe(200);
    expect(calls).toBeGreaterThan(0);
  });
});
