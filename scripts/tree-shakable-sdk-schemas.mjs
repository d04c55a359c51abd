#!/usr/bin/env node
/**
 * Makes the AWS SDK clients' generated schemas tree-shakable by esbuild; run by `npm install`
 * (package.json `postinstall`), so every bundle (the functions' through `NodejsFunction`, the
 * benchmark's) is built from the same installed SDK. Bundles read the SDK's ES module build
 * (`dist-es`, esbuild's `mainFields`), the one rewritten here; Node itself (the local stack, the
 * CLI, the tests run from source) loads its CommonJS build (`dist-cjs`), which is left as it is.
 * `test/infra/tree-shakable-sdk-schemas.test.ts` runs a bundled client against the stand-ins.
 *
 * Why: since SDK 3.930 each client's `dist-es/schemas/schemas_0.js` writes its trait objects with
 * computed keys (`{ [_h]: ["PUT", "/?acl", 200] }`, `_h` a string constant of the same file).
 * esbuild cannot prove that a computed key has no side effect, so it keeps every operation's
 * schema: the S3 client alone put about 65 KB of schemas for ~100 operations into bundles that
 * use two (aws/aws-sdk-js-v3#7607, still open; the codegen fix, smithy-lang/smithy-typescript#1889,
 * emits literal keys). This does what that fix does, on the installed files: `[_h]:` becomes
 * `"http":` where `_h` is a `const` string declared once at the top level of the file, in a file
 * that binds no name anywhere else (no function, class, catch or nested declaration: generated
 * schemas have none, so no `_h` can mean anything but the constant). Nothing else changes.
 *
 * Each rewrite is checked before it is written: the original module and the rewritten one are
 * bundled together and evaluated, and every export must be deep-equal (thunks followed). A file
 * that fails the check, has nothing to rewrite (a release with the fix), or cannot be checked
 * (no esbuild: an install without dev dependencies, which bundles nothing) is left as it is.
 * Plain JavaScript so it runs with Node alone; its types are in the `.d.mts` beside it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A module-level string constant of the generated file: `const _h = "http";`. */
const STRING_CONSTANT = /^const (_[\w$]+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A double-quoted string literal (the generated files use no other kind). */
const STRING_LITERAL = /"(?:[^"\\\n]|\\.)*"/g;
/**
 * Code that could bind a name in an inner scope, outside string literals: a function, a class, a
 * catch clause, an arrow with parameters, or a declaration not at the start of a top-level line.
 * Generated schema files have none; a file with one is left as it is.
 */
const LOCAL_BINDING =
  /\bfunction\b|\bclass\b|\bcatch\b|\([^()]*[\w$][^()]*\)\s*=>|[\w$]\s*=>|^[ \t]+(?:const|let|var)\s|[;{][ \t]*(?:const|let|var)\s/m;
/** A computed key naming such a constant, as an object literal's first or next property. */
const COMPUTED_KEY = /([{,]\s*)\[(_[\w$]+)\]:/g;

/**
 * The generated schema source with its computed trait keys written as literal keys.
 * @param {string} source
 * @returns {{ source: string, rewritten: number }}
 */
export function literalTraitKeys(source) {
  if (LOCAL_BINDING.test(source.replace(STRING_LITERAL, '""'))) return { source, rewritten: 0 };
  const constants = new Map();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) {
    // A name declared twice could mean something else somewhere: leave it computed.
    constants.set(name, constants.has(name) ? undefined : literal);
  }
  let rewritten = 0;
  const result = source.replace(COMPUTED_KEY, (whole, before, name) => {
    const literal = constants.get(name);
    if (literal === undefined) return whole;
    rewritten += 1;
    return `${before}${literal}:`;
  });
  return { source: result, rewritten };
}

/**
 * True when two values are structurally equal: primitives by value, arrays and plain objects by
 * their entries, zero-argument arrow functions (the schemas' lazy references) by what they return,
 * anything else (classes, registries' instances) by identity or by their own entries.
 * @param {unknown} a
 * @param {unknown} b
 * @param {Map<object, Set<object>>} [seen] pairs already being compared (schemas are cyclic)
 * @returns {boolean}
 */
export function deepEqualSchemas(a, b, seen = new Map()) {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (typeof a === 'function') {
    const lazy = (f) => f.length === 0 && !('prototype' in f);
    return lazy(a) && lazy(b) && deepEqualSchemas(a(), b(), seen);
  }
  if (typeof a !== 'object') return false;
  const pairs = seen.get(a) ?? new Set();
  if (pairs.has(b)) return true;
  pairs.add(b);
  seen.set(a, pairs);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return false;
  }
  if (a instanceof Map || a instanceof Set) {
    // Entries in insertion order: a registry's keys may themselves be schemas (objects).
    const entriesB = [...b];
    return a.size === b.size && [...a].every((entry, i) => deepEqualSchemas(entry, entriesB[i], seen));
  }
  // Built-ins that keep their state in internal slots, not own keys: equal only when they say so.
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer || a instanceof WeakMap || a instanceof WeakSet) {
    return false;
  }
  const keysA = Reflect.ownKeys(a);
  const keysB = Reflect.ownKeys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key, i) => key === keysB[i] && deepEqualSchemas(a[key], b[key], seen));
}

