/**
 * `papers dlq`: what sits in the dead-letter queues and why, and sending it back, against
 * the local stand-ins; `--aws --stack` resolves the queues from a CloudFormation stack's
 * outputs (a server on 127.0.0.1 answering the CloudFormation query protocol).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeReason } from '../../local/dead-letters';
import { lambdaDestinationRecord } from '../../local/handlers';
import { queueDepth } from '../../local/queue-depth';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { deadLetterAttributes } from '../../shared/dead-letter';
import type { ParseMessage } from '../../shared/messages';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { LISTINGS_DIR, readListing, startFixtureServer } from '../support/fixture-server';
import { runPapersCli } from '../support/papers-cli';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'papers-dlq-'));
  dirs.push(dir);
  return dir;
}

const depth = (stack: LocalStack, url: string) => queueDepth(stack.sqs, url);

/** A real parse message for the first paper of the 2026-08-03 listing, as fetch-listing writes it. */
async function parseMessageBody(): Promise<{ body: string; paperId: string }> {
  const items = JSON.parse((await readListing('hf-daily-papers-2026-08-03.json')).toString());
  const message: ParseMessage = {
    v: 1,
    listing: {
      archiveKey: 'listings/2026/08/03/seeded.json',
      fetchedAt: '2026-08-03T06:00:00.000Z',
      listedOn: '2026-08-03',
      url: 'https://huggingface.co/api/daily_papers?date=2026-08-03',
    },
    item: { format: 'hf-api', index: 0, raw: items[0] },
  };
  return { body: JSON.stringify(message), paperId: items[0].paper.id };
}

describe('papers dlq on the local stack', () => {
  it('lists each dead letter with its paper or day and its reason without consuming it, then redrives it', async () => {
    // Prepare: a parse message a consumer gave up on (throttled), and a fetch run that fails.
    const dataDir = await tempDataDir();
    const env = {
      ...process.env,
      PAPERS_DATA_DIR: dataDir,
      FETCH_MAX_ATTEMPTS: '1',
      PAPERS_FETCH_RETRY_DELAY_MS: '0',
    };
    const seeded = await parseMessageBody();
    const seeding = await openLocalStack({ dataDir });
    await seeding.sqs.send(
      new SendMessageCommand({
        QueueUrl: seeding.queueUrls.parseDeadLetter,
        MessageBody: seeded.body,
        MessageAttributes: deadLetterAttributes(
          Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
            name: 'ThrottlingException',
          }),
          { sourceQueue: 'parse', receiveCount: 3, now: new Date('2026-08-03T06:01:00Z') },
        ),
      }),
    );
    await seeding.close();
    let upstreamUp = false;
    const good = await readListing('hf-daily-papers-2026-06-12.json');
    const upstream = await startFixtureServer(() =>
      upstreamUp ? { body: good } : { status: 500, body: 'upstream down', contentType: 'text/plain' },
    );
    try {
      // Act: the fetch fails on every invocation Lambda would make.
      const ingest = await runPapersCli(
        ['ingest', '--date', '2026-06-12', '--source', `${upstream.origin}/listing`],
        {
          env,
        },
      );

      // Assess
      expect(ingest.code).toBe(1);
      expect(ingest.stderr).toMatch(/the run failed and was dead-lettered: fetch-listing failed 3 times/);
      expect(upstream.requests).toHaveLength(3);

      // Act: list, twice.
      const listed = await runPapersCli(['dlq', 'list'], { env });
      const again = await runPapersCli(['dlq', 'list', '--queue', 'fetch'], { env });

      // Assess: what and why, and still there.
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/^parse DLQ: 1 message\(s\)\n/);
      expect(listed.stdout).toContain(`paper ${seeded.paperId} listed on 2026-08-03`);
      expect(listed.stdout).toContain(
        'ThrottlingException: Rate of requests exceeds the allowed throughput (dead-lettered by the consumer at 2026-08-03T06:01:00.000Z on receive 3)',
      );
      expect(listed.stdout).toMatch(/classify DLQ: 0 message\(s\)\n/);
      expect(listed.stdout).toMatch(/fetch DLQ: 1 message\(s\)\n {2}\S+ {2}fetch for 2026-06-12 \(/);
      expect(listed.stdout).toMatch(
        /ListingFetchError: .*500.* \(Lambda gave up after 3 invocation\(s\) at /,
      );
      expect(listed.stderr).toContain('a peek');
      expect(again.stdout).toMatch(/^fetch DLQ: 1 message\(s\)\n/);
      expect(again.stdout).not.toContain('parse DLQ');

      // Act: the upstream is fixed; redrive everything.
      upstreamUp = true;
      const redriven = await runPapersCli(['dlq', 'redrive'], { env });

      // Assess: the fetch ran again and its papers are stored, the parse message too; the DLQs are empty.
      expect(redriven.code, redriven.stderr).toBe(0);
      expect(redriven.stderr).toContain('parse: 1 sent back to its queue');
      expect(redriven.stderr).toContain('fetch: 1 run(s) succeeded, 0 failed again');
      const stack = await openLocalStack({ dataDir });
      try {
        const store = new DynamoPaperStore(
          makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
          stack.env.TABLE_NAME ?? '',
        );
        expect((await store.papersListedOn('2026-06-12', { limit: 100 })).items).toHaveLength(30);
        const paper = await store.paperById(seeded.paperId);
        expect(paper?.listings.map((listing) => listing.listedOn)).toEqual(['2026-08-03']);
        for (const url of [
          stack.queueUrls.parseDeadLetter,
          stack.queueUrls.classifyDeadLetter,
          stack.queueUrls.fetchDeadLetter,
          stack.queueUrls.parse,
          stack.queueUrls.classify,
        ]) {
          expect(await depth(stack, url)).toBe(0);
        }
      } finally {
        await stack.close();
      }
    } finally {
      await upstream.close();
    }
  }, 240_000);
});

