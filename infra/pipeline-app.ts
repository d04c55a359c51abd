import { readFileSync } from 'node:fs';
import { LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { Annotations, App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as z from 'zod';
import { FetchListingEnvSchema } from '../shared/config';
import { MAX_REVISIT_DAYS } from '../shared/messages';
import { AllowedOriginsSchema } from '../shared/query/cors';
import {
  isScheduleCron,
  isScheduleTimeZone,
  MAX_QUERY_RESERVED_CONCURRENCY,
  PipelineStack,
  type PipelineStackProps,
  SCHEDULE_CRON_EXPECTED,
  SCHEDULE_TIME_ZONE_EXPECTED,
} from './pipeline-stack';
import { PUBLIC_FRONT_RATE_LIMIT_MAX, PUBLIC_FRONT_RATE_LIMIT_MIN, WEB_ACL_REGION } from './public-front';

export const STACK_NAME = 'DailyPapersPipeline';

/**
 * The feature flags of this app: the `@aws-cdk…` keys of cdk.json's context, set as `cdk init` of
 * this aws-cdk-lib version sets them (its `recommended-feature-flags.json`). They are pinned in
 * cdk.json rather than taken from `CURRENTLY_RECOMMENDED_FLAGS`, so that upgrading aws-cdk-lib
 * cannot change the template behind our back, and read here as well, so that tests, which build
 * the app through {@link createPipelineApp} without the CDK CLI, synthesize with the same flags as
 * `cdk synth`.
 *
 * One departs from the recommendation: `@aws-cdk/core:annotationsInValidationReport` is false.
 * Set, it turns the error annotations that carry bad context values into a validation failure
 * thrown from `app.synth()`, printed with the source line that recorded them: the tests that read
 * those errors off the stack could no longer do so, and `cdk synth` would print a line of this
 * file above each error. Every other flag leaves the template as it was, but for the CDKMetadata
 * resource's analytics string (and the bundles are byte for byte the same).
 */
export const featureFlags: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(
    z
      .object({ context: z.record(z.string(), z.unknown()) })
      .parse(JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8'))).context,
  ).filter(([key]) => isFeatureFlag(key)),
);

function isFeatureFlag(key: string): boolean {
  return key.startsWith('@aws-cdk/') || key.startsWith('@aws-cdk-containers/');
}

/**
 * Context keys that belong to the CDK rather than to this app: feature flags, the CLI's and the
 * framework's own settings (`aws:cdk:…`, `cli-telemetry`, `acknowledged-issue-numbers`) and the
 * lookups cached in cdk.context.json, whose keys are `provider:query` (`availability-zones:account=…`).
 */
function isCdkContextKey(key: string): boolean {
  return (
    isFeatureFlag(key) ||
    key.includes(':') ||
    ['cli-telemetry', 'acknowledged-issue-numbers', 'notices'].includes(key)
  );
}

/** The levels Powertools' logger knows, least severe first: anything else it would silently read as INFO. */
export const POWERTOOLS_LOG_LEVELS = Object.entries(LogLevelThreshold)
  .sort(([, a], [, b]) => a - b)
  .map(([level]) => level);

/** The check fetch-listing makes of its template at cold start, plus: it must make an http(s) URL. */
function acceptedListingUrlTemplate(template: string): boolean {
  const listingUrlTemplate = FetchListingEnvSchema.shape.LISTING_URL_TEMPLATE.unwrap();
  const url = template.replaceAll('{date}', '2026-06-12');
  return (
    listingUrlTemplate.safeParse(template).success &&
    URL.canParse(url) &&
    ['http:', 'https:'].includes(new URL(url).protocol)
  );
}

/** A context value is text; unset, empty and null all leave the stack's default. */
function contextText(check: z.ZodType<string, string>) {
  return z.preprocess(
    (value) => (value === '' || value === null ? undefined : value),
    z.string({ error: 'must be a string' }).pipe(check).optional(),
  );
}

const REVISIT_DAYS_EXPECTED = `must be a whole number of days from 0 to ${MAX_REVISIT_DAYS}`;
const PUBLIC_FRONT_RATE_LIMIT_EXPECTED = `must be a whole number of requests per IP per 5 minutes from ${PUBLIC_FRONT_RATE_LIMIT_MIN} to ${PUBLIC_FRONT_RATE_LIMIT_MAX}`;
const RESERVED_CONCURRENCY_EXPECTED = `must be a whole number from 1 to ${MAX_QUERY_RESERVED_CONCURRENCY}`;

/**
 * Every context key a deployer may set with `-c key=value` (or in cdk.json /
 * cdk.context.json), checked in one place before anything is built. Each
 * message says what the key expects; {@link readPipelineContext} puts the key
 * and the value given around it.
 */
export const PipelineContextSchema = z.object({
  scheduleCron: contextText(z.string().refine(isScheduleCron, `must be ${SCHEDULE_CRON_EXPECTED}`)),
  scheduleTimeZone: contextText(
    z.string().refine(isScheduleTimeZone, `must be ${SCHEDULE_TIME_ZONE_EXPECTED}`),
  ),
  alarmEmail: contextText(z.email({ error: 'must be an e-mail address' })),
  logLevel: contextText(
    z.enum(POWERTOOLS_LOG_LEVELS, { error: `must be one of ${POWERTOOLS_LOG_LEVELS.join(', ')}` }),
  ),
  listingUrlTemplate: contextText(
    z.string().refine(acceptedListingUrlTemplate, 'must be an http(s) URL containing {date}'),
  ),
  userAgent: contextText(z.string().trim().min(1, 'must not be blank')),
  /** The arXiv export API enrichment asks (`ARXIV_API_URL`); default `http://export.arxiv.org/api/query`. */
  arxivApiUrl: contextText(
    z.string().refine((url) => /^https?:\/\//.test(url) && URL.canParse(url), 'must be an http(s) URL'),
  ),
  queryReservedConcurrency: z.preprocess(
    (value) => (value === '' || value === null ? undefined : value),
    z
      .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], {
        error: RESERVED_CONCURRENCY_EXPECTED,
      })
      .pipe(
        z
          .number()
          .int({ error: RESERVED_CONCURRENCY_EXPECTED })
          .min(1, { error: RESERVED_CONCURRENCY_EXPECTED })
          .max(MAX_QUERY_RESERVED_CONCURRENCY, { error: RESERVED_CONCURRENCY_EXPECTED }),
      )
      .optional(),
  ),
  revisitDays: z.preprocess(
    (value) => (value === '' || value === null ? undefined : value),
    z
      .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], { error: REVISIT_DAYS_EXPECTED })
      .pipe(
        z
          .number()
          .int({ error: REVISIT_DAYS_EXPECTED })
          .min(0, { error: REVISIT_DAYS_EXPECTED })
          .max(MAX_REVISIT_DAYS, { error: REVISIT_DAYS_EXPECTED }),
      )
      .optional(),
  ),
  queryCorsAllowedOrigins: contextText(z.string()).pipe(
    z.union([z.undefined(), AllowedOriginsSchema], {
      error: 'must be * or origins such as https://app.example.com separated by commas',
    }),
  ),
  publicFront: z.preprocess(
    (value) => (value === '' || value === null ? undefined : value),
    z
      .union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')], {
        error: 'must be true or false',
      })
      .optional(),
  ),
  publicFrontRateLimit: z.preprocess(
    (value) => (value === '' || value === null ? undefined : value),
    z
      .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], {
        error: PUBLIC_FRONT_RATE_LIMIT_EXPECTED,
      })
      .pipe(
        z
          .number()
          .int({ error: PUBLIC_FRONT_RATE_LIMIT_EXPECTED })
          .min(PUBLIC_FRONT_RATE_LIMIT_MIN, { error: PUBLIC_FRONT_RATE_LIMIT_EXPECTED })
          .max(PUBLIC_FRONT_RATE_LIMIT_MAX, { error: PUBLIC_FRONT_RATE_LIMIT_EXPECTED }),
      )
      .optional(),
  ),
  stackName: contextText(
    z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
        'must be a CloudFormation stack name (a letter, then letters, digits and hyphens)',
      ),
  ),
});
export type PipelineContext = z.infer<typeof PipelineContextSchema>;

