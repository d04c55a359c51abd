import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The local query API's cursor key: 32 random bytes (hex) in `<dataDir>/cursor-key`, made the
 * first time a data folder is used and kept, so a cursor printed by one `papers query` still
 * works in the next one and in `papers serve`. On AWS the key is the stack's generated secret.
 */
export function localCursorKey(dataDir: string): string {
  const file = path.join(dataDir, 'cursor-key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    // `wx`: of two processes making it at once, the second reads the first one's key.
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}
