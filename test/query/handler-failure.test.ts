import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { openTestStack } from './support';

describe('the query handler when the table fails', () => {
  let stack: Awaited<ReturnType<typeof openTestStack>>;

  beforeAll(async () => {
    stack = await openTestStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers a logged 500 with a generic body that tells nothing of the cause', async () => {
    // Prepare: a table name the stack does not hold, so every Query fails.
    let logged = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      logged += String(chunk);
      return true;
    });
    const handler = await loadQueryHandler({ ...stack.env, TABLE_NAME: 'no-such-table' });

    // Act
    const result = await handler(
      functionUrlEvent({ method: 'GET', url: '/papers?date=2026-06-12' }),
      localLambdaContext('query'),
    ).finally(() => stderr.mockRestore());

    // Assess
    expect(result).toMatchObject({ statusCode: 500 });
    expect(typeof result === 'object' && JSON.parse(result.body ?? '')).toEqual({
      error: 'InternalError',
      message: 'internal error',
    });
    expect(logged).toContain('"message":"query failed"');
    expect(logged).toContain('"status":500');
    expect(logged).toContain('ResourceNotFoundException');
  });
});
