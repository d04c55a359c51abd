import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FetchListingEnvSchema } from '../../shared/config';
import { buildApp, type CfnResource, referencedLogicalIds } from '../infra/helpers';

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

  it('#14 fetch-listing’s timeout covers its attempts, and an over-budget fetch configuration fails synth', () => {
    const { resources, logicalId } = synthesize();
    const fn = resources[logicalId('fetchListing')]?.Properties as {
      Timeout: number;
      Environment?: { Variables?: Record<string, string> };
    };
    // What the function will run with: its environment as deployed, with the schema's defaults.
    const config = FetchListingEnvSchema.parse({
      PARSE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q',
      TABLE_NAME: 't',
      ARCHIVE_BUCKET: 'b',
      ...Object.fromEntries(
        Object.entries(fn.Environment?.Variables ?? {}).filter(([, value]) => typeof value === 'string'),
      ),
    });
    // A lower bound of one page's worst case: every attempt running to its timeout.
    expect(fn.Timeout * 1000).toBeGreaterThanOrEqual(config.FETCH_MAX_ATTEMPTS * config.FETCH_TIMEOUT_MS);
    // A budget that cannot fit any Lambda timeout (15 minutes) is refused when the app is built.
    expect(() => synthesize({ fetchTimeoutMs: 600_000, fetchMaxAttempts: 10 }).template).toThrow(
      /budget|timeout/i,
    );
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
