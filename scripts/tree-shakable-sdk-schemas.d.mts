/** Types of `tree-shakable-sdk-schemas.mjs` (plain JavaScript so `npm install` runs it with Node alone). */
export function literalTraitKeys(source: string): { source: string; rewritten: number };
export function deepEqualSchemas(a: unknown, b: unknown, seen?: Map<object, Set<object>>): boolean;
export function sameSchemas(originalPath: string, rewrittenSource: string): Promise<boolean>;
export function rewriteInstalledSchemas(nodeModules: string): Promise<
  Array<{
    file: string;
    rewritten: number;
    outcome: 'rewritten' | 'unchanged' | 'differs' | 'unchecked';
    reason?: string;
  }>
>;
