/**
 * `papers backfill --aws` against local HTTP servers that speak the real protocols: CloudFormation's
 * query protocol (DescribeStacks, for the stack's outputs) and Step Functions' JSON protocol
 * (StartExecution, DescribeExecution), as the AWS SDK sends them.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackfillInvocation } from '../../local/commands/backfill';
import { UsageError } from '../../shared/command-line';
import { runPapersCli } from '../support/papers-cli';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Backfill';
const EXECUTION_ARN =
  'arn:aws:states:eu-west-1:123456789012:execution:Backfill:backfill-2026-07-10-2026-07-14-1';

async function bodyOf(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** DescribeStacks: `papers-prod` has the backfill output, `papers-old` predates it. */
const cloudFormation = createServer(async (request, response) => {
  const name = new URLSearchParams(await bodyOf(request)).get('StackName');
  const outputs =
    name === 'papers-prod'
      ? `<member><OutputKey>BackfillStateMachineArn</OutputKey><OutputValue>${STATE_MACHINE_ARN}</OutputValue></member>`
      : '';
  response
    .writeHead(200, { 'content-type': 'text/xml' })
    .end(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
        `<StackName>${name}</StackName><StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/1</StackId>` +
        `<CreationTime>2026-08-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>` +
        `<Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult>` +
        '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>',
    );
});

/** Step Functions (awsJson1_0): the operation in `x-amz-target`, JSON in and out. */
const stepFunctions = createServer(async (request, response) => {
  const operation = String(request.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
  const body = JSON.parse((await bodyOf(request)) || '{}');
  sfnCalls.push({ operation, body });
  const answer = (status: number, json: unknown) =>
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(json));
  if (operation === 'StartExecution')
    return answer(200, { executionArn: EXECUTION_ARN, startDate: 1_780_000_000 });
  if (operation === 'DescribeExecution') {
    const describes = sfnCalls.filter((call) => call.operation === 'DescribeExecution').length;
    const common = {
      executionArn: body.executionArn,
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'backfill-2026-07-10-2026-07-14-1',
      startDate: 1_780_000_000,
      input: '{}',
    };
    if (describes === 1) return answer(200, { ...common, status: 'RUNNING' });
    return answer(200, {
      ...common,
      status: 'SUCCEEDED',
      stopDate: 1_780_000_600,
      output: JSON.stringify({
        days: [],
        results: [
          { day: '2026-07-10', status: 'landed', papers: 11 },
          { day: '2026-07-11', status: 'landed', papers: 0 },
          {
            day: '2026-07-14',
            status: 'failed',
            error: 'ListingFetchError',
            cause: 'GET … failed after 4 attempt(s): HTTP 503',
          },
        ],
      }),
    });
  }
  return answer(400, { __type: 'UnknownOperationException', message: operation });
});
const sfnCalls: { operation: string; body: Record<string, unknown> }[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  env = {
    ...process.env,
    PAPERS_DATA_DIR: '/nonexistent/papers-aws-backfill',
    AWS_ENDPOINT_URL_CLOUDFORMATION: await listen(cloudFormation),
    AWS_ENDPOINT_URL_SFN: await listen(stepFunctions),
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    PAPERS_SFN_POLL_MS: '10',
  };
});

afterAll(async () => {
  for (const server of [cloudFormation, stepFunctions]) await new Promise((resolve) => server.close(resolve));
});

