/**
 * The durable fauxqs: what a killed process held in its queues and its archive bucket
 * is there again when the next one starts. A "kill" here is a second stand-in opened on
 * the same data folder while the first is still running and was never closed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { type DurableFauxqs, startDurableFauxqs } from '../../local/durable-fauxqs';
import { queueDepth } from '../../local/queue-depth';
import { makeS3Client } from '../../shared/aws/s3';
import { makeSqsClient } from '../../shared/aws/sqs';

const dirs: string[] = [];
const running: { fauxqs: DurableFauxqs; sqs: SQSClient }[] = [];
afterEach(async () => {
  for (const { fauxqs, sqs } of running.splice(0)) {
    sqs.destroy();
    await fauxqs.app.close();
    fauxqs.close();
  }
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function start(dataDir: string) {
  const fauxqs = await startDurableFauxqs({ dataDir, archiveBucket: 'archive' });
  await fauxqs.app.listen({ port: 0, host: '127.0.0.1' });
  const address = fauxqs.app.server.address();
  const endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const sqs = makeSqsClient(endpoint);
  running.push({ fauxqs, sqs });
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'work-dlq' }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const work = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'work',
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) },
    }),
  );
  const s3 = makeS3Client(endpoint);
  await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
  const restored = await fauxqs.restore();
  return { fauxqs, sqs, s3, restored, work: work.QueueUrl ?? '', dlq: dlq.QueueUrl ?? '' };
}

const depth = queueDepth;

describe('startDurableFauxqs', () => {
  it('keeps undeleted, in-flight and dead-lettered messages, with their ids, attributes and receive counts', async () => {
    // Prepare: a deleted; b moved to the DLQ by the redrive policy; c in flight; d and e waiting.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'durable-fauxqs-'));
    dirs.push(dataDir);
    const first = await start(dataDir);
    const receive = async (visibility: number) =>
      (
        await first.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: first.work, VisibilityTimeout: visibility }),
        )
      ).Messages?.[0];
    await first.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: first.work,
        Entries: ['a', 'b'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    const a = await receive(60);
    await first.sqs.send(new DeleteMessageCommand({ QueueUrl: first.work, ReceiptHandle: a?.ReceiptHandle }));
    const b = await receive(0);
    expect(await receive(60)).toBeUndefined(); // b's second receive: over maxReceiveCount, to the DLQ
    await first.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: first.work,
        Entries: ['c', 'd'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    await first.sqs.send(
      new SendMessageCommand({
        QueueUrl: first.work,
        MessageBody: 'e',
        MessageAttributes: { Reason: { DataType: 'String', StringValue: 'kept' } },
      }),
    );
    expect((await receive(60))?.Body).toBe('c');
    expect(await depth(first.sqs, first.dlq)).toBe(1);

    // Act: a second stand-in on the same folder, the first never closed.
    const second = await start(dataDir);

    // Assess
    expect(second.restored.messages).toBe(4);
    expect(await depth(second.sqs, second.dlq)).toBe(1);
    expect(await depth(second.sqs, second.work)).toBe(3);
    const dead = await second.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: second.dlq, MessageSystemAttributeNames: ['All'] }),
    );
    expect(dead.Messages?.map((m) => [m.MessageId, m.Body])).toEqual([[b?.MessageId, 'b']]);
    // 2 receives in the work queue, then this one in the DLQ.
    expect(dead.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('3');
    const rest = await second.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: second.work,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    // c was received once before the kill: its receive count came back with it, so this receive
    // is over maxReceiveCount and moves it to the DLQ, as SQS would.
    expect(rest.Messages?.map((m) => m.Body).sort()).toEqual(['d', 'e']);
    expect(await depth(second.sqs, second.dlq)).toBe(2);
    expect(rest.Messages?.find((m) => m.Body === 'e')?.MessageAttributes?.Reason?.StringValue).toBe('kept');
  });

  it('writes an archive object to disk before PutObject answers, and loads it back', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'durable-fauxqs-'));
    dirs.push(dataDir);
    const first = await start(dataDir);
    await first.s3.send(
      new PutObjectCommand({
        Bucket: 'archive',
        Key: 'listings/2026/06/12/abc.json',
        Body: '[1]',
        ContentType: 'application/json',
        Metadata: { 'listed-on': '2026-06-12' },
      }),
    );

    // Assess: on disk as soon as the put answered.
    const file = path.join(dataDir, 'archive', 'listings', '2026', '06', '12', 'abc.json');
    expect(await readFile(file, 'utf8')).toBe('[1]');
    expect(JSON.parse(await readFile(`${file}.meta.json`, 'utf8'))).toEqual({
      contentType: 'application/json',
      metadata: { 'listed-on': '2026-06-12' },
    });
    const second = await start(dataDir);
    expect(second.restored.objects).toBe(1);
    const object = await second.s3.send(
      new GetObjectCommand({ Bucket: 'archive', Key: 'listings/2026/06/12/abc.json' }),
    );
    expect(await object.Body?.transformToString()).toBe('[1]');
    expect(object.Metadata).toEqual({ 'listed-on': '2026-06-12' });
  });
});
