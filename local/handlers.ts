import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { fetchInvocation } from '../shared/resources';
import type { FunctionUrlHandler } from './http-adapter';
import type { LocalStack } from './stack';

/**
 * Loads the four Lambda handlers, unchanged, in this process, configured for
 * the local stack. Each handler reads its environment once at module load (as
 * on Lambda), so the environment is set before the first import, and one
 * process serves one stack.
 */
export async function loadHandlers(stack: LocalStack) {
  Object.assign(process.env, localEnvironment(stack.env));
  const [fetchListing, parsePaper, classifyPaper, query] = await Promise.all([
    import('../functions/fetch-listing'),
    import('../functions/parse-paper'),
    import('../functions/classify-paper'),
    import('../functions/query'),
  ]);
  return {
    fetchListing: fetchListing.handler,
    parsePaper: parsePaper.handler,
    classifyPaper: classifyPaper.handler,
    query: query.handler,
  };
}

export type LocalHandlers = Awaited<ReturnType<typeof loadHandlers>>;

/**
 * The query handler alone, configured by `env` (a stack's, or a variation of it in tests).
 * Like every handler it reads its environment at its first import only.
 */
export async function loadQueryHandler(env: Record<string, string>): Promise<FunctionUrlHandler> {
  Object.assign(process.env, localEnvironment(env));
  const { handler } = await import('../functions/query');
  return handler;
}

/** A stack's resource names and endpoints, plus quiet Powertools output for a terminal. */
export function localEnvironment(env: Record<string, string>): Record<string, string> {
  return {
    ...env,
    // EMF metrics are for CloudWatch; locally they would only clutter the terminal.
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Errors only by default (to stderr, so the CLI's stdout stays pure data): a poison message
    // would otherwise log a warning on every retry. PAPERS_LOG_LEVEL=WARN shows why records failed.
    POWERTOOLS_LOG_LEVEL: process.env.PAPERS_LOG_LEVEL ?? 'ERROR',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** fetch-listing failed on every attempt Lambda would make; its event is in the fetch dead-letter queue. */
export class FetchDeadLetteredError extends Error {
  override name = 'FetchDeadLetteredError';
}

export interface AsyncInvocationTarget {
  sqs: SQSClient;
  /** Where Lambda's on-failure destination record goes: the local fetch DLQ. */
  deadLetterQueueUrl: string;
  /** Wait before retry n (1-based) is n × this; Lambda waits about 1 then 2 minutes. Default 1 s. */
  retryDelayMs?: number;
}

/**
 * `handlers` with fetch-listing invoked as EventBridge Scheduler invokes it on AWS:
 * asynchronously. A run that throws is retried `fetchInvocation.retryAttempts` times
 * (after short waits here), then Lambda's on-failure destination record (the
 * `RetriesExhausted` record with the event as `requestPayload` and the error as
 * `responsePayload`) is sent to the fetch dead-letter queue.
 * @throws FetchDeadLetteredError (with the last error as its cause) when every attempt failed.
 */
export function invokedAsynchronously(handlers: LocalHandlers, target: AsyncInvocationTarget): LocalHandlers {
  const fetchListing: LocalHandlers['fetchListing'] = async (event) => {
    const attempts = fetchInvocation.retryAttempts + 1;
    const delayMs = target.retryDelayMs ?? Number(process.env.PAPERS_FETCH_RETRY_DELAY_MS ?? 1000);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, (attempt - 1) * delayMs));
      try {
        return await handlers.fetchListing(event);
      } catch (error) {
        lastError = error;
      }
    }
    const record = lambdaDestinationRecord(event, lastError, attempts);
    await target.sqs.send(
      new SendMessageCommand({ QueueUrl: target.deadLetterQueueUrl, MessageBody: JSON.stringify(record) }),
    );
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    throw new FetchDeadLetteredError(
      `fetch-listing failed ${attempts} times (the first run and ${attempts - 1} retries, as Lambda retries ` +
        `an asynchronous invocation): ${message}. Its event is in the fetch dead-letter queue ` +
        '(`npm run -s papers -- dlq list --queue fetch`; `dlq redrive --queue fetch` runs it again).',
      { cause: lastError },
    );
  };
  return { ...handlers, fetchListing };
}

/** The record Lambda sends to an asynchronous invocation's on-failure destination. */
export function lambdaDestinationRecord(event: unknown, error: unknown, invokeCount: number) {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${LOCAL_FETCH_FUNCTION}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: invokeCount,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: error instanceof Error ? error.name : 'Error',
      errorMessage: error instanceof Error ? error.message : String(error),
      trace: error instanceof Error ? (error.stack?.split('\n') ?? []) : [],
    },
  };
}

const LOCAL_FETCH_FUNCTION = 'fetch-listing';
