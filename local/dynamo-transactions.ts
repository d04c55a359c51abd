import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

/**
 * TransactWriteItems for the local stack. dynalite 4 has no transactions (it answers
 * `UnknownOperationException`), and the pipeline's classify stage stores a batch of listings,
 * their category entries and their upvote snapshots in one transaction. This is a small
 * HTTP front on 127.0.0.1 before dynalite: every other request is passed through untouched,
 * and a TransactWriteItems is carried out with dynalite's own single-item operations, so its
 * conditions and update expressions are evaluated by dynalite exactly as for an UpdateItem.
 *
 * What it keeps of DynamoDB's contract, and how:
 * - All or nothing. Every action runs with `ReturnValues: ALL_OLD` (an unconditional Put or
 *   Delete is batched after its old images are read), and when any action fails, every action
 *   already applied is put back as it was. The answer is then a `TransactionCanceledException`
 *   with one `CancellationReasons` entry per action (`None`, `ConditionalCheckFailed`,
 *   `ValidationError`), in order, as DynamoDB gives them.
 * - Isolation from other writers: writes through the front (PutItem, UpdateItem, DeleteItem,
 *   BatchWriteItem, TransactWriteItems) run one at a time, so no write sees half a
 *   transaction, and no two transactions interleave. Reads are not held back: a read during
 *   a transaction may see an item it wrote that is then put back (DynamoDB's read-committed
 *   reads would not); the pipeline's writers condition on what they read, so such a read
 *   mostly costs them a retry. Not always: putting an item back lowers its `revision` again, so
 *   a reader of the undone write whose condition names that revision passes if another writer
 *   then writes the same revision with the same fetch and codes (on DynamoDB, where no write is
 *   undone, revisions never repeat). Locally such a write may then be planned from state that
 *   never committed; the next write of that listing reads the table again.
 * - Two actions on one item, more than 100 actions, or a ConditionCheck (not used by the
 *   project) are refused with a `ValidationException`.
 *
 * Not kept: durability of a transaction cut short by the process dying between two of its
 * actions (dynalite has no multi-item atomic write to build on). The unconditional writes go
 * first and the conditional ones last, so a local run killed in that window leaves the listings
 * unchanged with some of their entries already written; the redelivered message writes the
 * whole transaction again (every write is idempotent).
 */

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'DynamoDB_20120810.';
const TRANSACTION_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
/** dynalite wants a signed request's headers; it checks their shape, not the signature. */
const INTERNAL_HEADERS = {
  'content-type': JSON_CONTENT_TYPE,
  authorization:
    'AWS4-HMAC-SHA256 Credential=local/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
  'x-amz-date': '20260101T000000Z',
};
const WRITE_OPERATIONS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

type AttributeMap = Record<string, unknown>;

interface TransactAction {
  Put?: { TableName: string; Item: AttributeMap; ConditionExpression?: string } & AttributeMap;
  Update?: { TableName: string; Key: AttributeMap; ConditionExpression?: string } & AttributeMap;
  Delete?: { TableName: string; Key: AttributeMap; ConditionExpression?: string } & AttributeMap;
  ConditionCheck?: AttributeMap;
}

interface PlannedAction {
  index: number;
  kind: 'Put' | 'Update' | 'Delete';
  table: string;
  key: AttributeMap;
  params: AttributeMap;
  /** Run alone with ALL_OLD (it has a condition or is an update); else batched. */
  single: boolean;
}

/** An answer from dynalite: its status and parsed JSON body. */
interface Answer {
  status: number;
  body: AttributeMap;
}

class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DynamoFront {
  server: Server;
  /**
   * Writes (of any kind, failed ones too) the front has answered since it started. A read that
   * began after the count reached n saw every one of those n writes: `papers serve`'s response
   * cache keeps an answer only while the count stays what it was when the answer was computed.
   */
  writesAnswered(): number;
  close(): Promise<void>;
}

/**
 * Where the front tells other processes its {@link DynamoFront.writesAnswered} (a `GET`, JSON
 * `{"writes": n}`): a `papers serve` connected to another process's stack reads it there. No
 * DynamoDB request has this path (they are all `POST /`).
 */
export const WRITES_ANSWERED_PATH = '/local/writes-answered';

