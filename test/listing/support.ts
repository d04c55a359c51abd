import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/listings/', import.meta.url));

/** A saved listing's bytes, as the fetcher would hand them over. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${FIXTURES_DIR}${name}`));
}

export function fixtureText(name: string): string {
  return readFileSync(`${FIXTURES_DIR}${name}`, 'utf8');
}
