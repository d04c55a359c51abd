import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { loadConfig, QueryEnvSchema } from '../shared/config';
import { handleQuery, type QueryRequest } from '../shared/query/handle-query';
import { webAsset } from '../shared/query/web-page';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { serviceNames } from '../shared/telemetry';

/**
 * The query API behind a Lambda Function URL (payload v2). It only adapts: the
 * event becomes a {@link QueryRequest}, `handleQuery` answers it, the answer
 * becomes the Function URL result. Configuration is checked and the store made
 * once, at cold start.
 */

const config = loadConfig(QueryEnvSchema);
const logger = new Logger({ serviceName: serviceNames.query });
const store = new DynamoPaperStore(
  makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB),
  config.TABLE_NAME,
  undefined,
  logger,
);

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
  const request: QueryRequest = {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? '/',
    rawQueryString: event.rawQueryString ?? '',
  };
  try {
    // The web page and its files are text, not JSON: served as they are.
    const page = webAsset(request.method, request.path);
    if (page) return page;
    const response = await handleQuery(request, store);
    logger.info('query', {
      ...request,
      route: response.route,
      status: response.statusCode,
      latencyMs: Math.round(performance.now() - started),
    });
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: JSON.stringify(response.body),
    };
  } catch (error) {
    logger.error('query failed', {
      ...request,
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
