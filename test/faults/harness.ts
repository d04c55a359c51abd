import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { type LocalHandlers, loadHandlers } from '../../local/handlers';
import { drainPipeline } from '../../local/ingest';
import { queueDepth } from '../../local/queue-depth';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { canonicalCategory } from '../../shared/classify/taxonomy';
import { type DeadLetterReason, deadLetterReason } from '../../shared/dead-letter';
import { archiveBucket, localResourceNames } from '../../shared/resources';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';

/**
 * The fault-injection harness: the real handlers on a local stack in a temp
 * data folder, with faults injected where they happen in production —
 *
 * - {@link Upstream}: the listing's HTTP server on 127.0.0.1, scripted per day
 *   (status sequences, `Retry-After`, a connection that never answers, a body cut
 *   short, an HTML error page or an empty body as a 200);
 * - {@link AwsProxy} in front of dynalite: answers chosen requests with
 *   `ProvisionedThroughputExceededException`, or moves part of a BatchWriteItem
 *   into `UnprocessedItems`, as a throttled table does;
 * - {@link AwsProxy} in front of fauxqs's S3: answers 503 while S3 is "down".
 *
 * The handlers read their endpoints at import, so the stack's environment is
 * pointed at the proxies before {@link loadHandlers}. The checks read the
 * stand-ins directly, never through a proxy.
 */

/** The day's listing URL the handlers fetch (`{date}` replaced). */
export const LISTING_PATH = '/api/daily_papers';
export const PAGE_LIMIT = 100;

// ---------------------------------------------------------------------------
// Listings generated from the real fixture's shape

const FIXTURE = new URL('../fixtures/listings/hf-daily-papers-2026-06-12.json', import.meta.url);

/** One HF daily-papers API item, as the real API gives it (`test/fixtures/listings/`). */
export type HfItem = { paper: Record<string, unknown> & { id: string }; [key: string]: unknown };

let fixtureItems: HfItem[] | undefined;
function fixture(): HfItem[] {
  fixtureItems ??= JSON.parse(readFileSync(FIXTURE, 'utf8')) as HfItem[];
  return fixtureItems;
}

/**
 * `count` (at most 1,000) items for `day` with the real fixture's shape and text
 * (cycled), each with its own arXiv-style id and `upvotes`.
 */
export function generateListing(
  day: string,
  count: number,
  options: { series?: string; upvotes?: (index: number) => number } = {},
): HfItem[] {
  const series = options.series ?? `${day.slice(2, 4)}${day.slice(5, 7)}`;
  const base = fixture();
  return Array.from({ length: count }, (_, index) => {
    const template = structuredClone(base[index % base.length] as HfItem);
    // Unique per day: `<yymm>.<dd><index>`, so scenarios on different days never share a paper.
    const id = `${series}.${day.slice(8, 10)}${String(index).padStart(3, '0')}`;
    template.paper.id = id;
    template.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
    template.paper.upvotes = options.upvotes ? options.upvotes(index) : index % 50;
    if (index >= base.length) template.paper.title = `${String(template.paper.title)} (${index})`;
    template.title = template.paper.title;
    return template;
  });
}

/** An item that fails the paper model for good (a title that is a number): a poison paper. */
export function poisonItem(day: string, id: string): HfItem {
  const [item] = generateListing(day, 1);
  const poison = structuredClone(item as HfItem);
  poison.paper.id = id;
  poison.paper.title = 12345;
  poison.title = 12345;
  return poison;
}

export const sha256 = (bytes: Uint8Array | string): string =>
  createHash('sha256').update(bytes).digest('hex');

// ---------------------------------------------------------------------------
// The upstream

/** What the upstream answers to one request for a day's listing. */
export type UpstreamAnswer =
  /** The items as the HF API answers them, paged by `limit`/`p`. */
  | { listing: HfItem[]; delayMs?: number }
  | { status: number; body?: string; retryAfter?: string }
  /** Accepts the connection and never answers. */
  | { hang: true }
  /** Promises the whole listing (Content-Length), sends half, closes the connection. */
  | { truncated: HfItem[] }
  /** A 200 that is not a listing: an HTML error page, an empty body, any bytes. */
  | { junk: string | Buffer; contentType?: string }
  /** Bytes streamed as a 200 until `bytes` are sent (or the client gives up). */
  | { stream: number };

