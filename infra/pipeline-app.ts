import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PipelineStack, type PipelineStackProps } from './pipeline-stack';

export const STACK_NAME = 'DailyPapersPipeline';

/**
 * The feature flags this app relies on, pinned here rather than taken from
 * `CURRENTLY_RECOMMENDED_FLAGS` so that upgrading aws-cdk-lib cannot change the
 * template behind our back. Tests build the app through {@link createPipelineApp}
 * and so synthesize with the same flags as `cdk synth`.
 */
export const featureFlags = {
  // Grant S3 server access logging through a bucket policy, not the legacy ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
  '@aws-cdk/core:explicitStackTags': true,
} as const;

/** Context keys a deployer may set with `-c key=value` (or in cdk.json / cdk.context.json). */
export const contextKeys = {
  scheduleCron: 'scheduleCron',
  scheduleTimeZone: 'scheduleTimeZone',
  alarmEmail: 'alarmEmail',
  logLevel: 'logLevel',
  listingUrlTemplate: 'listingUrlTemplate',
  userAgent: 'userAgent',
  stackName: 'stackName',
} as const;

function optionalString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new Error(`context "${key}" must be a string; got ${JSON.stringify(value)}`);
  return value;
}

/** Stack settings read from the app's context; unset keys keep the stack's defaults. */
export function settingsFromContext(app: App): PipelineStackProps {
  const settings: Record<string, string | undefined> = {
    scheduleCron: optionalString(app, contextKeys.scheduleCron),
    scheduleTimeZone: optionalString(app, contextKeys.scheduleTimeZone),
    alarmEmail: optionalString(app, contextKeys.alarmEmail),
    logLevel: optionalString(app, contextKeys.logLevel),
    listingUrlTemplate: optionalString(app, contextKeys.listingUrlTemplate),
    userAgent: optionalString(app, contextKeys.userAgent),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/**
 * The CDK app: the pipeline stack, with cdk-nag's AwsSolutions pack as a
 * validation plugin, so every synth (and deploy) fails on an unacknowledged finding.
 */
export function createPipelineApp(props: AppProps = {}): { app: App; stack: PipelineStack } {
  const app = new App({ ...props, context: { ...featureFlags, ...props.context } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new PipelineStack(app, optionalString(app, contextKeys.stackName) ?? STACK_NAME, {
    description:
      'Daily papers pipeline: scheduled fetch, S3 archive, SQS fan-out, parse, classify, DynamoDB, query API',
    ...settingsFromContext(app),
  });
  Tags.of(stack).add('project', 'daily-papers-pipeline');
  return { app, stack };
}
