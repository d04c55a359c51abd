import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeSecretsManagerClient, readSecretString } from '../shared/aws/secrets-manager';
import { loadConfig } from '../shared/env/load-config';
import { QueryEnvSchema } from '../shared/env/query';
import { cursorSeal, withSealedCursors } from '../shared/query/cursor-seal';
import { answerHttpRequest, httpRequestOf } from '../shared/query/http-api';
import { webAsset } from '../shared/query/web-page';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import type { PaperReader } from '../shared/store/paper-store';
import { serviceNames } from '../shared/telemetry';

/**
 * The query API behind a Lambda Function URL (payload v2). It only adapts: the
 * event becomes an {@link HttpRequest}, `answerHttpRequest` answers it, the answer
 * becomes the Function URL result. Configuration is checked and the store made
 * once, at cold start; the cursor key is read once, at the first request.
 */

const config = loadConfig(QueryEnvSchema);
const logger = new Logger({ serviceName: serviceNames.query });
const store = new DynamoPaperStore(
  makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB),
  config.TABLE_NAME,
  undefined,
  logger,
);

let reader: Promise<PaperReader> | undefined;

/** The store with sealed cursors; a failed key read is retried by the next request. */
function sealedReader(): Promise<PaperReader> {
  reader ??= (async () => {
    const key =
      config.QUERY_CURSOR_KEY ??
      (await readSecretString(
        makeSecretsManagerClient(config.AWS_ENDPOINT_URL_SECRETS_MANAGER),
        config.QUERY_CURSOR_KEY_SECRET_ARN ?? '',
      ));
    return withSealedCursors(store, cursorSeal(key));
  })().catch((error: unknown) => {
    reader = undefined;
    throw error;
  });
  return reader;
}

const INTERNAL_ERROR_BODY = JSON.stringify({ error: 'InternalError', message: 'internal error' });

/**
 * Answers one Function URL request. Never throws: an unexpected error (the
 * table unreachable) is logged and answered with a 500 whose body says nothing
 * of the cause. An item that fails its schema is skipped and logged as a warning.
 */
export const handler = async (
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> => {
  const started = performance.now();
  if (context) logger.addContext(context);
  const request = httpRequestOf(event);
  const logged = { method: request.method, path: request.path, rawQueryString: request.rawQueryString };
  try {
    // The web page and its files are text, not JSON: served as they are, whatever the method.
    const page = webAsset(request, config.QUERY_CORS_ALLOWED_ORIGINS);
    if (page) return page;
    const response = await answerHttpRequest(request, await sealedReader(), {
      allowedOrigins: config.QUERY_CORS_ALLOWED_ORIGINS,
    });
    logger.info('query', {
      ...logged,
      route: response.route,
      status: response.statusCode,
      latencyMs: Math.round(performance.now() - started),
    });
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  } catch (error) {
    logger.error('query failed', {
      ...logged,
      status: 500,
      latencyMs: Math.round(performance.now() - started),
      error: error instanceof Error ? error : String(error),
    });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: INTERNAL_ERROR_BODY,
    };
  }
};
