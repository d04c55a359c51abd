import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

/**
 * A Lambda Function URL, locally: turns node:http requests into payload-v2
 * events, invokes the handler unchanged, and writes its result back the way a
 * Function URL does (a structured result as given; anything else as a 200 JSON body).
 */

export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** A Function URL's payload limit. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface FunctionUrlRequest {
  method: string;
  /** Path and query string as sent, e.g. `/papers?date=2026-06-12`. */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  sourceIp?: string;
}

/**
 * The payload-v2 event a Function URL would send for `request`: `rawPath` and
 * `rawQueryString` as sent, `queryStringParameters` decoded (a repeated name's
 * values joined by commas), header names in lower case, cookies split out, a
 * non-empty body base64-encoded.
 */
export function functionUrlEvent(request: FunctionUrlRequest): APIGatewayProxyEventV2 {
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? '' : request.url.slice(queryStart + 1);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters[name] =
      queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  }
  const now = new Date();
  const host = headers.host ?? 'localhost';
  const body = request.body && request.body.length > 0 ? request.body.toString('base64') : undefined;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: rawPath || '/',
    rawQueryString,
    ...(cookieHeader ? { cookies: cookieHeader.split(/;\s*/).filter(Boolean) } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method.toUpperCase(),
        path: rawPath || '/',
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? { isBase64Encoded: false } : { body, isBase64Encoded: true }),
  };
}

/** A Lambda context good enough for handlers that log it. */
export function localLambdaContext(functionName: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The HTTP response a Function URL makes of a handler's result. */
export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

export function functionUrlResponse(result: APIGatewayProxyResultV2): FunctionUrlResponse {
  const json = { 'content-type': 'application/json' };
  if (typeof result === 'string') {
    return { statusCode: 200, headers: json, cookies: [], body: Buffer.from(result) };
  }
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    return { statusCode: 200, headers: json, cookies: [], body: Buffer.from(JSON.stringify(result)) };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  const text = result.body ?? '';
  return {
    statusCode: result.statusCode ?? 200,
    headers,
    cookies: result.cookies ?? [],
    body: Buffer.from(text, result.isBase64Encoded ? 'base64' : 'utf8'),
  };
}

/**
 * An HTTP server that hands every request to `handler` as a Function URL would.
 * A handler that throws gets a 502, as from a Function URL whose function failed.
 */
export function createFunctionUrlServer(handler: FunctionUrlHandler, functionName = 'function'): Server {
  return createServer((request, response) => {
    serve(handler, functionName, request, response).catch((error: unknown) => {
      process.stderr.write(`local function URL: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'application/json' });
      }
      response.end(JSON.stringify({ Message: 'Internal Server Error' }));
    });
  });
}

async function serve(
  handler: FunctionUrlHandler,
  functionName: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await readBody(request);
  if (body === undefined) {
    response.writeHead(413, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ Message: 'Request Entity Too Large' }));
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // A Function URL says which scheme the client used; this server speaks plain HTTP.
  headers['x-forwarded-proto'] ??= 'http';
  const event = functionUrlEvent({
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    headers,
    body,
    sourceIp: request.socket.remoteAddress,
  });
  const result = functionUrlResponse(await handler(event, localLambdaContext(functionName)));
  const outgoing: Record<string, string | string[]> = { ...result.headers };
  if (result.cookies.length) outgoing['set-cookie'] = result.cookies;
  // A HEAD answer has no body but tells the length the GET's would have.
  if (!(request.method === 'HEAD' && outgoing['content-length'] !== undefined)) {
    outgoing['content-length'] = String(result.body.length);
  }
  response.writeHead(result.statusCode, outgoing);
  response.end(result.body);
}

/** The request body, or undefined when it exceeds a Function URL's limit. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