describe('papers dlq redrive --queue fetch', () => {
  it('ingests a saved file again from its file:// URL: the loopback port it was served on died with its run', async () => {
    // Prepare: the record a failed run of `papers ingest --source FILE` leaves.
    const dataDir = await tempDataDir();
    const file = new URL('hf-daily-papers-2026-08-03.json', LISTINGS_DIR);
    const seeding = await openLocalStack({ dataDir });
    const event = {
      scheduledTime: '2026-08-03T00:00:00Z',
      date: '2026-08-03',
      url: 'http://127.0.0.1:9/hf-daily-papers-2026-08-03.json',
      recordAs: file.href,
    };
    const record = lambdaDestinationRecord(event, new Error('S3 unavailable'), 3);
    await seeding.sqs.send(
      new SendMessageCommand({
        QueueUrl: seeding.queueUrls.fetchDeadLetter,
        MessageBody: JSON.stringify(record),
      }),
    );
    await seeding.close();

    // Act
    const redriven = await runPapersCli(['dlq', 'redrive', '--queue', 'fetch'], {
      env: { ...process.env, PAPERS_DATA_DIR: dataDir },
    });

    // Assess
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stderr).toContain('fetch: 1 run(s) succeeded, 0 failed again');
    const stack = await openLocalStack({ dataDir });
    try {
      const store = new DynamoPaperStore(
        makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
        stack.env.TABLE_NAME ?? '',
      );
      const papers = (await store.papersListedOn('2026-08-03', { limit: 10 })).items;
      expect(papers).toHaveLength(3);
      expect(await depth(stack, stack.queueUrls.fetchDeadLetter)).toBe(0);
    } finally {
      await stack.close();
    }
  }, 120_000);
});