export const HTML_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>' +
  '<p>The CDN could not reach the origin. Please try again later.</p></body></html>';

export interface UpstreamRequest {
  day: string | null;
  page: number;
  at: number;
}

export interface Upstream {
  origin: string;
  /** `${origin}/api/daily_papers?date={date}&limit=100`: the handlers' `LISTING_URL_TEMPLATE`. */
  urlTemplate: string;
  /**
   * The answers to the next requests for `day`'s first page, in order; the last one repeats.
   * Pages after the first are cut from the latest listing answer.
   */
  script(day: string, answers: UpstreamAnswer[]): void;
  /** Every listing request, in order. */
  requests: UpstreamRequest[];
  /** sha256 → bytes of every complete 2xx body served for `day`. */
  served(day: string): Map<string, Buffer>;
  /** Applied to every answer before the script: returns a replacement (soak faults) or undefined. */
  intercept?: (day: string, page: number) => UpstreamAnswer | undefined;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const scripts = new Map<string, { answers: UpstreamAnswer[]; next: number; latest?: HfItem[] }>();
  const servedBodies = new Map<string, Map<string, Buffer>>();
  const requests: UpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  const record = (day: string, body: Buffer) => {
    const bodies = servedBodies.get(day) ?? new Map<string, Buffer>();
    bodies.set(sha256(body), body);
    servedBodies.set(day, bodies);
  };
  const upstream: Upstream = {
    origin: '',
    urlTemplate: '',
    requests,
    script(day, answers) {
      scripts.set(day, { answers, next: 0 });
    },
    served: (day) => servedBodies.get(day) ?? new Map(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const day = url.searchParams.get('date') ?? url.pathname.split('/').pop() ?? null;
    const page = Number(url.searchParams.get('p') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? PAGE_LIMIT) || PAGE_LIMIT;
    requests.push({ day, page, at: Date.now() });
    const script = day ? scripts.get(day) : undefined;
    if (!day || !script) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such day"}');
      return;
    }
    let answer: UpstreamAnswer | undefined = upstream.intercept?.(day, page);
    if (!answer) {
      if (page === 0) {
        answer = script.answers[Math.min(script.next, script.answers.length - 1)] as UpstreamAnswer;
        script.next++;
      } else {
        answer = { listing: script.latest ?? [] };
      }
    }
    if ('listing' in answer) {
      if (page === 0) script.latest = answer.listing;
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      const body = Buffer.from(JSON.stringify(answer.listing.slice(page * limit, (page + 1) * limit)));
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      record(day, body);
    } else if ('status' in answer) {
      response.writeHead(answer.status, {
        'content-type': 'text/plain',
        ...(answer.retryAfter !== undefined ? { 'retry-after': answer.retryAfter } : {}),
      });
      response.end(answer.body ?? `HTTP ${answer.status}`);
    } else if ('hang' in answer) {
      // Never answer: the client's timeout is what ends this request.
    } else if ('truncated' in answer) {
      const body = Buffer.from(JSON.stringify(answer.truncated.slice(0, limit)));
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      response.write(body.subarray(0, Math.floor(body.length / 2)));
      setTimeout(() => request.socket.destroy(), 20);
    } else if ('junk' in answer) {
      const body = Buffer.from(answer.junk);
      response.writeHead(200, { 'content-type': answer.contentType ?? 'text/html; charset=utf-8' }).end(body);
      record(day, body);
    } else {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < answer.stream && !response.destroyed) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      response.on('close', () => {
        sent = Number.POSITIVE_INFINITY;
      });
      pump();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.urlTemplate = `${upstream.origin}${LISTING_PATH}?date={date}&limit=${PAGE_LIMIT}`;
  return upstream;
}

// ---------------------------------------------------------------------------
// Proxies in front of the stand-ins

/** One request as the proxy sees it: the operation (`UpdateItem`, `PUT`, …) and its JSON body, if any. */
export interface ProxiedRequest {
  operation: string;
  method: string;
  path: string;
  body: Buffer;
  json?: Record<string, unknown>;
}

/** What a fault rule makes of a request: pass it on, answer it itself, or rewrite the request and response. */
export type FaultAction =
  | { pass: true }
  | { answer: { status: number; headers: Record<string, string>; body: string } }
  | { rewrite: { body: Buffer; response: (body: Buffer) => Buffer } };

export type FaultRule = (request: ProxiedRequest) => FaultAction | undefined;

export interface AwsProxy {
  endpoint: string;
  /** Rules tried in order; the first that returns an action decides. */
  rules: FaultRule[];
  /** Requests answered or rewritten by a rule, by operation. */
  injected: Record<string, number>;
  close(): Promise<void>;
}

/** An HTTP proxy on 127.0.0.1 in front of `target`, applying `rules` to each request. */
export async function startAwsProxy(target: string): Promise<AwsProxy> {
  const targetUrl = new URL(target);
  const proxy: AwsProxy = { endpoint: '', rules: [], injected: {}, close: async () => {} };
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const request = describe(incoming, body);
      let action: FaultAction | undefined;
      for (const rule of proxy.rules) {
        action = rule(request);
        if (action) break;
      }
      if (action && !('pass' in action)) {
        proxy.injected[request.operation] = (proxy.injected[request.operation] ?? 0) + 1;
      }
      if (action && 'answer' in action) {
        outgoing.writeHead(action.answer.status, action.answer.headers).end(action.answer.body);
        return;
      }
      const rewrite = action && 'rewrite' in action ? action.rewrite : undefined;
      const sentBody = rewrite ? rewrite.body : body;
      const headers = { ...incoming.headers, host: targetUrl.host };
      if (rewrite) headers['content-length'] = String(sentBody.length);
      const forward = httpRequest(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: incoming.method,
          path: incoming.url,
          headers,
        },
        (response) => {
          if (!rewrite) {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(outgoing);
            return;
          }
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => parts.push(chunk));
          response.on('end', () => {
            const rewritten = rewrite.response(Buffer.concat(parts));
            const { 'x-amz-crc32': _crc, 'content-length': _length, ...rest } = response.headers;
            outgoing
              .writeHead(response.statusCode ?? 502, { ...rest, 'content-length': String(rewritten.length) })
              .end(rewritten);
          });
        },
      );
      forward.on('error', () => outgoing.destroy());
      forward.end(sentBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

function describe(incoming: IncomingMessage, body: Buffer): ProxiedRequest {
  const target = incoming.headers['x-amz-target'];
  const operation =
    typeof target === 'string' ? target.replace(/^DynamoDB_\d+\./, '') : (incoming.method ?? 'UNKNOWN');
  let json: Record<string, unknown> | undefined;
  if (typeof target === 'string' && body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
  }
  return { operation, method: incoming.method ?? '', path: incoming.url ?? '/', body, json };
}

const DYNAMO_JSON = { 'content-type': 'application/x-amz-json-1.0' };

/** DynamoDB's answer to a throttled request (the SDK retries it, then throws it). */
export const THROTTLED: FaultAction = {
  answer: {
    status: 400,
    headers: DYNAMO_JSON,
    body: JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded.',
    }),
  },
};

