import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling';
import { deepEqualSchemas, literalTraitKeys, sameSchemas } from '../../scripts/tree-shakable-sdk-schemas.mjs';

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
