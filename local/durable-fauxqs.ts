import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildAppOptions, buildApp } from 'fauxqs';
import * as z from 'zod';

/**
 * fauxqs (SQS and S3 on 127.0.0.1) made durable across restarts and kills.
 * fauxqs 1.9.2 keeps everything in memory (2.x persists, but needs Node ≥ 22.5),
 * so this module hands `buildApp` its own stores and watches them:
 *
 * - **Queues**: every enqueue (a send, or the redrive policy moving a message to
 *   its DLQ), receive, delete and purge is appended to
 *   `<dataDir>/queues/journal.jsonl` before the stand-in answers the request.
 *   At start the journal is replayed and each message not deleted is put back in
 *   its queue, with its id, body, attributes and receive count. A message that
 *   was in flight when the process died is visible again at once (its consumer
 *   died with the process). The journal is rewritten from the live messages at
 *   start and whenever it grows well past them.
 * - **Archive bucket**: each object put is written to `<dataDir>/archive/<key>`
 *   with a `<key>.meta.json` sidecar (content type, metadata) before the
 *   PutObject answers, so the raw listing is on disk before fetch-listing sends
 *   anything to the parse queue; deletes remove the files. At start the files
 *   are loaded back.
 *
 * Writes go to the OS with `writeSync` (no fsync): they survive the process
 * being killed, not the machine losing power.
 *
 * The stores are fauxqs's own classes, loaded from its `dist/` next to its entry
 * (the package exports only `buildApp`, whose `stores` option takes them): they
 * are tied to the exact fauxqs version in package.json.
 */

type Stores = NonNullable<BuildAppOptions['stores']>;
type SqsStore = Stores['sqsStore'];
type SqsQueue = ReturnType<SqsStore['createQueue']>;
type S3Store = Stores['s3Store'];
type SqsMessage = SqsQueue['messages'][number];

const MessageAttributeSchema = z.object({
  DataType: z.string(),
  StringValue: z.string().optional(),
  BinaryValue: z.string().optional(),
});

const SqsMessageSchema = z.object({
  messageId: z.string(),
  body: z.string(),
  md5OfBody: z.string(),
  messageAttributes: z.record(z.string(), MessageAttributeSchema),
  md5OfMessageAttributes: z.string(),
  sentTimestamp: z.number(),
  approximateReceiveCount: z.number(),
  approximateFirstReceiveTimestamp: z.number().optional(),
  delayUntil: z.number().optional(),
  messageGroupId: z.string().optional(),
  messageDeduplicationId: z.string().optional(),
  sequenceNumber: z.string().optional(),
});

const JournalEntrySchema = z.union([
  z.object({ put: z.string(), message: SqsMessageSchema }),
  z.object({ received: z.string(), ids: z.array(z.string()), at: z.number() }),
  z.object({ deleted: z.string(), id: z.string() }),
  z.object({ purged: z.string() }),
]);
type JournalEntry = z.infer<typeof JournalEntrySchema>;

const ArchiveSidecarSchema = z.object({
  contentType: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
});

/** Rewrite the journal once it is this much larger than the live messages it describes. */
const COMPACT_FACTOR = 4;
const COMPACT_MIN_BYTES = 8 * 1024 * 1024;

export interface DurableFauxqs {
  app: ReturnType<typeof buildApp>;
  /**
   * Puts back what the data folder holds: the archive objects, then the queues'
   * messages. Call once, after the bucket and the queues exist.
   * @returns how many objects and messages were restored.
   */
  restore(): Promise<{ objects: number; messages: number; unreadableJournalLines: number }>;
  /** Rewrites the journal down to the messages still queued, and closes it. */
  close(): void;
}

export interface DurableFauxqsOptions {
  dataDir: string;
  /** The bucket mirrored to `<dataDir>/archive/`. */
  archiveBucket: string;
}