/** S3's answer while it is unavailable. */
export const S3_UNAVAILABLE: FaultAction = {
  answer: {
    status: 503,
    headers: { 'content-type': 'application/xml' },
    body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>Service is unable to handle request.</Message></Error>',
  },
};

/** Throttles the next `count` requests that `matches` accepts. */
export function throttleNext(count: number, matches: (request: ProxiedRequest) => boolean): FaultRule {
  let left = count;
  return (request) => {
    if (left <= 0 || !matches(request)) return undefined;
    left--;
    return THROTTLED;
  };
}

/** Throttles each matching request with probability `rate` (`random` injectable for a seeded run). */
export function throttleAtRate(
  rate: number,
  matches: (request: ProxiedRequest) => boolean,
  random: () => number = Math.random,
): FaultRule {
  return (request) => (matches(request) && random() < rate ? THROTTLED : undefined);
}

/**
 * For the next `count` BatchWriteItem requests, writes only the first half of the
 * items and answers the rest as `UnprocessedItems`, as a throttled table does.
 */
export function unprocessedNext(count: number): FaultRule {
  let left = count;
  return (request) => {
    if (left <= 0 || request.operation !== 'BatchWriteItem' || !request.json) return undefined;
    const requestItems = request.json.RequestItems as Record<string, unknown[]>;
    const kept: Record<string, unknown[]> = {};
    const stripped: Record<string, unknown[]> = {};
    let total = 0;
    for (const [table, items] of Object.entries(requestItems)) {
      const half = Math.ceil(items.length / 2);
      kept[table] = items.slice(0, half);
      if (items.length > half) stripped[table] = items.slice(half);
      total += items.length - half;
    }
    if (total === 0) return undefined;
    left--;
    return {
      rewrite: {
        body: Buffer.from(JSON.stringify({ ...request.json, RequestItems: kept })),
        response: (body) => {
          const answer = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
          return Buffer.from(JSON.stringify({ ...answer, UnprocessedItems: stripped }));
        },
      },
    };
  };
}