/**
 * The app's context values, checked: the values that pass, and one line per
 * problem: a value that fails its check, such as `context "logLevel" must be
 * one of …; got "LOUD"`, or a key that is neither this app's nor the CDK's
 * (`-c alarmemail=…`), which would otherwise leave its setting at the default
 * without a word.
 */
export function readPipelineContext(app: App): { context: PipelineContext; problems: string[] } {
  const knownKeys = Object.keys(PipelineContextSchema.shape);
  const unknownKeys = Object.keys(app.node.getAllContext()).filter(
    (key) => !knownKeys.includes(key) && !isCdkContextKey(key),
  );
  const keyProblems = unknownKeys.map((key) => {
    const meant = knownKeys.find((known) => known.toLowerCase() === key.toLowerCase());
    return (
      `context key "${key}" is not one this app reads${meant ? ` (did you mean "${meant}"?)` : ''}; ` +
      `known keys: ${knownKeys.join(', ')}`
    );
  });
  const given: Record<string, unknown> = Object.fromEntries(
    knownKeys.map((key) => [key, app.node.tryGetContext(key)]),
  );
  const result = PipelineContextSchema.safeParse(given);
  if (result.success) return { context: result.data, problems: keyProblems };
  const valueProblems = new Map<string, string>();
  for (const issue of result.error.issues) {
    const key = String(issue.path[0]);
    if (!valueProblems.has(key))
      valueProblems.set(key, `context "${key}" ${issue.message}; got ${JSON.stringify(given[key])}`);
  }
  // Without the values that failed, the rest passes: the stack can still be built, to carry the errors.
  const context = PipelineContextSchema.parse(
    Object.fromEntries(Object.entries(given).filter(([key]) => !valueProblems.has(key))),
  );
  return { context, problems: [...keyProblems, ...valueProblems.values()] };
}