describe('papers backfill --aws', () => {
  it("starts the stack's state machine with one fetch event per day and prints the ARN and console link", async () => {
    // Act
    const started = await runPapersCli(
      [
        'backfill',
        '--aws',
        '--stack',
        'papers-prod',
        '--from',
        '2026-07-10',
        '--to',
        '2026-07-12',
        '--url-template',
        'https://example.org/daily?date={date}',
      ],
      { env },
    );

    // Assess
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toBe(`${EXECUTION_ARN}\n`);
    expect(started.stderr).toContain(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${encodeURIComponent(EXECUTION_ARN)}`,
    );
    const start = sfnCalls.find((call) => call.operation === 'StartExecution');
    expect(start?.body.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(JSON.parse(String(start?.body.input))).toEqual({
      days: ['2026-07-10', '2026-07-11', '2026-07-12'].map((date) => ({
        date,
        url: `https://example.org/daily?date=${date}`,
      })),
    });
  }, 60_000);

  it('with --status, follows the execution until it ends and reports each day, failed ones with their reason', async () => {
    const followed = await runPapersCli(['backfill', '--aws', '--status', EXECUTION_ARN], { env });

    expect(followed.code).toBe(1);
    expect(followed.stderr).toMatch(/backfill RUNNING \(started 2026-05-28T\S+\)\nbackfill SUCCEEDED/);
    expect(followed.stderr).toContain('backfill 2026-07-10: landed, 11 paper(s)');
    expect(followed.stderr).toContain(
      'backfill 2026-07-14: FAILED: ListingFetchError: GET … failed after 4 attempt(s): HTTP 503',
    );
    expect(followed.stderr).toContain('backfill SUCCEEDED: 3 day(s), 2 landed, 1 failed');
    const describes = sfnCalls.filter((call) => call.operation === 'DescribeExecution');
    expect(describes.map((call) => call.body.executionArn)).toEqual([EXECUTION_ARN, EXECUTION_ARN]);
  }, 60_000);

  it('names the missing output of a stack that predates the backfill, without a stack trace', async () => {
    const old = await runPapersCli(
      ['backfill', '--aws', '--stack', 'papers-old', '--from', '2026-07-10', '--to', '2026-07-12'],
      { env },
    );

    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/stack papers-old has no BackfillStateMachineArn output/);
    expect(old.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});

describe('parseBackfillInvocation', () => {
  it.for([
    [['--from', '2026-07-10'], /--to is required/],
    [['--from', '2026-07-12', '--to', '2026-07-10'], /--from 2026-07-12 is after --to 2026-07-10/],
    [
      ['--from', '2023-04-01', '--to', '2023-05-02'],
      /--from: the listing day 2023-04-01 is before 2023-05-01/,
    ],
    [
      ['--from', '2026-07-10', '--to', '2026-07-11', '--concurrency', '9'],
      /--concurrency must be a whole number from 1 to 8/,
    ],
    [
      ['--from', '2026-07-10', '--to', '2026-07-11', '--url-template', 'https://x.org/'],
      /must contain \{date\}/,
    ],
    [['--aws', '--from', '2026-07-10', '--to', '2026-07-11'], /--aws needs --stack NAME/],
    [['--aws', '--status', 'not-an-arn'], /--status must be a Step Functions execution ARN/],
    [
      ['--aws', '--stack', 's', '--from', '2026-07-10', '--to', '2026-07-11', '--refetch'],
      /--refetch is for the local/,
    ],
    [['--stack', 's', '--from', '2026-07-10', '--to', '2026-07-11'], /--stack goes with --aws/],
  ] as const)('refuses %j', ([args, message]) => {
    expect(() => parseBackfillInvocation(args)).toThrow(UsageError);
    expect(() => parseBackfillInvocation(args)).toThrow(message);
  });

  it('reads the three forms', () => {
    expect(parseBackfillInvocation(['--from', '2026-07-10', '--to', '2026-07-11', '--refetch'])).toEqual({
      mode: 'local',
      from: '2026-07-10',
      to: '2026-07-11',
      urlTemplate: undefined,
      concurrency: 2,
      refetch: true,
    });
    expect(parseBackfillInvocation(['--aws', '--status', EXECUTION_ARN])).toEqual({
      mode: 'aws-status',
      executionArn: EXECUTION_ARN,
    });
    expect(
      parseBackfillInvocation(['--aws', '--stack', 'p', '--from', '2026-07-10', '--to', '2026-07-10']),
    ).toEqual({
      mode: 'aws-start',
      stackName: 'p',
      from: '2026-07-10',
      to: '2026-07-10',
      urlTemplate: undefined,
    });
  });

  it('on the command line, a mistake exits 2 with the usage', async () => {
    const outcome = await runPapersCli(['backfill', '--from', '2026-07-10'], {
      env: { ...process.env, PAPERS_DATA_DIR: '/nonexistent/papers' },
    });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/papers backfill: --to is required/);
    expect(outcome.stderr).toContain('usage: npm run -s papers -- backfill --from');
  }, 60_000);
});
