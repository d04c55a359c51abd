import { Worker } from 'node:worker_threads';

/**
 * The local DynamoDB (dynalite persisted with LevelDB in `path`) on a worker thread
 * (`dynalite-worker.mjs`). On the owner's main thread it took about 60% of the CPU of every
 * request (finding, reading and serialising items), queued behind and ahead of the handlers'
 * own work on one event loop; on its own thread the two run side by side. The process's other
 * threads reach it as before, over HTTP on 127.0.0.1. A thread of the same process, it dies with
 * it (LevelDB's lock goes with it), as dynalite did on the main thread.
 */
export interface DynaliteThread {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /**
   * Milliseconds the thread's event loop has been busy since it started (its event-loop
   * utilisation's `active`): dynalite's own CPU, for the benchmarks that split the stand-ins' share.
   */
  busyMs(): number;
  /** Closes dynalite (server, then database) and ends the thread. */
  close(): Promise<void>;
}

const SCRIPT = new URL('./dynalite-worker.mjs', import.meta.url);

export async function startDynaliteThread(path: string): Promise<DynaliteThread> {
  const worker = new Worker(SCRIPT, { workerData: { path } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { port: number }) => resolve(message.port));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the dynalite thread exited (${code}) before listening`)));
  });
  // After the start, a failure of the thread is told, not thrown into whatever runs then: the
  // requests to it fail on their own, with the SDK's connection errors.
  worker.on('error', (error) =>
    process.stderr.write(`local DynamoDB thread failed: ${error.stack ?? error}\n`),
  );
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    busyMs: () => worker.performance.eventLoopUtilization().active,
    close() {
      closing ??= new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.once('message', () => void worker.terminate());
        worker.postMessage('close');
      });
      return closing;
    },
  };
}