/**
 * A rate limit without the front it limits is a mistake worth saying. And the stack is environment-agnostic, so `cdk deploy` puts it in the CLI's region, which the CLI
 * passes to the app as CDK_DEFAULT_REGION: with the public front on, that must be us-east-1, the
 * only region with CLOUDFRONT-scoped web ACLs. (Without a region, the template's own rule refuses
 * a deployment elsewhere.)
 */
function publicFrontProblems(context: PipelineContext): string[] {
  if (!context.publicFront && context.publicFrontRateLimit !== undefined) {
    return ['context "publicFrontRateLimit" is set but "publicFront" is not true: it would have no effect'];
  }
  const region = process.env.CDK_DEFAULT_REGION;
  if (!context.publicFront || region === undefined || region === '' || region === WEB_ACL_REGION) return [];
  return [
    `context "publicFront" needs the stack in ${WEB_ACL_REGION} (its CLOUDFRONT-scoped WAF web ACL exists only there), ` +
      `but the region is ${region}: run with AWS_REGION=${WEB_ACL_REGION} (or a profile in ${WEB_ACL_REGION}), or leave publicFront off`,
  ];
}

/** Stack settings from checked context; unset keys keep the stack's defaults. */
export function settingsFromContext(context: PipelineContext): PipelineStackProps {
  const { stackName: _stackName, ...settings } = context;
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/**
 * The CDK app: the pipeline stack, with cdk-nag's AwsSolutions pack as a
 * validation plugin, so every synth (and deploy) fails on an unacknowledged finding.
 *
 * A context value that fails its check is reported as an error annotation on
 * the stack, which the stack is built without: `cdk synth` prints each one as a
 * line and exits 1, and `cdk deploy` refuses, with no stack trace (the entry,
 * `infra/app.ts`, has nothing to catch a throw with, and the CDK CLI would
 * print Node's trace of it).
 */
export function createPipelineApp(props: AppProps = {}): { app: App; stack: PipelineStack } {
  const app = new App({ ...props, context: { ...featureFlags, ...props.context } });
  const { context, problems: contextProblems } = readPipelineContext(app);
  const problems = [...contextProblems, ...publicFrontProblems(context)];
  if (problems.length > 0) {
    // Nothing will be deployed: spare the four esbuild runs, so the errors come at once, and
    // leave out where in this file they were recorded, which says nothing about the value.
    app.node.setContext(cxapi.BUNDLING_STACKS, []);
    app.node.setContext(cxapi.DISABLE_METADATA_STACK_TRACE, true);
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new PipelineStack(app, context.stackName ?? STACK_NAME, {
    description:
      'Daily papers pipeline: scheduled fetch, S3 archive, SQS fan-out, parse, classify, DynamoDB, query API',
    ...settingsFromContext(context),
  });
  for (const problem of problems) Annotations.of(stack).addError(problem);
  Tags.of(stack).add('project', 'daily-papers-pipeline');
  return { app, stack };
}
