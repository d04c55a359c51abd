/**
 * `papers query --aws --stack NAME` against stand-ins on 127.0.0.1: CloudFormation answering
 * DescribeStacks with the stack's `QueryFunctionUrl`, and a Function URL that checks each
 * request's SigV4 signature by signing it again (test/support/sigv4-function-url.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runPapersCli } from '../support/papers-cli';
import { startVerifyingFunctionUrl, type VerifyingFunctionUrl } from '../support/sigv4-function-url';

const KEY = { id: 'AKIDQUERYCLI', secret: 'query-cli-secret-key' };
const DAYS = [
  { day: '2026-07-13', papers: 14, listed: 14 },
  { day: '2026-07-10', papers: 11 },
];

let functionUrl: VerifyingFunctionUrl;
let cloudFormation: Server;
let cloudFormationUrl = '';
const stackRequests: string[] = [];

function describeStacksXml(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(
      ([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`,
    )
    .join('');
  return (
    `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
    `<StackName>${name}</StackName><StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/1</StackId>` +
    `<CreationTime>2026-08-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>` +
    `<Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>` +
    '<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>'
  );
}

beforeAll(async () => {
  functionUrl = await startVerifyingFunctionUrl({
    keys: { [KEY.id]: KEY.secret },
    region: 'eu-west-1',
    answer: (path) =>
      path.startsWith('/days?')
        ? { statusCode: 200, body: { items: DAYS } }
        : { statusCode: 400, body: { error: 'BadRequest', message: 'date: must be a real date YYYY-MM-DD' } },
  });
  cloudFormation = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      stackRequests.push(body);
      const name = new URLSearchParams(body).get('StackName') ?? '';
      const outputs: Record<string, string> =
        name === 'papers-old' ? {} : { QueryFunctionUrl: functionUrl.url };
      response.writeHead(200, { 'content-type': 'text/xml' }).end(describeStacksXml(name, outputs));
    });
  });
  await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
  cloudFormationUrl = `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await functionUrl.close();
  await new Promise<void>((resolve) => cloudFormation.close(() => resolve()));
});

function papers(args: string[], secret = KEY.secret) {
  return runPapersCli(args, {
    env: {
      ...process.env,
      // Never the local stack: a data folder that does not exist would be created if it were opened.
      PAPERS_DATA_DIR: '/nonexistent/papers-query-aws',
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormationUrl,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: KEY.id,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    },
  });
}

describe.concurrent('papers query --aws --stack', () => {
  it('asks the Function URL named by the stack, signed with the caller credentials', async ({ expect }) => {
    const { code, stdout, stderr } = await papers(['query', '--aws', '--stack', 'papers-prod', '--days']);

    expect(code, stderr).toBe(0);
    expect(stdout).toBe(DAYS.map((day) => `${JSON.stringify(day)}\n`).join(''));
    expect(stackRequests.some((body) => new URLSearchParams(body).get('StackName') === 'papers-prod')).toBe(
      true,
    );
    expect(functionUrl.requests).toContainEqual({
      path: '/days?limit=100',
      verified: true,
      reason: undefined,
    });
  });

  it('exits 1 saying what to do when the signature is refused (a wrong secret key)', async ({ expect }) => {
    const { code, stdout, stderr } = await papers(
      ['query', '--aws', '--stack', 'papers-prod', '--days'],
      'wrong',
    );

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "papers query: the query API refused the signed request (403: The request signature we calculated does not match the signature you provided.); attach the stack's QueryApiInvokePolicyArn policy to your role or user, and check the region\n",
    );
  });

  it("passes the API's 400 on as a usage error, and names a stack without the output", async ({ expect }) => {
    const [bad, old] = await Promise.all([
      papers(['query', '--aws', '--stack', 'papers-prod', '--date', '2026-02-30']),
      papers(['query', '--aws', '--stack', 'papers-old', '--days']),
    ]);

    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^papers query: date: must be a real date YYYY-MM-DD\nusage: /);
    expect(old.code).toBe(1);
    expect(old.stderr).toBe(
      'papers: stack papers-old has no QueryFunctionUrl output: deploy the pipeline (npx cdk deploy) first\n',
    );
  });

  it('refuses --aws without --stack, and --stack without --aws', async ({ expect }) => {
    const [noStack, noAws] = await Promise.all([
      papers(['query', '--aws', '--days']),
      papers(['query', '--stack', 'x', '--days']),
    ]);

    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toMatch(/^papers query: --aws needs --stack NAME\n/);
    expect(noAws.code).toBe(2);
    expect(noAws.stderr).toMatch(/^papers query: --stack goes with --aws\n/);
  });
});