/**
 * Whether `rewrittenSource` defines the same exports as the file at `originalPath`: both are
 * bundled into one module (so the classes and helpers they import are the same objects) and
 * evaluated.
 * @param {string} originalPath
 * @param {string} rewrittenSource
 * @returns {Promise<boolean>}
 */
export async function sameSchemas(originalPath, rewrittenSource) {
  const { build } = await import('esbuild');
  const rewritten = 'rewritten-schemas';
  const result = await build({
    stdin: {
      contents: `export * as original from ${JSON.stringify(originalPath)};
export * as rewritten from ${JSON.stringify(rewritten)};`,
      resolveDir: path.dirname(originalPath),
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
    plugins: [
      {
        name: rewritten,
        setup(onBuild) {
          onBuild.onResolve({ filter: new RegExp(`^${rewritten}$`) }, () => ({
            path: originalPath,
            namespace: rewritten,
          }));
          onBuild.onLoad({ filter: /.*/, namespace: rewritten }, () => ({
            contents: rewrittenSource,
            loader: 'js',
            resolveDir: path.dirname(originalPath),
          }));
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.text ?? '';
  const { original, rewritten: candidate } = await import(
    `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
  );
  return deepEqualSchemas({ ...original }, { ...candidate });
}

/** One line saying why: esbuild's first message when it failed, else the error's. */
function errorMessage(error) {
  const first = error?.errors?.[0]?.text;
  if (typeof first === 'string') return first;
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/** Whether esbuild, which the check needs, is installed (it is a dev dependency). */
async function bundlerInstalled() {
  try {
    await import('esbuild');
    return true;
  } catch {
    return false;
  }
}

/**
 * Rewrites every installed `@aws-sdk/client-*` schema file under `nodeModules` that has computed
 * keys and passes {@link sameSchemas}.
 * @param {string} nodeModules
 * @returns {Promise<Array<{ file: string, rewritten: number, outcome: 'rewritten' | 'unchanged' | 'differs' | 'unchecked', reason?: string }>>}
 */
export async function rewriteInstalledSchemas(nodeModules) {
  // Without a bundler nothing is bundled, and nothing could check a rewrite: leave the SDK alone.
  if (!(await bundlerInstalled())) return [];
  const scope = path.join(nodeModules, '@aws-sdk');
  let clients = [];
  try {
    clients = readdirSync(scope).filter((name) => name.startsWith('client-'));
  } catch {
    return [];
  }
  const outcomes = [];
  for (const client of clients) {
    const dir = path.join(scope, client, 'dist-es', 'schemas');
    let files = [];
    try {
      files = readdirSync(dir).filter((name) => /^schemas_\d+\.js$/.test(name));
    } catch {
      continue;
    }
    for (const name of files) {
      const file = path.join(dir, name);
      const { source, rewritten } = literalTraitKeys(readFileSync(file, 'utf8'));
      if (rewritten === 0) {
        outcomes.push({ file, rewritten, outcome: 'unchanged' });
        continue;
      }
      let same;
      try {
        same = await sameSchemas(file, source);
      } catch (error) {
        // An install must not fail for an optimisation: the file stays as the SDK shipped it.
        outcomes.push({ file, rewritten, outcome: 'unchecked', reason: errorMessage(error) });
        continue;
      }
      if (same) writeFileSync(file, source);
      outcomes.push({ file, rewritten, outcome: same ? 'rewritten' : 'differs' });
    }
  }
  return outcomes;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const outcomes = await rewriteInstalledSchemas(path.join(root, 'node_modules'));
  // Quiet when all is well (an install prints nothing of ours); a file left as it was is news.
  for (const { file, outcome, reason } of outcomes) {
    const why = { differs: 'the rewrite changed it', unchecked: `it could not be checked: ${reason}` }[
      outcome
    ];
    if (why) console.error(`tree-shakable-sdk-schemas: ${path.relative(root, file)} left as it is (${why})`);
  }
}