/**
 * For the next `count` TransactWriteItems, answers as DynamoDB does when another transaction
 * holds one of its items: cancelled, every action's reason `TransactionConflict`, nothing written.
 */
export function transactionConflictNext(count: number): FaultRule {
  let left = count;
  return (request) => {
    if (left <= 0 || request.operation !== 'TransactWriteItems' || !request.json) return undefined;
    left--;
    const actions = (request.json.TransactItems as unknown[]).length;
    const reasons = Array.from({ length: actions }, () => ({
      Code: 'TransactionConflict',
      Message: 'Transaction is ongoing for the item',
    }));
    return {
      answer: {
        status: 400,
        headers: DYNAMO_JSON,
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          CancellationReasons: reasons,
        }),
      },
    };
  };
}

/** An UpdateItem on a `DAYS` item: the classify stage's per-batch day record. */
export const isDayRecordUpdate = (request: ProxiedRequest): boolean =>
  request.operation === 'UpdateItem' &&
  (request.json?.Key as { pk?: { S?: string } } | undefined)?.pk?.S === 'DAYS';

// ---------------------------------------------------------------------------
// The stack with its faults

export interface FaultStack {
  stack: LocalStack;
  handlers: LocalHandlers;
  upstream: Upstream;
  /** In front of dynalite, for the handlers. */
  dynamo: AwsProxy;
  /** In front of fauxqs's S3, for the handlers. */
  s3: AwsProxy;
  /** Reads the table directly (not through the proxy). */
  store: DynamoPaperStore;
  client: DynamoDBDocumentClient;
  /** fetch-listing, as the schedule invokes it, for `day`. */
  fetchDay(day: string): ReturnType<LocalHandlers['fetchListing']>;
  /** Drives the parse and classify queues through their handlers until both are empty. */
  drain(): ReturnType<typeof drainPipeline>;
  close(): Promise<void>;
}

export interface FaultStackOptions {
  /** Per-attempt HTTP timeout of fetch-listing (default 2000 ms: short, so a hang costs little, yet long enough for a loaded machine). */
  fetchTimeoutMs?: number;
  fetchMaxAttempts?: number;
  /** The `limit` of the listing URL: the page size the upstream answers with (default 100). */
  pageLimit?: number;
}

/**
 * A fresh local stack in a temp data folder, the upstream, the proxies, and the
 * real handlers loaded against them. Once per process (test file): the handlers
 * read their environment at import.
 */