/** Starts the front on 127.0.0.1 (a free port) before the dynalite at `target`. */
export async function startDynamoFront(target: string): Promise<DynamoFront> {
  const targetUrl = new URL(target);
  // Connections to dynalite are reused: a transaction is a dozen requests of it.
  const agent = new Agent({ keepAlive: true });
  const keySchemas = new Map<string, string[]>();
  let writeQueue: Promise<unknown> = Promise.resolve();
  /** Runs `work` after every write before it: one write at a time. */
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const run = writeQueue.then(work, work);
    writeQueue = run.catch(() => undefined);
    return run;
  };

  const call = (operation: string, body: AttributeMap): Promise<Answer> =>
    send(
      agent,
      targetUrl,
      { ...INTERNAL_HEADERS, 'x-amz-target': TARGET_PREFIX + operation },
      JSON.stringify(body),
    ).then(({ status, body: text }) => ({
      status,
      body: text.length ? (JSON.parse(text) as AttributeMap) : {},
    }));
  const ok = async (operation: string, body: AttributeMap): Promise<AttributeMap> => {
    const answer = await call(operation, body);
    if (answer.status >= 400) throw errorOf(answer);
    return answer.body;
  };

  const keyNames = async (table: string): Promise<string[]> => {
    const known = keySchemas.get(table);
    if (known) return known;
    const described = await ok('DescribeTable', { TableName: table });
    const schema = (described.Table as { KeySchema: { AttributeName: string }[] }).KeySchema;
    const names = schema.map((key) => key.AttributeName);
    keySchemas.set(table, names);
    return names;
  };

  async function transact(request: AttributeMap): Promise<Answer> {
    const items = request.TransactItems as TransactAction[] | undefined;
    if (!Array.isArray(items) || items.length === 0 || items.length > TRANSACTION_LIMIT) {
      throw new DynamoError(
        'ValidationException',
        `TransactItems must hold 1 to ${TRANSACTION_LIMIT} actions`,
      );
    }
    const planned: PlannedAction[] = [];
    const seen = new Set<string>();
    for (const [index, item] of items.entries()) {
      if (item.ConditionCheck) {
        throw new DynamoError('ValidationException', 'ConditionCheck is not supported by the local stand-in');
      }
      const kind = item.Put ? 'Put' : item.Update ? 'Update' : item.Delete ? 'Delete' : undefined;
      const params = kind && item[kind];
      if (!kind || !params)
        throw new DynamoError('ValidationException', `TransactItems[${index}] names no action`);
      const names = await keyNames(params.TableName);
      const source =
        kind === 'Put' ? (params as { Item: AttributeMap }).Item : (params as { Key: AttributeMap }).Key;
      const key = Object.fromEntries(names.map((name) => [name, source[name]]));
      const id = JSON.stringify([params.TableName, key]);
      if (seen.has(id)) {
        throw new DynamoError(
          'ValidationException',
          'Transaction request cannot include multiple operations on one item',
        );
      }
      seen.add(id);
      planned.push({
        index,
        kind,
        table: params.TableName,
        key,
        params,
        single: kind === 'Update' || params.ConditionExpression !== undefined,
      });
    }
    const reasons: { Code: string; Message?: string }[] = items.map(() => ({ Code: 'None' }));
    /** How to put each applied action's item back: its old image, or nothing (delete). */
    const undo: { table: string; key: AttributeMap; old?: AttributeMap }[] = [];

    const putBack = () =>
      writeBatches(
        undo.map(({ table, key, old }) => [
          table,
          old ? { PutRequest: { Item: old } } : { DeleteRequest: { Key: key } },
        ]),
      );
    const batched = planned.filter((action) => !action.single);
    const oldImages = await readItems(batched);
    let cancelled = false;
    try {
      // The unconditional writes (category entries, snapshots) go first and the conditional ones
      // (the listings) last: a process killed between the two leaves the listings as they were,
      // so the redelivered message plans and writes the whole transaction again. The other way
      // round, a listing already updated would tell the rerun there is nothing left to do, and
      // its entries would stay missing.
      if (batched.length > 0) {
        for (const action of batched) {
          undo.push({
            table: action.table,
            key: action.key,
            old: oldImages.get(itemId(action.table, action.key)),
          });
        }
        try {
          await writeBatches(batched.map((action) => [action.table, writeRequest(action)]));
        } catch (error) {
          if (!(error instanceof DynamoError) || error.type !== 'ValidationException') throw error;
          for (const action of batched)
            reasons[action.index] = { Code: 'ValidationError', Message: error.message };
          cancelled = true;
        }
      }
      if (!cancelled) {
        const settled = await Promise.allSettled(
          planned
            .filter((action) => action.single)
            .map(async (action) => {
              const {
                TableName: _table,
                ReturnValuesOnConditionCheckFailure: _values,
                ...rest
              } = action.params;
              const answer = await call(`${action.kind}Item`, {
                TableName: action.table,
                ...rest,
                ReturnValues: 'ALL_OLD',
              });
              if (answer.status < 400) {
                undo.push({
                  table: action.table,
                  key: action.key,
                  old: answer.body.Attributes as AttributeMap,
                });
                return;
              }
              const error = errorOf(answer);
              if (error.type === 'ConditionalCheckFailedException') {
                reasons[action.index] = {
                  Code: 'ConditionalCheckFailed',
                  Message: 'The conditional request failed',
                };
              } else if (error.type === 'ValidationException') {
                reasons[action.index] = { Code: 'ValidationError', Message: error.message };
              } else throw error;
            }),
        );
        // Every single write has answered before anything is put back.
        const failed = settled.find(
          (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
        );
        if (failed) throw failed.reason;
        cancelled = reasons.some((reason) => reason.Code !== 'None');
      }
    } catch (error) {
      // Whatever failed (dynalite closing, say), nothing of the transaction stays.
      await putBack().catch(() => undefined);
      throw error;
    }
    if (!cancelled) return { status: 200, body: {} };
    await putBack();
    return {
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
          .map((reason) => reason.Code)
          .join(', ')}]`,
        CancellationReasons: reasons,
      },
    };
  }

  async function readItems(actions: readonly PlannedAction[]): Promise<Map<string, AttributeMap>> {
    const found = new Map<string, AttributeMap>();
    for (let start = 0; start < actions.length; start += BATCH_GET_LIMIT) {
      const byTable = new Map<string, AttributeMap[]>();
      for (const action of actions.slice(start, start + BATCH_GET_LIMIT)) {
        byTable.set(action.table, [...(byTable.get(action.table) ?? []), action.key]);
      }
      const answer = await ok('BatchGetItem', {
        RequestItems: Object.fromEntries(
          [...byTable].map(([table, keys]) => [table, { Keys: keys, ConsistentRead: true }]),
        ),
      });
      for (const [table, rows] of Object.entries(
        (answer.Responses ?? {}) as Record<string, AttributeMap[]>,
      )) {
        const names = await keyNames(table);
        for (const row of rows) {
          found.set(itemId(table, Object.fromEntries(names.map((name) => [name, row[name]]))), row);
        }
      }
    }
    return found;
  }

  async function writeBatches(requests: readonly [string, AttributeMap][]): Promise<void> {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      const byTable: Record<string, AttributeMap[]> = {};
      for (const [table, request] of requests.slice(start, start + BATCH_WRITE_LIMIT)) {
        byTable[table] = [...(byTable[table] ?? []), request];
      }
      await ok('BatchWriteItem', { RequestItems: byTable });
    }
  }

  let writesAnswered = 0;
  /** Counted once the write is done, before its answer leaves: see {@link DynamoFront.writesAnswered}. */
  const countedWrite = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await serialised(write);
    } finally {
      writesAnswered++;
    }
  };

  const server = createServer((incoming, response) => {
    if (incoming.method === 'GET' && incoming.url === WRITES_ANSWERED_PATH) {
      incoming.resume();
      reply(response, 200, JSON.stringify({ writes: writesAnswered }));
      return;
    }
    readBody(incoming).then(
      async (body) => {
        const target = incoming.headers['x-amz-target'];
        const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : '';
        const pass = () =>
          send(agent, targetUrl, forwardedHeaders(incoming), body, incoming.method, incoming.url).then(
            ({ status, body: text, headers }) => ({ status, text, headers }),
          );
        try {
          if (operation === 'TransactWriteItems') {
            const answer = await countedWrite(() =>
              transact(JSON.parse(body.toString('utf8')) as AttributeMap),
            );
            return reply(response, answer.status, JSON.stringify(answer.body));
          }
          const answer = WRITE_OPERATIONS.has(operation) ? await countedWrite(pass) : await pass();
          return reply(response, answer.status, answer.text, answer.headers);
        } catch (error) {
          const failure =
            error instanceof DynamoError ? error : new DynamoError('InternalServerError', String(error));
          const status = failure.type === 'InternalServerError' ? 500 : 400;
          return reply(
            response,
            status,
            JSON.stringify({
              __type: `com.amazonaws.dynamodb.v20120810#${failure.type}`,
              message: failure.message,
            }),
          );
        }
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    writesAnswered: () => writesAnswered,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function itemId(table: string, key: AttributeMap): string {
  return JSON.stringify([table, key]);
}

function writeRequest(action: PlannedAction): AttributeMap {
  if (action.kind === 'Put') return { PutRequest: { Item: (action.params as { Item: AttributeMap }).Item } };
  return { DeleteRequest: { Key: action.key } };
}

function errorOf(answer: Answer): DynamoError {
  const type = String(answer.body.__type ?? 'UnknownError').replace(/^.*#/, '');
  return new DynamoError(type, String(answer.body.message ?? answer.body.Message ?? type));
}

function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

function forwardedHeaders(incoming: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value;
  }
  return headers;
}

function send(
  agent: Agent,
  target: URL,
  headers: Record<string, string>,
  body: string | Buffer,
  method = 'POST',
  path = '/',
): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path,
        agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const kept: Record<string, string> = {};
          for (const name of ['content-type', 'x-amzn-requestid', 'x-amz-crc32']) {
            const value = answer.headers[name];
            if (typeof value === 'string') kept[name] = value;
          }
          resolve({
            status: answer.statusCode ?? 500,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: kept,
          });
        });
        answer.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function reply(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = { 'content-type': JSON_CONTENT_TYPE },
): void {
  response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  response.end(body);
}
