import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { featureFlags } from '../../infra/pipeline-app';
import { PipelineStack } from '../../infra/pipeline-stack';
import { FetchListingEnvSchema } from '../../shared/config';
import { buildApp, type CfnResource, referencedLogicalIds, SKIP_BUNDLING } from '../infra/helpers';

/**
 * The defects that live in the deployed configuration, checked on the
 * synthesized template (what CloudFormation would deploy), not on constants.
 */

function synthesize(context: Record<string, unknown> = {}) {
  const { stack } = buildApp(context);
  const template = Template.fromStack(stack);
  const logicalId = (name: keyof typeof stack.functions) =>
    stack.getLogicalId(stack.functions[name].fn.node.defaultChild as CfnElement);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  return { template, resources, logicalId };
}

describe('deployed configuration', () => {
  it('#2 a failed fetch-listing run is retried, then dead-lettered to a queue that is alarmed', () => {
    const { resources, logicalId } = synthesize();
    const fetchId = logicalId('fetchListing');
    const invokeConfigs = Object.values(resources).filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::EventInvokeConfig' &&
        referencedLogicalIds(resource.Properties.FunctionName).includes(fetchId),
    );
    expect(invokeConfigs, 'fetch-listing has an async invocation config').toHaveLength(1);
    const config = invokeConfigs[0]?.Properties as {
      MaximumRetryAttempts?: number;
      MaximumEventAgeInSeconds?: number;
      DestinationConfig?: { OnFailure?: { Destination?: unknown } };
    };
    expect(config.MaximumRetryAttempts).toBe(2);
    expect(config.MaximumEventAgeInSeconds).toBeGreaterThan(0);
    const [queueId] = referencedLogicalIds(config.DestinationConfig?.OnFailure?.Destination);
    expect(resources[queueId ?? '']?.Type, 'the on-failure destination is a queue').toBe('AWS::SQS::Queue');
    const alarms = Object.values(resources).filter(
      (resource) =>
        resource.Type === 'AWS::CloudWatch::Alarm' &&
        referencedLogicalIds(resource.Properties.Dimensions).includes(queueId ?? ''),
    );
    expect(alarms.length, 'an alarm watches the fetch dead-letter queue').toBeGreaterThan(0);
  });

  it('#14 fetch-listing’s worst-case run fits in its timeout, and an over-budget configuration fails synth', () => {
    const { resources, logicalId } = synthesize();
    const fn = resources[logicalId('fetchListing')]?.Properties as {
      Timeout: number;
      Environment?: { Variables?: Record<string, unknown> };
    };
    // What the function will run with: its environment as deployed, with the schema's defaults.
    const config: Record<string, unknown> = FetchListingEnvSchema.parse({
      PARSE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q',
      TABLE_NAME: 't',
      ARCHIVE_BUCKET: 'b',
      ...Object.fromEntries(
        Object.entries(fn.Environment?.Variables ?? {}).filter(([, value]) => typeof value === 'string'),
      ),
    });
    const setting = (name: string, fallback: number) => Number(config[name] ?? fallback);
    // The worst case: every page, every attempt to its timeout, the longest wait between attempts.
    // Without a setting, the fetch code's own bound applies (20 pages, waits of up to 30 s).
    const attempts = setting('FETCH_MAX_ATTEMPTS', 4);
    const pages = setting('FETCH_MAX_PAGES', 20);
    const worstCaseMs =
      pages *
        (attempts * setting('FETCH_TIMEOUT_MS', 15_000) +
          (attempts - 1) * setting('FETCH_BACKOFF_MAX_MS', 30_000)) +
      (pages - 1) * setting('FETCH_PAGE_DELAY_MS', 1_000);
    expect(worstCaseMs, `worst case ${worstCaseMs} ms`).toBeLessThanOrEqual(fn.Timeout * 1000);
    expect(fn.Timeout).toBeLessThanOrEqual(15 * 60);
    // Settings whose worst case cannot fit in any Lambda timeout are refused when the stack is built.
    const tooPatient = {
      logLevel: 'INFO' as const,
      fetchRun: { FETCH_TIMEOUT_MS: 600_000, FETCH_MAX_ATTEMPTS: 10 },
    };
    expect(
      () =>
        new PipelineStack(
          new App({ context: { ...featureFlags, ...SKIP_BUNDLING } }),
          'TooPatient',
          tooPatient,
        ),
    ).toThrow(/budget|timeout/i);
  });

  it('#15 the query function has a reserved concurrency, set by context', () => {
    const reserved = (synth: ReturnType<typeof synthesize>, name: 'query' | 'parsePaper') => {
      const properties = synth.resources[synth.logicalId(name)]?.Properties ?? {};
      return properties.ReservedConcurrentExecutions;
    };
    const defaults = synthesize();
    expect(reserved(defaults, 'query')).toBeGreaterThan(0);
    expect(reserved(synthesize({ queryReservedConcurrency: 7 }), 'query')).toBe(7);
    // The consumers are not capped by the query's bound.
    expect(reserved(defaults, 'parsePaper')).toBeUndefined();
  });
});