export async function openFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-faults-'));
  const stack = await openLocalStack({ dataDir });
  const upstream = await startUpstream();
  const directDynamo = stack.env.AWS_ENDPOINT_URL_DYNAMODB as string;
  const dynamo = await startAwsProxy(directDynamo);
  const s3 = await startAwsProxy(stack.env.AWS_ENDPOINT_URL_S3 as string);
  Object.assign(process.env, {
    LISTING_URL_TEMPLATE: upstream.urlTemplate.replace(
      `limit=${PAGE_LIMIT}`,
      `limit=${options.pageLimit ?? PAGE_LIMIT}`,
    ),
    FETCH_PAGE_DELAY_MS: '0',
    FETCH_TIMEOUT_MS: String(options.fetchTimeoutMs ?? 2000),
    FETCH_MAX_ATTEMPTS: String(options.fetchMaxAttempts ?? 4),
    // Tests print scenario lines only: the handlers' expected errors stay silent.
    PAPERS_LOG_LEVEL: 'SILENT',
  });
  // The handlers (and runIngest's own reads) go through the proxies; the checks read directly.
  stack.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  stack.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  const handlers = await loadHandlers(stack);
  const client = makeDocumentClient(directDynamo);
  const store = new DynamoPaperStore(client, localResourceNames.table);
  return {
    stack,
    handlers,
    upstream,
    dynamo,
    s3,
    store,
    client,
    fetchDay: (day) => handlers.fetchListing({ scheduledTime: `${day}T00:00:00Z`, date: day }),
    drain: () => drainPipeline(stack, handlers, { retryDelaySeconds: 0 }),
    async close() {
      client.destroy();
      await upstream.close();
      await dynamo.close();
      await s3.close();
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Reading what landed

/** Every message a queue holds, read without consuming it (made visible again afterwards). */
export async function peekQueue(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
    for (const message of fresh) seen.set(message.MessageId ?? '', message);
    empty = fresh.length === 0 ? empty + 1 : 0;
  }
  const messages = [...seen.values()];
  for (let start = 0; start < messages.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(start, start + 10).map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return messages;
}

export { queueDepth };

/** The fetch dead-letter queue's URL, once the local stack creates it. */
export async function fetchDeadLetterQueueUrl(sqs: SQSClient): Promise<string | undefined> {
  try {
    const { QueueUrl } = await sqs.send(
      new GetQueueUrlCommand({ QueueName: localResourceNames.fetchDeadLetterQueue }),
    );
    return QueueUrl;
  } catch {
    return undefined;
  }
}

export interface DeadLetter {
  queue: 'parse' | 'classify' | 'fetch';
  reason: DeadLetterReason;
  /** The paper the message is about (parse, classify), or the day its failed run asked for (fetch). */
  paperId?: string;
  day?: string;
  body: unknown;
}

/** Everything in the three dead-letter queues, with the reason each records. */
export async function deadLetters(stack: LocalStack): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const [queue, url] of [
    ['parse', stack.queueUrls.parseDeadLetter],
    ['classify', stack.queueUrls.classifyDeadLetter],
    ['fetch', await fetchDeadLetterQueueUrl(stack.sqs)],
  ] as const) {
    if (!url) continue;
    for (const message of await peekQueue(stack.sqs, url)) {
      let body: unknown;
      try {
        body = JSON.parse(message.Body ?? '');
      } catch {
        body = message.Body;
      }
      letters.push({
        queue,
        reason: deadLetterReason(message),
        ...(await subjectOf(stack, queue, body)),
        body,
      });
    }
  }
  return letters;
}

type Json = Record<string, unknown> | undefined;

