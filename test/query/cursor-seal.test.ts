import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { makeSecretsManagerClient, readSecretString } from '../../shared/aws/secrets-manager';
import { cursorSeal } from '../../shared/query/cursor-seal';
import { InvalidCursorError } from '../../shared/store/paper-store';

const KEY = 'k'.repeat(32);
const INNER = Buffer.from(JSON.stringify({ q: 'days', k: { pk: 'DAYS', sk: '2026-06-12' } })).toString(
  'base64url',
);

describe('cursorSeal', () => {
  it('opens what it sealed, and seals the same cursor the same way (stable ETags)', () => {
    const seal = cursorSeal(KEY);

    expect(seal.open(seal.seal(INNER))).toBe(INNER);
    expect(seal.seal(INNER)).toBe(seal.seal(INNER));
    expect(seal.open(seal.seal('not base64url!'))).toBe('not base64url!');
  });

  it('hides the store cursor', () => {
    const sealed = cursorSeal(KEY).seal(INNER);

    expect(sealed).not.toContain(INNER.slice(0, 12));
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('DAYS');
  });

  it('refuses every cursor with one bit changed, and one sealed under another key', () => {
    const seal = cursorSeal(KEY);
    const bytes = Buffer.from(seal.seal(INNER), 'base64url');
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const altered = Buffer.from(bytes);
      altered[bit >> 3] = (altered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(() => seal.open(altered.toString('base64url')), `bit ${bit}`).toThrow(InvalidCursorError);
    }
    expect(() => seal.open(cursorSeal('o'.repeat(32)).seal(INNER))).toThrow(InvalidCursorError);
    expect(() => seal.open('')).toThrow(InvalidCursorError);
    expect(() => seal.open(INNER)).toThrow(InvalidCursorError);
  });

  it('refuses a key shorter than 32 characters', () => {
    expect(() => cursorSeal('short')).toThrow(/at least 32/);
  });
});

describe('readSecretString', () => {
  it("reads the key with Secrets Manager's GetSecretValue, as the query function does on AWS", async () => {
    // A local server speaking Secrets Manager's JSON protocol (awsJson1.1).
    const requests: { target?: string; body: unknown }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        requests.push({ target: request.headers['x-amz-target'] as string, body: JSON.parse(body) });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(
          JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:k', SecretString: KEY }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = makeSecretsManagerClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const key = await readSecretString(client, 'arn:aws:secretsmanager:us-east-1:1:secret:k');

      expect(key).toBe(KEY);
      expect(requests).toEqual([
        {
          target: 'secretsmanager.GetSecretValue',
          body: { SecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:k' },
        },
      ]);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
