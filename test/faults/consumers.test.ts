import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localLambdaContext } from '../../local/http-adapter';
import { classifyPaper } from '../../shared/classify';
import { queues } from '../../shared/resources';
import {
  checkInvariants,
  deadLetters,
  deleteMessages,
  expectListing,
  expectNoViolations,
  type FaultStack,
  generateListing,
  type HfItem,
  isDayRecordUpdate,
  openFaultStack,
  poisonItem,
  receiveMessages,
  setVisibilityTimeout,
  sha256,
  sqsEvent,
  throttleEvery,
  throttleNext,
  transactionConflictNext,
} from './harness';

/**
 * Faults inside the pipeline: poison papers, duplicate and concurrent
 * deliveries, overlapping runs, a throttled table, a consumer that dies
 * mid-batch, and late or incomplete captures. Each scenario uses its own day
 * and ends with the invariant.
 */

let faults: FaultStack;

beforeAll(async () => {
  faults = await openFaultStack();
});

afterAll(async () => {
  await faults?.close();
});

async function invariant(day: string, items: readonly HfItem[], poisoned: readonly string[] = []) {
  return checkInvariants(faults.stack, faults.client, {
    papers: expectListing(day, items).map((paper) =>
      poisoned.includes(paper.id) ? { ...paper, upvotes: undefined } : paper,
    ),
    rawBodies: faults.upstream.served(day).values(),
  });
}

const parseQueue = () => faults.stack.queueUrls.parse;
const classifyQueue = () => faults.stack.queueUrls.classify;

