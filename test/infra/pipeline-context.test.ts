/**
 * The deployer's `-c key=value` context: every value checked in one place,
 * a bad one reported as one line naming the key, what it expects and what was
 * given, and `cdk synth` failing on it without a stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { POWERTOOLS_LOG_LEVELS, readPipelineContext } from '../../infra/pipeline-app';
import { PROJECT_ROOT } from '../support/papers-cli';
import { buildApp, resourceByPrefix } from './helpers';

const contextOf = (context: Record<string, unknown>) => readPipelineContext(new App({ context }));

/** The app built with `context`: its template, and the errors on its stack as `cdk synth` prints them. */
function buildWithErrors(context: Record<string, unknown>): { template: Template; errors: string[] } {
  const { stack } = buildApp(context);
  const errors = Annotations.fromStack(stack)
    .findError('*', Match.anyValue())
    .map((error) => String(error.entry.data));
  return { template: Template.fromStack(stack), errors };
}

/** POWERTOOLS_LOG_LEVEL of the fetch function, as every function gets the same. */
function functionLogLevel(template: Template): unknown {
  const [, fetchListing] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
  return (fetchListing.Properties.Environment as { Variables: Record<string, unknown> }).Variables
    .POWERTOOLS_LOG_LEVEL;
}

describe('readPipelineContext', () => {
  it('passes good values through and leaves unset, empty and null ones to the defaults', () => {
    const good = {
      scheduleCron: 'cron(15 6 ? * MON-FRI *)',
      scheduleTimeZone: 'Europe/Paris',
      alarmEmail: 'ops@example.org',
      logLevel: 'DEBUG',
      listingUrlTemplate: 'https://example.org/papers?date={date}',
      userAgent: 'tester/1.0',
      stackName: 'PapersStaging',
    };

    expect(contextOf(good)).toEqual({ context: good, problems: [] });
    expect(contextOf({ logLevel: '', alarmEmail: null })).toEqual({ context: {}, problems: [] });
  });

  it('reads queryReservedConcurrency as a whole number, given as text (-c) or as a number (cdk.json)', () => {
    expect(contextOf({ queryReservedConcurrency: '25' })).toEqual({
      context: { queryReservedConcurrency: 25 },
      problems: [],
    });
    expect(contextOf({ queryReservedConcurrency: 4 }).context).toEqual({ queryReservedConcurrency: 4 });
  });

  it('reads publicFront as true or false (-c text or a cdk.json boolean) and publicFrontRateLimit as a number', () => {
    expect(contextOf({ publicFront: 'true', publicFrontRateLimit: '300' })).toEqual({
      context: { publicFront: true, publicFrontRateLimit: 300 },
      problems: [],
    });
    expect(contextOf({ publicFront: false }).context).toEqual({ publicFront: false });
  });

  it.each([
    ['publicFront', 'yes', 'must be true or false; got "yes"'],
    [
      'publicFrontRateLimit',
      '5',
      'must be a whole number of requests per IP per 5 minutes from 10 to 2000000000; got "5"',
    ],
  ])('refuses %s=%j', (key, value, expected) => {
    expect(contextOf({ [key]: value }).problems).toEqual([`context "${key}" ${expected}`]);
  });

  it('reads queryCorsAllowedOrigins as * or a list of origins', () => {
    expect(contextOf({ queryCorsAllowedOrigins: 'https://a.example.com, http://localhost:5173' })).toEqual({
      context: { queryCorsAllowedOrigins: ['https://a.example.com', 'http://localhost:5173'] },
      problems: [],
    });
    expect(contextOf({ queryCorsAllowedOrigins: '*' }).context).toEqual({ queryCorsAllowedOrigins: '*' });
  });

  it.each(['a.example.com', 'https://a.example.com/app', 'ftp://a.example.com'])(
    'refuses queryCorsAllowedOrigins=%j',
    (value) => {
      expect(contextOf({ queryCorsAllowedOrigins: value }).problems).toEqual([
        `context "queryCorsAllowedOrigins" must be * or origins such as https://app.example.com separated by commas; got ${JSON.stringify(value)}`,
      ]);
    },
  );

  it('reads arxivApiUrl as an http(s) URL, and puts it in fetch-listing’s environment', () => {
    expect(contextOf({ arxivApiUrl: 'https://arxiv.example.org/api/query' }).context).toEqual({
      arxivApiUrl: 'https://arxiv.example.org/api/query',
    });
    expect(contextOf({ arxivApiUrl: 'export.arxiv.org' }).problems).toEqual([
      'context "arxivApiUrl" must be an http(s) URL; got "export.arxiv.org"',
    ]);
    const { template } = buildWithErrors({ arxivApiUrl: 'https://arxiv.example.org/api/query' });
    const [, fetchListing] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    expect(
      (fetchListing.Properties.Environment as { Variables: Record<string, unknown> }).Variables.ARXIV_API_URL,
    ).toBe('https://arxiv.example.org/api/query');
  });

  it.each(['0', '-1', '2.5', 'ten', '1001', ' 7'])('refuses queryReservedConcurrency=%j', (value) => {
    expect(contextOf({ queryReservedConcurrency: value }).problems).toEqual([
      `context "queryReservedConcurrency" must be a whole number from 1 to 1000; got ${JSON.stringify(value)}`,
    ]);
  });

  it('accepts exactly the log levels of Powertools', () => {
    expect(POWERTOOLS_LOG_LEVELS).toEqual(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']);
    for (const logLevel of POWERTOOLS_LOG_LEVELS) expect(contextOf({ logLevel }).problems).toEqual([]);
  });

  it.each([
    ['logLevel', 'LOUD', 'must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT; got "LOUD"'],
    ['logLevel', 'debug', 'must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT; got "debug"'],
    ['alarmEmail', 'notanemail', 'must be an e-mail address; got "notanemail"'],
    [
      'scheduleCron',
      '30 23 * * *',
      'must be an EventBridge Scheduler cron expression with six fields, e.g. "cron(30 23 * * ? *)"; got "30 23 * * *"',
    ],
    [
      'scheduleTimeZone',
      'Mars/Olympus',
      'must be an IANA time zone such as "Europe/Paris"; got "Mars/Olympus"',
    ],
    [
      'listingUrlTemplate',
      'https://example.org/papers',
      'must be an http(s) URL containing {date}; got "https://example.org/papers"',
    ],
    [
      'listingUrlTemplate',
      'example.org/{date}',
      'must be an http(s) URL containing {date}; got "example.org/{date}"',
    ],
    ['userAgent', '   ', 'must not be blank; got "   "'],
    [
      'stackName',
      'my_stack',
      'must be a CloudFormation stack name (a letter, then letters, digits and hyphens); got "my_stack"',
    ],
    ['alarmEmail', 42, 'must be a string; got 42'],
  ])('refuses %s=%j, naming the key and what it expects', (key, value, expected) => {
    expect(contextOf({ [key]: value }).problems).toEqual([`context "${key}" ${expected}`]);
  });

  it('reports every bad value and keeps the good ones', () => {
    const { context, problems } = contextOf({
      logLevel: 'LOUD',
      alarmEmail: 'notanemail',
      userAgent: 'ok/1',
    });

    expect(problems).toEqual([
      expect.stringMatching(/^context "alarmEmail" /),
      expect.stringMatching(/^context "logLevel" /),
    ]);
    expect(context).toEqual({ userAgent: 'ok/1' });
  });
});

describe('readPipelineContext with keys it does not read', () => {
  it('refuses a misspelled key, naming the key meant and listing the known ones', () => {
    const { context, problems } = contextOf({ alarmemail: 'ops@example.org', loglevel: 'DEBUG' });

    const known =
      'known keys: scheduleCron, scheduleTimeZone, alarmEmail, logLevel, listingUrlTemplate, userAgent, arxivApiUrl, queryReservedConcurrency, revisitDays, queryCorsAllowedOrigins, publicFront, publicFrontRateLimit, stackName';
    expect(problems).toEqual([
      `context key "alarmemail" is not one this app reads (did you mean "alarmEmail"?); ${known}`,
      `context key "loglevel" is not one this app reads (did you mean "logLevel"?); ${known}`,
    ]);
    expect(context).toEqual({});
  });

  it('refuses a key it knows nothing like, and still checks the known ones', () => {
    const { problems } = contextOf({ retries: '3', logLevel: 'LOUD' });

    expect(problems).toEqual([
      expect.stringMatching(/^context key "retries" is not one this app reads; known keys: scheduleCron, /),
      expect.stringMatching(/^context "logLevel" must be one of /),
    ]);
  });

  it("lets the CDK's own keys through: feature flags, framework and CLI settings, cached lookups", () => {
    const cdkKeys = {
      '@aws-cdk/core:target-partitions': ['aws', 'aws-cn'],
      '@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver': true,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:bundling-stacks': [],
      'cli-telemetry': false,
      'acknowledged-issue-numbers': [32775],
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
    };

    expect(contextOf(cdkKeys)).toEqual({ context: {}, problems: [] });
  });
});

describe('createPipelineApp with bad context', () => {
  it('puts one error per bad value on the stack, and builds it with the defaults instead', () => {
    const { template, errors } = buildWithErrors({ logLevel: 'LOUD', alarmEmail: 'notanemail' });

    expect(errors.sort()).toEqual([
      'context "alarmEmail" must be an e-mail address; got "notanemail"',
      expect.stringMatching(/^context "logLevel" must be one of .*; got "LOUD"$/),
    ]);
    expect(functionLogLevel(template)).toBe('INFO');
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('puts no error on the stack for good values, and uses them', () => {
    const { template, errors } = buildWithErrors({ logLevel: 'DEBUG', alarmEmail: 'ops@example.org' });

    expect(errors).toEqual([]);
    expect(functionLogLevel(template)).toBe('DEBUG');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.org',
    });
  });
});

/** Runs the CDK CLI from the project root, as a deployer would. */
function runCdk(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'node_modules/.bin/cdk',
      args,
      { cwd: PROJECT_ROOT, env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
    );
  });
}

