import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling';
import { openLocalStack } from '../../local/stack';
import {
  deepEqualSchemas,
  literalTraitKeys,
  rewriteInstalledSchemas,
  sameSchemas,
} from '../../scripts/tree-shakable-sdk-schemas.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('literalTraitKeys', () => {
  it('writes a computed key naming a string constant of the file as that literal key', () => {
    const source = [
      'const _h = "http";',
      'const _hC = "httpChecksum";',
      'export var A$ = [9, n0, _A, { [_hC]: "-", [_h]: ["PUT", "/?acl", 200] }, () => B$];',
      'export var C$ = [3, n0, _C, { [_h]: 1 }];',
    ].join('\n');
    const { source: result, rewritten } = literalTraitKeys(source);
    expect(rewritten).toBe(3);
    expect(result).toContain('{ "httpChecksum": "-", "http": ["PUT", "/?acl", 200] }');
    expect(result).toContain('{ "http": 1 }');
    expect(result).not.toMatch(/\[_h/);
  });

  it('leaves keys it cannot prove to be that constant: unknown, declared twice, or not a string', () => {
    const source = [
      'const _s = "streaming";',
      'const _s = "other";',
      'const _n = 3;',
      'const x = { [_s]: 1, [_n]: 2, [_unknown]: 3 };',
      'const y = list[_s];',
    ].join('\n');
    expect(literalTraitKeys(source)).toEqual({ source, rewritten: 0 });
  });
});

describe('literalTraitKeys in a file that binds names of its own', () => {
  it('leaves every key computed: a parameter could shadow the constant', () => {
    const source = ['const _h = "http";', 'export const f = (_h) => ({ [_h]: 1 });'].join('\n');
    expect(literalTraitKeys(source)).toEqual({ source, rewritten: 0 });
    const named = ['const _h = "http";', 'export function g(_h) { return { [_h]: 1 }; }'].join('\n');
    expect(literalTraitKeys(named)).toEqual({ source: named, rewritten: 0 });
  });

  it('is not fooled by such words inside strings', () => {
    const source = ['const _s = "x-amz-storage-class";', 'export var A$ = [0, { [_s]: "function" }];'].join(
      '\n',
    );
    expect(literalTraitKeys(source).rewritten).toBe(1);
  });
});

describe('sameSchemas', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sdk-schemas-'));
  const original = path.join(dir, 'schemas_0.js');
  writeFileSync(
    original,
    [
      'const _h = "http";',
      'export var Op$ = [9, "ns", "Op", { [_h]: ["GET", "/", 200] }, () => Input$, () => Output$];',
      'export var Input$ = [3, "ns", "Input", 0, ["Self"], [() => Input$]];',
      'export var Output$ = [3, "ns", "Output", 0, [], []];',
      'export const registry = new Map([[Output$, Error]]);',
    ].join('\n'),
  );

  it('accepts the rewrite of a file, cyclic references and registries included', async () => {
    const { source } = literalTraitKeys(readFileSync(original, 'utf8'));
    expect(await sameSchemas(original, source)).toBe(true);
  });

  it('refuses a rewrite that changed anything, however deep', async () => {
    const { source } = literalTraitKeys(readFileSync(original, 'utf8'));
    expect(await sameSchemas(original, source.replace('"Self"', '"Other"'))).toBe(false);
    expect(await sameSchemas(original, source.replace('"GET"', '"PUT"'))).toBe(false);
  });

  it('compares lazy references by what they return and classes by identity', () => {
    const shared = class {};
    expect(deepEqualSchemas({ a: () => [1, shared] }, { a: () => [1, shared] })).toBe(true);
    expect(deepEqualSchemas({ a: () => [1, shared] }, { a: () => [1, class {}] })).toBe(false);
    expect(deepEqualSchemas(new Map([[[1], 'x']]), new Map([[[1], 'y']]))).toBe(false);
    // Built-ins whose state is not in own keys are compared by what they hold, or not at all.
    expect(deepEqualSchemas(new Set([1]), new Set([2]))).toBe(false);
    expect(deepEqualSchemas(new Date(0), new Date(1))).toBe(false);
    expect(deepEqualSchemas(/a/, /b/)).toBe(false);
    expect(deepEqualSchemas(new Uint8Array([1]), new Uint8Array([1]))).toBe(false);
  });
});

describe('the installed SDK (rewritten by postinstall)', () => {
  it('lets esbuild drop the S3 operations a bundle does not use', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sdk-bundle-'));
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(
      entry,
      "import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';\n" +
        'export const read = (s3: S3Client) => s3.send(new GetObjectCommand({ Bucket: "b", Key: "k" }));\n',
    );
    const result = await build({
      ...esbuildOptions(entry, path.join(dir, 'index.mjs')),
      absWorkingDir: ROOT,
      nodePaths: [path.join(ROOT, 'node_modules')],
      write: false,
      sourcemap: false,
    });
    const bundle = result.outputFiles.find((file) => file.path.endsWith('.mjs'))?.text ?? '';
    // Booleans, not the bundle: a failure would print all of it.
    expect(bundle.includes('x-id=GetObject')).toBe(true);
    expect(bundle.includes('/?analytics')).toBe(false);
    expect(bundle.includes('select-type=2')).toBe(false);
  });
});