/** Which paper (or, for a failed fetch, which day) a dead letter is about. */
async function subjectOf(
  stack: LocalStack,
  queue: DeadLetter['queue'],
  body: unknown,
): Promise<{ paperId?: string; day?: string }> {
  const record = body as Json;
  if (queue === 'classify') {
    const paper = record?.paper as Json;
    const origin = record?.origin as Json;
    return { paperId: paper?.id as string | undefined, day: origin?.listedOn as string | undefined };
  }
  if (queue === 'fetch') {
    const payload = record?.requestPayload as Json;
    const day =
      (payload?.date as string | undefined) ?? (payload?.scheduledTime as string | undefined)?.slice(0, 10);
    return { day };
  }
  const item = record?.item as Json;
  const listing = record?.listing as Json;
  const raw = item?.raw as Json;
  const rawPaper = raw?.paper as Json;
  const rawId = rawPaper?.id;
  // The paper's own day wins over the day its listing was fetched for (a response spans days).
  const ownDay = /^\d{4}-\d{2}-\d{2}/.exec(String(rawPaper?.submittedOnDailyAt ?? ''))?.[0];
  if (typeof rawId === 'string')
    return { paperId: rawId, day: ownDay ?? (listing?.listedOn as string | undefined) };
  // An item sent by reference (too large for a message): read it from the archive.
  const key = listing?.archiveKey;
  const index = item?.index;
  if (typeof key === 'string' && typeof index === 'number') {
    const bytes = await readArchive(stack, key);
    try {
      const items = JSON.parse(bytes?.toString('utf8') ?? '[]') as HfItem[];
      const paper = items[index]?.paper;
      const ownDay = /^\d{4}-\d{2}-\d{2}/.exec(String(paper?.submittedOnDailyAt ?? ''))?.[0];
      return { paperId: paper?.id, day: ownDay ?? (listing?.listedOn as string | undefined) };
    } catch {
      return {};
    }
  }
  return {};
}

export async function readArchive(stack: LocalStack, key: string): Promise<Buffer | undefined> {
  try {
    const got = await stack.s3.send(new GetObjectCommand({ Bucket: localResourceNames.bucket, Key: key }));
    return Buffer.from((await got.Body?.transformToByteArray()) ?? []);
  } catch {
    return undefined;
  }
}

/** Every archive key, listings and quarantine alike. */
export async function archiveKeys(stack: LocalStack): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: localResourceNames.bucket, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** A paper's items (listings and category entries) on one day, by a Query on its partition. */
export async function paperItems(
  client: DynamoDBDocumentClient,
  id: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: localResourceNames.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `PAPER#${id}` },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export async function dayItem(
  client: DynamoDBDocumentClient,
  day: string,
): Promise<Record<string, unknown> | undefined> {
  const page = await client.send(
    new QueryCommand({
      TableName: localResourceNames.table,
      KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': 'DAYS', ':sk': day },
    }),
  );
  return page.Items?.[0];
}

// ---------------------------------------------------------------------------
// The invariant

export interface ExpectedPaper {
  id: string;
  listedOn: string;
  /** The newest capture's upvotes: the stored value may never be lower. */
  upvotes?: number;
}

export interface Expectation {
  /** Every paper of the listing(s), with the newest capture's figures. */
  papers: ExpectedPaper[];
  /** Raw bodies that must be in the archive (under `listings/` or `quarantine/`), by sha256. */
  rawBodies?: Iterable<Buffer>;
  /** Days a fetched listing may record (beyond the papers' own): the days asked for. */
  days?: string[];
}

/**
 * The one invariant every scenario ends with. Returns what is wrong, one line
 * each (empty when all holds):
 *
 * - every paper of the listing is stored exactly once on its day (one listing item,
 *   once on the day's index, in the day's paper set, classified, one category entry
 *   per assigned category and none other), or sits in a dead-letter queue with its
 *   reason (a redrive finishes it); a paper stored completely is in no parse DLQ;
 * - nothing rolled back: stored upvotes are never lower than the newest capture's;
 * - the archive holds every raw listing body served (its sha256 in the key), under
 *   the listings or the quarantine prefix;
 * - nothing is stored under a day no paper and no request named.
 */
export async function checkInvariants(
  stack: LocalStack,
  client: DynamoDBDocumentClient,
  expected: Expectation,
): Promise<string[]> {
  const { findings } = await inspectPipeline(stack, client, expected);
  return findings.map((finding) => finding.message);
}

/** What breaks the invariant, by kind (the soak run counts them). */
export type FindingKind =
  | 'lost'
  | 'duplicate'
  | 'rolled-back'
  | 'half-done'
  | 'stale-category'
  | 'no-reason'
  | 'stored-and-dead-lettered'
  | 'stray'
  | 'archive';