describe('papers dlq --aws --stack NAME', () => {
  it("lists the deployed queues, found through the stack's outputs", async () => {
    // Prepare: the local stand-in plays the deployed SQS; a CloudFormation endpoint names its queues.
    const stack = await openLocalStack({ dataDir: await tempDataDir() });
    const seeded = await parseMessageBody();
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queueUrls.classifyDeadLetter, MessageBody: seeded.body }),
    );
    const requests: string[] = [];
    const outputs: Record<string, string> = {
      ParseDeadLetterQueueUrl: stack.queueUrls.parseDeadLetter,
      ClassifyDeadLetterQueueUrl: stack.queueUrls.classifyDeadLetter,
      FetchDeadLetterQueueUrl: stack.queueUrls.fetchDeadLetter,
      ParseQueueUrl: stack.queueUrls.parse,
      ClassifyQueueUrl: stack.queueUrls.classify,
    };
    const cloudFormation = createServer(async (request: IncomingMessage, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      requests.push(body);
      const name = new URLSearchParams(body).get('StackName');
      const members = Object.entries(
        name === 'papers-old' ? { ParseQueueUrl: outputs.ParseQueueUrl } : outputs,
      )
        .map(
          ([key, value]) =>
            `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`,
        )
        .join('');
      response
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
            `<StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/1</StackId>` +
            `<CreationTime>2026-08-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>` +
            `<Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>` +
            '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>',
        );
    });
    await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
    const env = {
      ...process.env,
      PAPERS_DATA_DIR: await tempDataDir(),
      AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`,
      AWS_ENDPOINT_URL_SQS: stack.env.AWS_ENDPOINT_URL_SQS,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    try {
      // Act
      const listed = await runPapersCli(
        ['dlq', 'list', '--aws', '--stack', 'papers-prod', '--queue', 'classify'],
        {
          env,
        },
      );
      const old = await runPapersCli(['dlq', 'list', '--aws', '--stack', 'papers-old'], { env });

      // Assess
      expect(listed.code, listed.stderr).toBe(0);
      expect(new URLSearchParams(requests[0]).get('Action')).toBe('DescribeStacks');
      expect(new URLSearchParams(requests[0]).get('StackName')).toBe('papers-prod');
      expect(listed.stdout).toContain('classify DLQ: 1 message(s)');
      expect(listed.stdout).toContain(`paper ${seeded.paperId} listed on 2026-08-03`);
      expect(listed.stdout).toContain('moved by the redrive policy after 1 receive(s)');
      expect(old.code).toBe(1);
      expect(old.stderr).toMatch(/stack papers-old has no ParseDeadLetterQueueUrl, .* outputs/);
      expect(old.stderr).not.toMatch(/\n\s+at /);
      expect(await depth(stack, stack.queueUrls.classifyDeadLetter)).toBe(1);
    } finally {
      await new Promise<void>((resolve) => cloudFormation.close(() => resolve()));
      await stack.close();
    }
  }, 120_000);
});

describe('describeReason', () => {
  it('says a message moved by the redrive policy carries no reason, only its receives', () => {
    expect(describeReason({ recordedBy: 'redrive-policy', receiveCount: 4 })).toBe(
      "moved by the redrive policy after 4 receive(s) (this listing's included); no reason recorded: the consumer crashed or timed out",
    );
  });
});

describe.concurrent('papers dlq usage errors', () => {
  it.for([
    [[], /say what to do: list or redrive/],
    [['peek'], /unknown action "peek"/],
    [['list', '--queue', 'scheduler'], /--queue must be one of parse, classify, fetch/],
    [['list', '--aws'], /--aws needs --stack NAME/],
    [['redrive', '--stack', 'x'], /--stack goes with --aws/],
  ] as const)('papers dlq %j exits 2 with the usage', async ([args, message], { expect }) => {
    const outcome = await runPapersCli(['dlq', ...args], {
      env: { ...process.env, PAPERS_DATA_DIR: '/nonexistent/papers' },
    });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.stderr).toContain('usage: npm run -s papers -- dlq list');
  });
});