describe('rewriteInstalledSchemas', () => {
  /** A node_modules with one client whose schema file is `source`. */
  function installed(source: string): { nodeModules: string; file: string } {
    const nodeModules = mkdtempSync(path.join(tmpdir(), 'sdk-installed-'));
    const dir = path.join(nodeModules, '@aws-sdk', 'client-example', 'dist-es', 'schemas');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'schemas_0.js');
    writeFileSync(file, source);
    return { nodeModules, file };
  }

  it('writes a rewrite that checks out, and leaves one it cannot check as the SDK shipped it', async () => {
    const good = installed(
      'const _h = "http";\nexport var Op$ = [9, "ns", "Op", { [_h]: ["GET", "/", 200] }];\n',
    );
    const broken =
      'import { gone } from "./missing";\nconst _h = "http";\nexport var Op$ = [9, { [_h]: gone }];\n';
    const unresolvable = installed(broken);

    const [rewritten] = await rewriteInstalledSchemas(good.nodeModules);
    const [unchecked] = await rewriteInstalledSchemas(unresolvable.nodeModules);

    expect(rewritten?.outcome).toBe('rewritten');
    expect(readFileSync(good.file, 'utf8')).toContain('{ "http": ["GET", "/", 200] }');
    expect(unchecked?.outcome).toBe('unchecked');
    expect(unchecked?.reason).toMatch(/missing/);
    expect(readFileSync(unresolvable.file, 'utf8')).toBe(broken);
  });
});

describe('a bundled client, built from the rewritten schemas, against the stand-ins', () => {
  it('puts and gets an S3 object, an item and a message, and reads their errors by name', async () => {
    // Node runs the SDK's CommonJS build; bundles run the ES build this script rewrote: run one.
    const dir = mkdtempSync(path.join(tmpdir(), 'sdk-bundled-'));
    const entry = path.join(ROOT, 'bench/.out/sdk-bundled-entry.ts');
    mkdirSync(path.dirname(entry), { recursive: true });
    writeFileSync(
      entry,
      `import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { makeS3Client } from '../../shared/aws/s3';
import { makeSqsClient } from '../../shared/aws/sqs';

const env = process.env as Record<string, string>;
const s3 = makeS3Client(env.AWS_ENDPOINT_URL_S3);
const sqs = makeSqsClient(env.AWS_ENDPOINT_URL_SQS);
const table = makeDocumentClient(env.AWS_ENDPOINT_URL_DYNAMODB);
const errorName = (promise: Promise<unknown>) => promise.then(() => 'none', (error: Error) => error.name);

await s3.send(new PutObjectCommand({ Bucket: env.ARCHIVE_BUCKET, Key: 'bundle/check.txt', Body: 'archived' }));
const object = await s3.send(new GetObjectCommand({ Bucket: env.ARCHIVE_BUCKET, Key: 'bundle/check.txt' }));
const missingKey = await errorName(s3.send(new GetObjectCommand({ Bucket: env.ARCHIVE_BUCKET, Key: 'bundle/none' })));
const key = { pk: 'BUNDLE#check', sk: 'ITEM' };
await table.send(new PutCommand({ TableName: env.TABLE_NAME, Item: { ...key, tags: new Set(['a', 'b']) } }));
const item = await table.send(new GetCommand({ TableName: env.TABLE_NAME, Key: key, ConsistentRead: true }));
const conditional = await errorName(
  table.send(new PutCommand({ TableName: env.TABLE_NAME, Item: key, ConditionExpression: 'attribute_not_exists(pk)' })),
);
await sqs.send(new SendMessageCommand({ QueueUrl: env.PARSE_DEAD_LETTER_QUEUE_URL, MessageBody: 'queued' }));
const received = await sqs.send(
  new ReceiveMessageCommand({ QueueUrl: env.PARSE_DEAD_LETTER_QUEUE_URL, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
);
const badQueue = await errorName(sqs.send(new SendMessageCommand({ QueueUrl: env.PARSE_DEAD_LETTER_QUEUE_URL + '-none', MessageBody: 'x' })));
console.log(JSON.stringify({
  object: await object.Body?.transformToString(),
  missingKey,
  item: { ...item.Item, tags: [...(item.Item?.tags ?? [])].sort() },
  conditional,
  message: received.Messages?.[0]?.Body,
  receiveCount: received.Messages?.[0]?.Attributes?.ApproximateReceiveCount,
  badQueue,
}));
`,
    );
    const outfile = path.join(dir, 'index.mjs');
    await build({ ...esbuildOptions(entry, outfile), absWorkingDir: ROOT, sourcemap: false });
    const stack = await openLocalStack({ dataDir: path.join(dir, 'data') });
    try {
      // Not spawnSync: the stand-ins answer from this process's event loop.
      const run = await promisify(execFile)(process.execPath, [outfile], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...stack.env },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(JSON.parse(run.stdout)).toEqual({
        object: 'archived',
        missingKey: 'NoSuchKey',
        item: { pk: 'BUNDLE#check', sk: 'ITEM', tags: ['a', 'b'] },
        conditional: 'ConditionalCheckFailedException',
        message: 'queued',
        receiveCount: '1',
        badQueue: expect.stringMatching(/QueueDoesNotExist|NonExistentQueue/),
      });
    } finally {
      await stack.close();
    }
  }, 120_000);
});
