import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type ICommandHooks,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../shared/telemetry';
import type * as z from '../shared/zod';
import {
  bundleOptions,
  classifierModel,
  type FunctionName,
  functionEntries,
  webPageAssets,
} from './bundling';

/** The repository root: entries, the lockfile and the classifier's model are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Variables the construct sets on every function, on top of the function's own schema. */
const sharedVariables = [
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'NODE_OPTIONS',
];

export class FunctionEnvironmentError extends Error {
  override name = 'FunctionEnvironmentError';
}

/**
 * Checks at synth time the environment a function will get against the schema
 * the function checks at cold start, so a missing or misspelt variable fails
 * `cdk synth` instead of the first invocation.
 *
 * - A literal value must satisfy its field's schema.
 * - A token (a queue URL, a table name) is resolved only at deploy time: it must
 *   be present, its value is the resource's and is not checked here.
 * - A field the schema requires and the environment lacks is an error; one with
 *   a default or marked optional may be left out.
 * - A variable the schema does not know is an error (a typo would otherwise be
 *   silently ignored and the default used), except the construct's own
 *   Powertools and Node variables.
 * - `AWS_ENDPOINT_URL_*` points the clients at the local stand-ins and must never be set on AWS.
 *
 * @throws FunctionEnvironmentError naming every offending variable.
 */
export function checkFunctionEnvironment(
  functionName: string,
  schema: z.ZodMiniObject,
  environment: Readonly<Record<string, string>>,
): void {
  const problems: string[] = [];
  const shape = schema.shape as Record<string, z.ZodMiniType>;
  for (const [key, field] of Object.entries(shape)) {
    const value = environment[key];
    if (key.startsWith('AWS_ENDPOINT_URL_')) {
      if (value !== undefined) problems.push(`${key}: local-only, must not be set on AWS`);
      continue;
    }
    if (value !== undefined && Token.isUnresolved(value)) continue;
    const result = field.safeParse(value);
    if (!result.success) {
      problems.push(`${key}: ${result.error.issues.map((issue) => issue.message).join('; ')}`);
    }
  }
  for (const key of Object.keys(environment)) {
    if (!(key in shape) && !sharedVariables.includes(key)) {
      problems.push(`${key}: not in the function's environment schema`);
    }
  }
  if (problems.length > 0) {
    throw new FunctionEnvironmentError(`${functionName}: invalid environment: ${problems.join(', ')}`);
  }
}

export interface PipelineFunctionProps {
  /** The service name: picks the entry in `functionEntries` and names the Powertools service. */
  readonly name: FunctionName;
  readonly description: string;
  /** The schema the handler parses its environment with (`shared/config.ts`). */
  readonly environmentSchema: z.ZodMiniObject;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  /** @default 512 (MB): on ARM64 this buys CPU for a faster cold start at a negligible cost. */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** `POWERTOOLS_LOG_LEVEL`. @default 'INFO' */
  readonly logLevel?: string;
  /** Concurrent executions set aside for (and the most allowed to) this function. @default - none: the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Set `NODE_OPTIONS=--enable-source-maps`, so stack traces in the logs name the TypeScript
   * sources. Node 24 (this runtime) then reads and parses the bundle's whole `.map` at the first
   * stack trace through the bundle, not at load (measured with Node 24.22; Node 20 parsed it at
   * load, at every cold start): the first logged error of each instance pays for it (the parse
   * Node 20 did at load, `bundle.query.sourceMapInitMs`: 15-26 ms for the query function's map).
   * Off, the map is still in the deployment package, and a logged `index.mjs:LINE:COLUMN` maps
   * back with it (README, "Stack traces"). @default false
   */
  readonly sourceMapsAtRuntime?: boolean;
  /** Copy the classifier's committed model next to the bundle as `model/`. */
  readonly includeClassifierModel?: boolean;
  /** Copy the query API's web page (HTML, CSS, JS) next to the bundle as `web/`. */
  readonly includeWebPage?: boolean;
}

/**
 * One Lambda function of the pipeline with every default the functions share,
 * owned here once: Node 24 on ARM64, an ESM bundle built by local esbuild
 * (never Docker) with the options in `infra/bundling.ts`, source maps beside it, X-Ray
 * tracing, Powertools' service name, namespace and log level, an explicit log
 * group with a retention, and a role of its own that can only write to that
 * log group until the stack grants it more.
 */
export class PipelineFunction extends Construct implements iam.IGrantable {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    const environment: Record<string, string> = {
      ...props.environment,
      POWERTOOLS_SERVICE_NAME: props.name,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      ...(props.sourceMapsAtRuntime ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    };
    checkFunctionEnvironment(props.name, props.environmentSchema, environment);

    // Retained logs of a deleted stack are orphans nobody reads; the data the
    // pipeline keeps lives in the table and the archive bucket.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // A role per function instead of AWSLambdaBasicExecutionRole, whose
    // logs:CreateLogGroup/PutLogEvents apply to every log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name}: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    this.grantPrincipal = this.role;

    // X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level
    // permissions, so they need Resource "*". They live in a policy of their own
    // so that acknowledging that one wildcard cannot hide another one added to
    // the role's default policy by a grant.
    const tracingPolicy = new iam.Policy(this, 'TracingPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(tracingPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.',
    });

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, functionEntries[props.name]),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      environment,
      bundling: {
        forceDockerBundling: false,
        // esbuild's warnings and errors only: its per-bundle size summary made synth print 20 lines.
        logLevel: LogLevel.WARNING,
        target: bundleOptions.target,
        format: OutputFormat.ESM,
        minify: bundleOptions.minify,
        sourceMap: bundleOptions.sourcemap,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: bundleOptions.sourcesContent,
        mainFields: [...bundleOptions.mainFields],
        banner: bundleOptions.banner,
        externalModules: [...bundleOptions.external],
        esbuildArgs: {
          '--tree-shaking': String(bundleOptions.treeShaking),
          '--alias': Object.entries(bundleOptions.alias).map(([from, to]) => `${from}=${to}`),
        },
        ...(props.includeClassifierModel ? { commandHooks: copyClassifierModel } : {}),
        ...(props.includeWebPage ? { commandHooks: copyWebPage } : {}),
      },
    });
    // Tracing is switched on at the L1 so that CDK does not add X-Ray's
    // wildcard statement to the role's default policy (see TracingPolicy above).
    const cfnFunction = this.fn.node.defaultChild as lambda.CfnFunction;
    cfnFunction.tracingConfig = { mode: lambda.Tracing.ACTIVE };
    this.fn.node.addDependency(tracingPolicy);
  }
}

/**
 * Copies the classifier's model next to the bundle. It runs only when the
 * bundle is really built (`cdk synth`/`deploy`), and fails it when the model
 * directory is missing or empty: a classifier deployed without its model would
 * fail every cold start. Unit tests skip bundling, so they never need the model.
 */
const copyClassifierModel = copyBesideBundle(classifierModel, 'classifier model');

/** Copies the query API's web page next to the bundle; fails the build when it is missing. */
const copyWebPage = copyBesideBundle(webPageAssets, 'web page');

function copyBesideBundle(
  directory: { sourceDir: string; bundleDirName: string },
  what: string,
): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => {
      const source = path.join(inputDir, directory.sourceDir);
      const target = path.join(outputDir, directory.bundleDirName);
      return [
        `[ -n "$(ls -A "${source}" 2>/dev/null)" ] || { echo "${what} not found (or empty) at ${source}" >&2; exit 1; }`,
        `cp -r "${source}" "${target}"`,
      ];
    },
  };
}
