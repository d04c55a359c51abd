import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/**
 * How a `papers` command stops when it is told to: SIGINT (Ctrl-C), SIGTERM
 * (`kill`, systemd, CI), SIGHUP (the terminal closed), or the process that
 * launched it dying.
 *
 * That last one matters because of `npm start`: npm 11 exits on SIGTERM without
 * passing it on, so `kill <pid of npm start>` reaches neither `tsx` nor the node
 * process that holds the local stack, which would be left running as an orphan
 * holding the data folder. The command therefore watches its launchers (the
 * chain of node, sh and npm processes above it) and stops, as on SIGHUP, when
 * one of them is gone.
 *
 * Stopping runs every cleanup registered with {@link onShutdown} (the local stack
 * registers its own `close`: the archive mirrored, `stack.json` and the lock
 * removed), then exits with 128 + the signal's number. A command that waits for
 * a signal itself ({@link untilStopped}: `papers serve`, `npm start`) gets it
 * instead and finishes on its own terms. A second signal while stopping exits at once.
 */

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** How long the cleanups may take before the process exits regardless. */
const CLEANUP_TIMEOUT_MS = 15_000;
const LAUNCHER_POLL_MS = 500;

const cleanups = new Set<() => Promise<void>>();
const waiters = new Set<(signal: StopSignal) => void>();
let stopping: StopSignal | undefined;
/** Set when the stop is a launcher's death, which stops the process as SIGHUP does. */
let launcherExited = false;
let installed = false;

/** Registers work to do before the process exits on a signal; returns a function that unregisters it. */
export function onShutdown(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** The signal the process was told to stop with, if any. */
export function stopRequested(): StopSignal | undefined {
  return stopping;
}

/**
 * Resolves with the first stop signal (or a launcher's death, as SIGHUP). While a
 * caller waits, a signal goes to it and the process does not exit by itself.
 */
export function untilStopped(): Promise<StopSignal> {
  installStopHandlers();
  if (stopping) return Promise.resolve(stopping);
  return new Promise((resolve) => {
    const waiter = (signal: StopSignal) => {
      waiters.delete(waiter);
      resolve(signal);
    };
    waiters.add(waiter);
  });
}

/** Installs the signal handlers and the launcher watch, once per process. */
export function installStopHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
  const launchers = launcherChain(process.ppid);
  if (launchers.length === 0) return;
  const watch = setInterval(() => {
    if (launchers.some((pid) => !isAlive(pid))) {
      clearInterval(watch);
      launcherExited = stopping === undefined;
      stop('SIGHUP');
    }
  }, LAUNCHER_POLL_MS);
  watch.unref();
}

/** What stopped the process, for a message: the signal, or the launcher's death (no signal was sent). */
export function stopCause(signal: StopSignal): string {
  return signal === 'SIGHUP' && launcherExited ? 'the process that launched it exited' : signal;
}

function stop(signal: StopSignal): void {
  if (stopping) {
    // Asked twice: the user does not want to wait for the cleanups.
    process.exit(128 + constants.signals[signal]);
  }
  stopping = signal;
  if (waiters.size > 0) {
    for (const waiter of [...waiters]) waiter(signal);
    return;
  }
  const timer = setTimeout(() => process.exit(128 + constants.signals[signal]), CLEANUP_TIMEOUT_MS);
  timer.unref();
  Promise.allSettled([...cleanups].map((cleanup) => cleanup())).then(() => {
    process.exit(128 + constants.signals[signal]);
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The processes that launched this one, nearest first, as long as they are
 * launchers (node, tsx, npm, npx, sh): `npm start` gives [tsx, sh, npm]. Stops at
 * the first other process (the user's shell, a CI runner, init).
 */
export function launcherChain(firstParent: number): number[] {
  const chain: number[] = [];
  let pid = firstParent;
  for (let depth = 0; depth < 6 && pid > 1; depth++) {
    const info = processInfo(pid);
    if (!info || !/^(node|tsx|npm|npx|sh|dash)\b/.test(info.command)) break;
    chain.push(pid);
    pid = info.parent;
  }
  return chain;
}

/** A process's parent and command name: `/proc` on Linux, `ps` elsewhere (macOS). */
function processInfo(pid: number): { parent: number; command: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const parent = Number(stat.slice(close + 2).split(' ')[1]);
    return Number.isInteger(parent) ? { parent, command } : undefined;
  } catch {
    // No /proc: ask ps.
  }
  try {
    const output = execFileSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const match = /^(\d+)\s+(.*)$/.exec(output);
    if (!match) return undefined;
    return { parent: Number(match[1]), command: (match[2] ?? '').split('/').pop() ?? '' };
  } catch {
    return undefined;
  }
}