export interface Inspection {
  findings: { kind: FindingKind; message: string }[];
  /** Expected papers stored on their day. */
  stored: number;
  /** Expected papers not stored and sitting in a dead-letter queue. */
  deadLettered: number;
}

/** {@link checkInvariants}, with its findings by kind and the counts of papers stored and dead-lettered. */
export async function inspectPipeline(
  stack: LocalStack,
  client: DynamoDBDocumentClient,
  expected: Expectation,
): Promise<Inspection> {
  const store = new DynamoPaperStore(client, localResourceNames.table);
  const inspection: Inspection = { findings: [], stored: 0, deadLettered: 0 };
  const found = (kind: FindingKind, message: string) => inspection.findings.push({ kind, message });
  const letters = await deadLetters(stack);
  const lettersFor = (id: string, day: string) =>
    letters.filter(
      (letter) =>
        (letter.paperId === id && (letter.day === undefined || letter.day === day)) ||
        (letter.queue === 'fetch' && letter.day === day),
    );
  const days = new Set(expected.papers.map((paper) => paper.listedOn));
  const onDay = new Map<string, Map<string, number>>();
  for (const day of days) {
    const counts = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await store.papersListedOn(day, { limit: 100, cursor });
      for (const paper of page.items) counts.set(paper.id, (counts.get(paper.id) ?? 0) + 1);
      cursor = page.cursor;
    } while (cursor);
    onDay.set(day, counts);
  }
  const expectedIds = new Map<string, Set<string>>();
  for (const paper of expected.papers) {
    expectedIds.set(paper.listedOn, (expectedIds.get(paper.listedOn) ?? new Set()).add(paper.id));
  }
  for (const [day, counts] of onDay) {
    for (const [id, count] of counts) {
      if (!expectedIds.get(day)?.has(id))
        found('stray', `${id} is stored under ${day}, which its listing did not give it`);
      if (count > 1) found('duplicate', `${id} is listed ${count} times on ${day}`);
    }
  }
  const dayRecords = new Map<string, Record<string, unknown> | undefined>();
  for (const day of days) dayRecords.set(day, await dayItem(client, day));

  for (const paper of expected.papers) {
    const letter = lettersFor(paper.id, paper.listedOn);
    const withoutReason = letter.filter((one) => one.reason.errorName === undefined);
    for (const one of withoutReason) {
      found(
        'no-reason',
        `${paper.id} sits in the ${one.queue} DLQ with no reason recorded (${one.reason.recordedBy})`,
      );
    }
    const items = await paperItems(client, paper.id);
    const listing = items.find((item) => item.sk === `LISTED#${paper.listedOn}`);
    if (!listing) {
      if (letter.length === 0)
        found('lost', `${paper.id} (${paper.listedOn}) is neither stored nor dead-lettered`);
      else inspection.deadLettered++;
      continue;
    }
    inspection.stored++;
    const upvotes = typeof listing.upvotes === 'number' ? listing.upvotes : 0;
    if (paper.upvotes !== undefined && upvotes < paper.upvotes) {
      found(
        'rolled-back',
        `${paper.id} (${paper.listedOn}) rolled back: upvotes ${upvotes} < newest capture's ${paper.upvotes}`,
      );
    }
    // What a stored paper still lacks. A paper whose record sits in a DLQ with its reason may lack
    // it (a redrive finishes it); one that lacks nothing must not have been dead-lettered.
    const unfinished: string[] = [];
    if ((onDay.get(paper.listedOn)?.get(paper.id) ?? 0) === 0) unfinished.push(`the ${paper.listedOn} index`);
    const paperIds = dayRecords.get(paper.listedOn)?.paperIds;
    if (!(paperIds instanceof Set) || !paperIds.has(paper.id)) unfinished.push('the day record');
    const classification = listing.classification as
      | { categories: { code: string; assigned: boolean }[] }
      | undefined;
    const entries = items.filter(
      (item) =>
        typeof item.sk === 'string' &&
        item.sk.startsWith('CATEGORY#') &&
        item.sk.endsWith(`#${paper.listedOn}`),
    );
    const entryCodes = entries.map((item) => canonicalCategory(String(item.code)));
    if (new Set(entryCodes).size !== entryCodes.length) {
      found(
        'duplicate',
        `${paper.id} (${paper.listedOn}) has duplicate category entries: ${entryCodes.join(', ')}`,
      );
    }
    if (!classification) unfinished.push('a classification');
    else {
      const assigned = new Set(
        classification.categories
          .filter((category) => category.assigned)
          .map((category) => canonicalCategory(category.code)),
      );
      const stale = entryCodes.filter((code) => !assigned.has(code));
      const missing = [...assigned].filter((code) => !entryCodes.includes(code));
      if (stale.length > 0)
        found(
          'stale-category',
          `${paper.id} (${paper.listedOn}) has stale category entries: ${stale.join(', ')}`,
        );
      if (missing.length > 0) unfinished.push(`category entries ${missing.join(', ')}`);
    }
    const explained = letter.some((one) => one.reason.errorName !== undefined);
    if (unfinished.length > 0 && !explained) {
      found(
        'half-done',
        `${paper.id} (${paper.listedOn}) is stored but lacks ${unfinished.join(', ')} (half done)`,
      );
    }
    if (unfinished.length === 0 && letter.some((one) => one.queue === 'parse')) {
      found(
        'stored-and-dead-lettered',
        `${paper.id} (${paper.listedOn}) was stored completely and dead-lettered by parse all the same`,
      );
    }
  }

  if (expected.rawBodies) {
    const keys = await archiveKeys(stack);
    for (const body of expected.rawBodies) {
      const digest = sha256(body);
      const key = keys.find(
        (candidate) =>
          candidate.includes(digest) &&
          (candidate.startsWith(archiveBucket.listingsPrefix) ||
            candidate.startsWith(archiveBucket.quarantinePrefix)),
      );
      if (!key) {
        found('archive', `the archive lacks the raw body ${digest.slice(0, 12)}… (${body.length} bytes)`);
        continue;
      }
      const stored = await readArchive(stack, key);
      if (!stored?.equals(body)) found('archive', `archive object ${key} does not hold the bytes served`);
    }
  }
  return inspection;
}

