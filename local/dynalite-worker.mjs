/**
 * dynalite on a thread of its own (`local/dynalite-thread.ts` starts it): the local DynamoDB,
 * LevelDB included, then uses the machine's second core instead of the event loop the handlers,
 * the transaction front and `papers serve` run on. Plain JavaScript so a worker runs it without a
 * loader. It listens on 127.0.0.1 (a free port), says which with `{ port }`, and closes dynalite
 * (its HTTP server, then its database) on `'close'`, answering `'closed'`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0 });
server.once('error', (error) => {
  throw error;
});
server.listen(0, '127.0.0.1', () => parentPort?.postMessage({ port: server.address().port }));
parentPort?.on('message', (message) => {
  if (message !== 'close') return;
  server.close(() => {
    parentPort?.postMessage('closed');
    parentPort?.close();
  });
});