export async function startDurableFauxqs({
  dataDir,
  archiveBucket,
}: DurableFauxqsOptions): Promise<DurableFauxqs> {
  const classes = await loadStoreClasses();
  const sqsStore = new classes.SqsStore();
  const s3Store = new classes.S3Store();
  const archiveDir = path.join(dataDir, 'archive');
  const journal = new QueueJournal(path.join(dataDir, 'queues'), () => liveMessages(sqsStore));

  const createQueue = sqsStore.createQueue.bind(sqsStore);
  sqsStore.createQueue = (...args) => {
    const queue = createQueue(...args);
    journalQueue(queue, journal);
    return queue;
  };
  const putObject = s3Store.putObject.bind(s3Store);
  s3Store.putObject = (bucket, key, ...rest) => {
    const object = putObject(bucket, key, ...rest);
    if (bucket === archiveBucket) mirrorObject(archiveDir, key, object);
    return object;
  };
  const deleteObject = s3Store.deleteObject.bind(s3Store);
  s3Store.deleteObject = (bucket, key) => {
    deleteObject(bucket, key);
    if (bucket === archiveBucket) unmirrorObject(archiveDir, key);
  };
  const deleteObjects = s3Store.deleteObjects.bind(s3Store);
  s3Store.deleteObjects = (bucket, keys) => {
    const deleted = deleteObjects(bucket, keys);
    if (bucket === archiveBucket) for (const key of deleted) unmirrorObject(archiveDir, key);
    return deleted;
  };

  const app = buildApp({ logger: false, stores: { sqsStore, s3Store, snsStore: new classes.SnsStore() } });
  return {
    app,
    async restore() {
      const objects = await restoreArchive(archiveDir, (key, body, contentType, metadata) =>
        putObject(archiveBucket, key, body, contentType, metadata),
      );
      const { live, unreadable } = journal.replay();
      journal.restoring = true;
      for (const { queue, message } of live) {
        const target = sqsStore.getQueueByName(queue);
        // A queue the resources no longer define: its messages stay in the journal's history only.
        target?.enqueue(message);
      }
      journal.restoring = false;
      journal.compact();
      return { objects, messages: live.length, unreadableJournalLines: unreadable };
    },
    close: () => {
      journal.compact();
      journal.close();
    },
  };
}

/** fauxqs's store classes, from the files beside its entry point. */
async function loadStoreClasses(): Promise<{
  SqsStore: new () => SqsStore;
  S3Store: new () => S3Store;
  SnsStore: new () => Stores['snsStore'];
}> {
  const entry = import.meta.resolve('fauxqs');
  const load = async (file: string, name: string) => {
    const module: Record<string, unknown> = await import(new URL(file, entry).href);
    const storeClass = module[name];
    if (typeof storeClass !== 'function') {
      throw new Error(`fauxqs has no ${name} in ${file}: the durable stand-in needs fauxqs 1.9.x`);
    }
    return storeClass;
  };
  const [SqsStore, S3Store, SnsStore] = await Promise.all([
    load('./sqs/sqsStore.js', 'SqsStore'),
    load('./s3/s3Store.js', 'S3Store'),
    load('./sns/snsStore.js', 'SnsStore'),
  ]);
  // Checked above to be the classes `BuildAppOptions['stores']` is typed with.
  return {
    SqsStore: SqsStore as new () => SqsStore,
    S3Store: S3Store as new () => S3Store,
    SnsStore: SnsStore as new () => Stores['snsStore'],
  };
}

/** Records the queue's changes in the journal, synchronously, before the request is answered. */
function journalQueue(queue: SqsQueue, journal: QueueJournal): void {
  const enqueue = queue.enqueue.bind(queue);
  queue.enqueue = (message) => {
    enqueue(message);
    journal.append({ put: queue.name, message });
  };
  const dequeue = queue.dequeue.bind(queue);
  queue.dequeue = (...args) => {
    const received = dequeue(...args);
    if (received.length > 0) {
      journal.append({ received: queue.name, ids: received.map((m) => m.MessageId), at: Date.now() });
    }
    return received;
  };
  const deleteMessage = queue.deleteMessage.bind(queue);
  queue.deleteMessage = (receiptHandle) => {
    const entry = queue.inflightMessages.get(receiptHandle);
    const deleted = deleteMessage(receiptHandle);
    if (deleted && entry) journal.append({ deleted: queue.name, id: entry.message.messageId });
    return deleted;
  };
  const purge = queue.purge.bind(queue);
  queue.purge = () => {
    purge();
    journal.append({ purged: queue.name });
  };
}

/** Every message in every queue (ready, delayed, in flight), by queue name. */
function liveMessages(store: SqsStore): { queue: string; message: SqsMessage }[] {
  return store.listQueues().flatMap((queue) => {
    const { ready, delayed, inflight } = queue.inspectMessages();
    return [...inflight.map((entry) => entry.message), ...ready, ...delayed].map((message) => ({
      queue: queue.name,
      message,
    }));
  });
}