describe('consumer faults', () => {
  it('a poison paper in a batch of 10 fails alone: its 9 batch-mates are stored, it is dead-lettered with its reason', async () => {
    const day = '2026-04-01';
    const listing = generateListing(day, 10);
    const poison = poisonItem(day, '2604.99901');
    listing[3] = poison;
    faults.upstream.script(day, [{ listing }]);

    await faults.fetchDay(day);
    await faults.drain();

    const letters = (await deadLetters(faults.stack)).filter((letter) => letter.paperId === poison.paper.id);
    expect(letters.map((letter) => letter.queue)).toEqual(['parse']);
    expect((await faults.store.papersListedOn(day, { limit: 100 })).items).toHaveLength(9);
    expectNoViolations(await invariant(day, listing, [poison.paper.id]));
  });

  it('#13 a deterministic parse error is dead-lettered at once, with its reason, not after three visibility timeouts', async () => {
    const day = '2026-04-02';
    const listing = generateListing(day, 3);
    const poison = poisonItem(day, '2604.99902');
    listing.push(poison);
    faults.upstream.script(day, [{ listing }]);

    await faults.fetchDay(day);
    const [parse] = await faults.drain();

    const [letter] = (await deadLetters(faults.stack)).filter((one) => one.paperId === poison.paper.id);
    expect(letter?.reason.recordedBy, 'the consumer dead-lettered it itself').toBe('consumer');
    expect(letter?.reason.errorName).toMatch(/Error$/);
    expect(letter?.reason.receiveCount, 'on its first receive').toBe(1);
    expect(parse?.records, 'no message was delivered twice').toBe(4);
    expectNoViolations(await invariant(day, listing, [poison.paper.id]));
  });

  it('the same message delivered twice concurrently is stored once', async () => {
    const day = '2026-04-03';
    const listing = generateListing(day, 10);
    faults.upstream.script(day, [{ listing }]);
    await faults.fetchDay(day);

    const messages = await receiveMessages(faults.stack.sqs, parseQueue(), 10);
    expect(messages).toHaveLength(10);
    const event = sqsEvent(messages, 'parse');
    const [first, second] = await Promise.all([
      faults.handlers.parsePaper(event, localLambdaContext('parse-paper')),
      faults.handlers.parsePaper(event, localLambdaContext('parse-paper')),
    ]);
    await deleteMessages(faults.stack.sqs, parseQueue(), messages);
    await faults.drain();

    expect(first?.batchItemFailures).toEqual([]);
    expect(second?.batchItemFailures).toEqual([]);
    expectNoViolations(await invariant(day, listing));
  });

  it('two overlapping runs for the same day store every paper once, with the newest capture’s upvotes', async () => {
    const day = '2026-04-04';
    const older = generateListing(day, 15, { upvotes: (index) => index + 10 });
    const newer = generateListing(day, 15, { upvotes: (index) => index + 30 });
    // The first request is answered last: its capture is the newer one.
    faults.upstream.script(day, [{ listing: newer, delayMs: 400 }, { listing: older }]);

    const reports = await Promise.all([faults.fetchDay(day), faults.fetchDay(day)]);
    await faults.drain();

    const newest = reports
      .flatMap((report) => report.listings)
      .reduce((latest, listing) => (listing.fetchedAt > latest.fetchedAt ? listing : latest));
    const newestItems = newest.archiveKey.includes(sha256(JSON.stringify(newer))) ? newer : older;
    const fetched = (await faults.store.ingestedDays({ limit: 100 })).items.find((one) => one.day === day);
    expect(fetched).toMatchObject({ listed: 15, papers: 15, lastFetchedAt: newest.fetchedAt });
    expectNoViolations(await invariant(day, newestItems));
  });

  it('throttling and transaction conflicts injected between the handlers and the table lose and double nothing', async () => {
    const day = '2026-04-06';
    const listing = generateListing(day, 30);
    faults.upstream.script(day, [{ listing }]);
    const injectedBefore = { ...faults.dynamo.injected };
    const rules = [
      throttleEvery(2, 40, (request) =>
        ['UpdateItem', 'BatchGetItem', 'TransactWriteItems'].includes(request.operation),
      ),
      transactionConflictNext(4),
    ];
    faults.dynamo.rules.push(...rules);

    try {
      await faults.fetchDay(day);
      await faults.drain();
    } finally {
      for (const rule of rules) faults.dynamo.rules.splice(faults.dynamo.rules.indexOf(rule), 1);
    }

    const injected = (operation: string) =>
      (faults.dynamo.injected[operation] ?? 0) - (injectedBefore[operation] ?? 0);
    expect(injected('BatchGetItem') + injected('UpdateItem')).toBeGreaterThan(3);
    expect(injected('TransactWriteItems')).toBeGreaterThan(4);
    expectNoViolations(await invariant(day, listing));
  });

  it('#12 a per-batch step throttled for one day fails only that day’s records: the others are neither dead-lettered nor half done', async () => {
    const day = '2026-04-07';
    const earlier = '2026-04-05';
    // One response, two days: each batch holds papers of both.
    const listing = [...generateListing(day, 5), ...generateListing(earlier, 5)];
    faults.upstream.script(day, [{ listing }]);
    await faults.fetchDay(day);
    // Every write of the earlier day's record is refused for a while, past the SDK's own retries.
    const rule = throttleNext(
      24,
      (request) =>
        isDayRecordUpdate(request) &&
        (request.json?.Key as { sk?: { S?: string } } | undefined)?.sk?.S === earlier,
    );
    faults.dynamo.rules.push(rule);

    try {
      await faults.drain();
    } finally {
      faults.dynamo.rules.splice(faults.dynamo.rules.indexOf(rule), 1);
    }

    const letters = await deadLetters(faults.stack);
    const unaffected = listing.slice(0, 5).map((item) => item.paper.id);
    expect(
      letters.filter((letter) => unaffected.includes(letter.paperId ?? '')).map((letter) => letter.paperId),
      'papers whose own day was recorded are not dead-lettered',
    ).toEqual([]);
    expectNoViolations(await invariant(day, listing));
  });

  it('a consumer that dies mid-batch after some writes: its messages come back after the visibility timeout and are stored once', async () => {
    const day = '2026-04-08';
    const listing = generateListing(day, 10);
    faults.upstream.script(day, [{ listing }]);
    await faults.fetchDay(day);
    // parse-paper only forwards: the papers reach the table from classify-paper.
    const parsed = await receiveMessages(faults.stack.sqs, parseQueue(), 10);
    await faults.handlers.parsePaper(sqsEvent(parsed, 'parse'), localLambdaContext('parse-paper'));
    await deleteMessages(faults.stack.sqs, parseQueue(), parsed);
    await setVisibilityTimeout(faults.stack.sqs, classifyQueue(), 2);
    try {
      const messages = await receiveMessages(faults.stack.sqs, classifyQueue(), 10);
      expect(messages).toHaveLength(10);
      // The invocation wrote four papers, then its process died: no response, no delete.
      await faults.handlers.classifyPaper(
        sqsEvent(messages.slice(0, 4), 'classify'),
        localLambdaContext('classify-paper'),
      );
      expect((await faults.store.papersListedOn(day, { limit: 100 })).items).toHaveLength(4);
    } finally {
      await setVisibilityTimeout(faults.stack.sqs, classifyQueue(), queues.classify.visibilityTimeoutSeconds);
    }

    const started = Date.now();
    await faults.drain();

    expect(Date.now() - started, 'the drain waited for the visibility timeout').toBeGreaterThanOrEqual(1000);
    expectNoViolations(await invariant(day, listing));
  });

  it('#5 a later fetch whose items lack upvotes and comments keeps the stored ones', async () => {
    const day = '2026-04-09';
    const first = generateListing(day, 6, { upvotes: (index) => index + 7 });
    for (const item of first) item.numComments = 4;
    const later = structuredClone(first);
    for (const item of later) {
      delete item.paper.upvotes;
      delete item.numComments;
    }
    faults.upstream.script(day, [{ listing: first }, { listing: later }]);

    await faults.fetchDay(day);
    await faults.drain();
    await faults.fetchDay(day);
    await faults.drain();

    const record = await faults.store.paperById(first[0]?.paper.id ?? '');
    expect(record?.listings).toEqual([expect.objectContaining({ listedOn: day, upvotes: 7, comments: 4 })]);
    expectNoViolations(await invariant(day, first));
  });

  it('#7 a late classify message from an older capture does not overwrite the newer classification', async () => {
    const day = '2026-04-10';
    const [older] = generateListing(day, 1, { upvotes: () => 3 });
    const base = older as HfItem;
    base.paper.title = 'Jet quenching in heavy-ion collisions';
    base.paper.summary =
      'We measure jet quenching and quark-gluon plasma transport in lead-lead collisions at the LHC, ' +
      'constraining parton energy loss with hadron spectra and QCD perturbative calculations.';
    base.title = base.paper.title;
    const newer = structuredClone(base);
    newer.paper.upvotes = 9;
    newer.paper.title = 'Open-vocabulary object detection and image segmentation';
    newer.paper.summary =
      'We propose a vision transformer for open-vocabulary object detection and semantic image segmentation, ' +
      'trained on COCO and ADE20K images, improving mask accuracy on unseen object categories.';
    newer.title = newer.paper.title;
    const textOf = (item: HfItem) => ({
      title: String(item.paper.title),
      abstract: String(item.paper.summary),
    });
    const expected = classifyPaper(textOf(newer));
    expect(expected.primaryCategory, 'the two captures classify differently').not.toBe(
      classifyPaper(textOf(base)).primaryCategory,
    );
    faults.upstream.script(day, [{ listing: [base] }, { listing: [newer] }]);

    // Both captures are parsed; their classify messages wait.
    for (let capture = 0; capture < 2; capture++) {
      await faults.fetchDay(day);
      const parse = await receiveMessages(faults.stack.sqs, parseQueue(), 1);
      await faults.handlers.parsePaper(sqsEvent(parse, 'parse'), localLambdaContext('parse-paper'));
      await deleteMessages(faults.stack.sqs, parseQueue(), parse);
    }
    const classify = await receiveMessages(faults.stack.sqs, classifyQueue(), 2);
    expect(classify).toHaveLength(2);
    const fetchedAt = (message: (typeof classify)[number]) =>
      String((JSON.parse(message.Body ?? '{}') as { origin: { fetchedAt: string } }).origin.fetchedAt);
    classify.sort((a, b) => fetchedAt(b).localeCompare(fetchedAt(a)));
    // The newer capture's message first, the older one late.
    for (const message of classify) {
      await faults.handlers.classifyPaper(
        sqsEvent([message], 'classify'),
        localLambdaContext('classify-paper'),
      );
    }
    await deleteMessages(faults.stack.sqs, classifyQueue(), classify);
    await faults.drain();

    const record = await faults.store.paperById(base.paper.id);
    expect(record?.primaryCategory).toBe(expected.primaryCategory);
    expectNoViolations(await invariant(day, [newer]));
  });
});
