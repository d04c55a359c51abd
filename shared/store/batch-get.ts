import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreThrottledError } from './paper-store';

/** DynamoDB's most keys in one BatchGetItem. */
const BATCH_GET_LIMIT = 100;
/** Requests per chunk before keys DynamoDB keeps leaving unprocessed fail the read (it is retried by its caller). */
const ATTEMPTS = 6;

/** How the store names an item by its key in its maps (`pk\0sk`), {@link batchGet}'s answer included. */
export function keyId(key: { pk?: unknown; sk?: unknown }): string {
  return `${String(key.pk)}\u0000${String(key.sk)}`;
}

/**
 * The items of `keys` (each once, however often named) by {@link keyId}, read consistently in
 * BatchGetItem chunks of 100 sent together; the keys a chunk leaves unprocessed (throttling) are
 * asked again with backoff. An item that does not exist is absent from the answer.
 * @throws StoreThrottledError when keys are still unprocessed after every attempt.
 */
export async function batchGet(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { pk: string; sk: string }[],
  projection?: { expression: string; names?: Record<string, string> },
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const unique = [...new Map(keys.map((key) => [keyId(key), key])).values()];
  const chunks: { pk: string; sk: string }[][] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= ATTEMPTS) {
          throw new StoreThrottledError(`${pending.length} item(s) still unread after ${ATTEMPTS} attempts`);
        }
        if (attempt > 0) await sleep(25 * 2 ** attempt);
        const result = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ...(projection
                  ? {
                      ProjectionExpression: projection.expression,
                      ExpressionAttributeNames: projection.names,
                    }
                  : {}),
              },
            },
          }),
        );
        for (const item of result.Responses?.[tableName] ?? []) found.set(keyId(item), item);
        pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
    }),
  );
  return found;
}

/** Waits `ms` milliseconds: the store's backoff between attempts. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