/** Fails the scenario with the first violations of the invariant, if any. */
export function expectNoViolations(problems: readonly string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 3).join('; ');
  throw new Error(`invariant broken (${problems.length}): ${shown}${problems.length > 3 ? '; …' : ''}`);
}

/** The expectation for `items` listed on `day` (each paper's own day, its upvotes as served). */
export function expectListing(day: string, items: readonly HfItem[]): ExpectedPaper[] {
  return items.map((item) => ({
    id: item.paper.id,
    listedOn: String(item.paper.submittedOnDailyAt ?? day).slice(0, 10),
    upvotes: typeof item.paper.upvotes === 'number' ? item.paper.upvotes : undefined,
  }));
}

// ---------------------------------------------------------------------------
// Delivering messages by hand (a duplicate delivery, a consumer that dies)

/** Receives until `count` messages are in hand (or `timeoutMs` passes). */
export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs = 10_000,
): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - messages.length),
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...Messages);
    if (Messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return messages;
}

export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]) {
  for (let start = 0; start < messages.length; start += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(start, start + 10).map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
}

/** The SQS event Lambda's event source mapping would make of `messages`. */
export function sqsEvent(messages: readonly Message[], queueName: string): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp:
          message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueName}`,
      awsRegion: 'us-east-1',
    })),
  };
}

export async function setVisibilityTimeout(sqs: SQSClient, queueUrl: string, seconds: number): Promise<void> {
  await sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { VisibilityTimeout: String(seconds) } }),
  );
}

/** Throttles every `every`-th matching request, `limit` times in all. */
export function throttleEvery(
  every: number,
  limit: number,
  matches: (request: ProxiedRequest) => boolean,
): FaultRule {
  let seen = 0;
  let left = limit;
  return (request) => {
    if (left <= 0 || !matches(request)) return undefined;
    seen++;
    if (seen % every !== 0) return undefined;
    left--;
    return THROTTLED;
  };
}