class QueueJournal {
  /** Set while restored messages are put back: they are in the journal already. */
  restoring = false;
  private readonly file: string;
  private fd: number | undefined;
  private bytes = 0;
  private compactedBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly snapshot: () => { queue: string; message: SqsMessage }[],
  ) {
    this.file = path.join(dir, 'journal.jsonl');
  }

  append(entry: JournalEntry): void {
    if (this.restoring) return;
    const line = `${JSON.stringify(entry)}\n`;
    this.fd ??= this.open();
    writeSync(this.fd, line);
    this.bytes += Buffer.byteLength(line);
    if (this.bytes > Math.max(COMPACT_MIN_BYTES, COMPACT_FACTOR * this.compactedBytes)) this.compact();
  }

  /** The messages the journal says are in the queues, oldest first. */
  replay(): { live: { queue: string; message: SqsMessage }[]; unreadable: number } {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { live: [], unreadable: 0 };
    }
    const live = new Map<string, { queue: string; message: SqsMessage }>();
    let unreadable = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      // The last line may be cut short by a kill; any unreadable line is skipped and counted.
      let entry: JournalEntry;
      try {
        entry = JournalEntrySchema.parse(JSON.parse(line));
      } catch {
        unreadable++;
        continue;
      }
      if ('put' in entry) {
        // A message id lives in one queue: a put into a DLQ is the redrive policy moving it.
        live.delete(entry.message.messageId);
        live.set(entry.message.messageId, { queue: entry.put, message: entry.message });
      } else if ('received' in entry) {
        for (const id of entry.ids) {
          const held = live.get(id);
          if (held?.queue !== entry.received) continue;
          held.message.approximateReceiveCount++;
          held.message.approximateFirstReceiveTimestamp ??= entry.at;
        }
      } else if ('deleted' in entry) {
        if (live.get(entry.id)?.queue === entry.deleted) live.delete(entry.id);
      } else {
        for (const [id, held] of live) if (held.queue === entry.purged) live.delete(id);
      }
    }
    return { live: [...live.values()], unreadable };
  }

  /** Rewrites the journal as one put per live message (to a new file, then renamed over the old). */
  compact(): void {
    const lines = this.snapshot()
      .map(({ queue, message }) => `${JSON.stringify({ put: queue, message } satisfies JournalEntry)}\n`)
      .join('');
    mkdirSync(this.dir, { recursive: true });
    const next = `${this.file}.next`;
    writeFileSync(next, lines);
    if (this.fd !== undefined) closeSync(this.fd);
    renameSync(next, this.file);
    this.fd = this.open();
    this.bytes = Buffer.byteLength(lines);
    this.compactedBytes = this.bytes;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    mkdirSync(this.dir, { recursive: true });
    return openSync(this.file, 'a');
  }
}

/** The file that mirrors `key`, or undefined for a key that would escape the folder. */
function mirrorFile(archiveDir: string, key: string): string | undefined {
  const segments = key.split('/');
  if (segments.some((segment) => segment === '..' || segment === '')) return undefined;
  return path.join(archiveDir, ...segments);
}

function mirrorObject(
  archiveDir: string,
  key: string,
  object: { body: Buffer; contentType: string; metadata: Record<string, string> },
): void {
  const file = mirrorFile(archiveDir, key);
  if (!file) return;
  mkdirSync(path.dirname(file), { recursive: true });
  // The sidecar marks a complete copy, so it is written last; each file goes in whole, by rename.
  writeFileSync(`${file}.next`, object.body);
  renameSync(`${file}.next`, file);
  const sidecar = { contentType: object.contentType, metadata: object.metadata };
  writeFileSync(`${file}.meta.json.next`, JSON.stringify(sidecar, null, 2));
  renameSync(`${file}.meta.json.next`, `${file}.meta.json`);
}

function unmirrorObject(archiveDir: string, key: string): void {
  const file = mirrorFile(archiveDir, key);
  if (!file) return;
  rmSync(`${file}.meta.json`, { force: true });
  rmSync(file, { force: true });
}

async function restoreArchive(
  archiveDir: string,
  put: (key: string, body: Buffer, contentType: string | undefined, metadata: Record<string, string>) => void,
): Promise<number> {
  const files = await readdir(archiveDir, { recursive: true }).catch(() => [] as string[]);
  let restored = 0;
  for (const relative of files) {
    if (!relative.endsWith('.meta.json')) continue;
    const dataFile = path.join(archiveDir, relative.slice(0, -'.meta.json'.length));
    const key = path.relative(archiveDir, dataFile).split(path.sep).join('/');
    const sidecar = ArchiveSidecarSchema.parse(
      JSON.parse(await readFile(path.join(archiveDir, relative), 'utf8')),
    );
    put(key, await readFile(dataFile), sidecar.contentType, sidecar.metadata);
    restored++;
  }
  return restored;
}
