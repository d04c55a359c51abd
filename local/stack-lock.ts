import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from './shutdown';

/**
 * Who may start the local stack for a data folder, and who still uses it.
 *
 * `<dataDir>/stack.lock` holds the pid of the one process that owns the stack,
 * for the stack's whole life. It is created exclusively (written to a private
 * file, then hard-linked into place, so it is never seen empty): of any number
 * of commands started at the same moment, exactly one gets it and starts the
 * stand-ins; the others wait for its `stack.json` and connect. A lock whose pid
 * is dead (a process killed with SIGKILL) is stale and is broken.
 *
 * `<dataDir>/clients/<pid>-<id>` records each process connected to another's
 * stack, so the owner can wait for them before it stops (see {@link waitForClients}).
 */

/** The data folder is held by another live process that did not start a stack in time. */
export class StackBusyError extends Error {
  override name = 'StackBusyError';
}

export interface StackLock {
  /** Removes the lock if it is still this process's. */
  release(): Promise<void>;
}

export function lockFileOf(dataDir: string): string {
  return path.join(dataDir, 'stack.lock');
}

/**
 * Takes the data folder's lock if no live process holds it; resolves undefined when
 * one does (the caller then looks for its stack).
 */
export async function tryLock(dataDir: string): Promise<StackLock | undefined> {
  const lockFile = lockFileOf(dataDir);
  const mine = `${lockFile}.${process.pid}-${randomUUID()}`;
  await writeFile(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(mine, lockFile);
        return { release: () => releaseLock(lockFile) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await lockHolder(dataDir);
      if (holder === undefined || isAlive(holder)) return undefined;
      await breakStaleLock(lockFile, holder);
    }
    return undefined;
  } finally {
    await rm(mine, { force: true });
  }
}

/** The pid in the data folder's lock, if there is a lock. */
export async function lockHolder(dataDir: string): Promise<number | undefined> {
  const text = await readFile(lockFileOf(dataDir), 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function releaseLock(lockFile: string): Promise<void> {
  const text = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (Number(text?.trim()) === process.pid) await rm(lockFile, { force: true });
}

/**
 * Moves the lock aside before deleting it, so two processes that both found it stale
 * cannot delete a fresh lock one of them has just taken: whoever moved a live
 * process's lock puts it back.
 */
async function breakStaleLock(lockFile: string, deadPid: number): Promise<void> {
  const aside = `${lockFile}.stale-${process.pid}-${randomUUID()}`;
  try {
    await rename(lockFile, aside);
  } catch {
    return; // someone else moved it first
  }
  const pid = Number((await readFile(aside, 'utf8').catch(() => '')).trim());
  if (pid !== deadPid && isAlive(pid)) await link(aside, lockFile).catch(() => {});
  await unlink(aside).catch(() => {});
}

function clientsDir(dataDir: string): string {
  return path.join(dataDir, 'clients');
}

/** Records this process as a user of another process's stack; returns a function that removes the record. */
export async function registerClient(dataDir: string): Promise<() => Promise<void>> {
  const dir = clientsDir(dataDir);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${randomUUID()}`);
  await writeFile(file, `${process.pid}\n`);
  return () => rm(file, { force: true });
}

/**
 * Waits, up to `timeoutMs`, until no live process is recorded as a client; removes
 * the records of dead ones. Resolves with the pids still connected at the timeout.
 */
export async function waitForClients(dataDir: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live: number[] = [];
    for (const name of await readdir(clientsDir(dataDir)).catch(() => [] as string[])) {
      const pid = Number(name.split('-')[0]);
      // This process's own records are its own business: waiting for them would never end.
      if (pid === process.pid) continue;
      if (isAlive(pid)) live.push(pid);
      else await rm(path.join(clientsDir(dataDir), name), { force: true });
    }
    if (live.length === 0 || Date.now() >= deadline) return live;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