describe('npx cdk synth with bad context', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'pipeline-bad-context-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('prints one line per bad value, no stack trace, and exits non-zero', async () => {
    const args = ['synth', '--quiet', '-o', outdir, '-c', 'logLevel=LOUD', '-c', 'alarmEmail=notanemail'];

    const { code, output } = await runCdk(args);

    expect(code).not.toBe(0);
    expect(output).toContain(
      'context "logLevel" must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT; got "LOUD"',
    );
    expect(output).toContain('context "alarmEmail" must be an e-mail address; got "notanemail"');
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toMatch(/Bundling asset/);
  }, 120_000);

  it('fails on a misspelled key with the list of known keys', async () => {
    const args = [
      'synth',
      '--quiet',
      '-o',
      outdir,
      '-c',
      'alarmemail=ops@example.org',
      '-c',
      'loglevel=DEBUG',
    ];

    const { code, output } = await runCdk(args);

    expect(code).not.toBe(0);
    expect(output).toMatch(
      /context key "alarmemail" is not one this app reads \(did you mean "alarmEmail"\?\); known keys: scheduleCron, .*stackName/,
    );
    expect(output).toContain('context key "loglevel" is not one this app reads (did you mean "logLevel"?)');
    expect(output).not.toMatch(/Bundling asset/);
  }, 120_000);
});
