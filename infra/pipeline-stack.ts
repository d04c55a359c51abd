import { CfnOutput, Duration, Stack, type StackProps, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULT_ARXIV_API_URL } from '../shared/arxiv/client';
import {
  ClassifyPaperEnvSchema,
  FetchListingEnvSchema,
  type FetchRunEnv,
  FetchRunEnvSchema,
  fetchRunSettings,
  ParsePaperEnvSchema,
  QueryEnvSchema,
} from '../shared/config';
import { fetchRunBudgetMs } from '../shared/fetch/http';
import { QUALITY_FIGURES, type QualityFigure } from '../shared/quality/live-quality';
import { shippedValidationFigures } from '../shared/quality/validation-figures';
import {
  type AllowedOrigins,
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from '../shared/query/cors';
import {
  archiveBucket,
  fetchInvocation,
  papersTable,
  type QueueDefinition,
  queues,
} from '../shared/resources';
import { METRICS_NAMESPACE, metricNames, qualityMetricNames, serviceNames } from '../shared/telemetry';
import { BackfillStateMachine } from './backfill-state-machine';
import { ExportsCatalog } from './exports-catalog';
import { PipelineFunction } from './pipeline-function';
import { PublicFront } from './public-front';
import {
  createAccessLogBucket,
  createArchiveBucket,
  createPapersTable,
  createQueueWithDeadLetter,
  createStandaloneDeadLetterQueue,
} from './secure-defaults';

/**
 * Fires at 23:30 UTC every day: the HF listing for a (UTC) day fills during
 * that day, so fetching it shortly before the day ends gets it nearly whole,
 * and the day is still "today" in UTC when the handler asks for it.
 */
export const DEFAULT_SCHEDULE_CRON = 'cron(30 23 * * ? *)';
export const DEFAULT_SCHEDULE_TIME_ZONE = 'Etc/UTC';

/**
 * Days without a single paper stored before the "no papers ingested" alarm
 * fires. The HF listing is usually empty on Saturdays and Sundays, so Friday's
 * run and Monday's are 72 hours apart: a 3-day window would flap every Monday
 * night in the minutes before Monday's run lands. Four days leaves a day's
 * margin and still catches a silent stop (schedule disabled, listing format
 * changed so it parses to nothing) within the week; loud failures (handler
 * errors, malformed listings, messages in a dead-letter queue) have their own
 * alarms that fire within minutes.
 */
export const NO_PAPERS_ALARM_DAYS = 4;

/**
 * The model drift alarms: a live figure over the last {@link DRIFT_WINDOW_DAYS} days this many
 * points below the shipped model's validation figure (read from its metrics.json at synth time).
 */
export const DRIFT_POINTS = 5;
export const DRIFT_WINDOW_DAYS = 7;
/**
 * Fewer enriched papers than this in the window say too little to alarm on (a 5-point drop is within
 * the noise of a few dozen papers: the standard error of a 70% rate on 50 papers is 6.5 points); about
 * a weekday's listing.
 */
export const DRIFT_MIN_PAPERS = 50;

/** The drift alarm of each live quality figure, by construct id. */
export const DRIFT_ALARM_IDS: Record<QualityFigure, string> = {
  top1IsPrimary: 'ModelDriftTop1IsPrimaryAlarm',
  top1InCategories: 'ModelDriftTop1InCategoriesAlarm',
  primaryInTop3: 'ModelDriftPrimaryInTop3Alarm',
};

/**
 * Concurrent executions reserved for the query function, and the most it may run: a burst of
 * queries then throttles (429) instead of taking the concurrency the queue consumers need.
 */
export const DEFAULT_QUERY_RESERVED_CONCURRENCY = 10;
/** The largest `queryReservedConcurrency` accepted: an account's default concurrency limit. */
export const MAX_QUERY_RESERVED_CONCURRENCY = 1000;

export interface PipelineStackProps extends StackProps {
  /** EventBridge Scheduler cron expression for the daily fetch. @default DEFAULT_SCHEDULE_CRON */
  readonly scheduleCron?: string;
  /** IANA time zone the cron expression is evaluated in. @default DEFAULT_SCHEDULE_TIME_ZONE */
  readonly scheduleTimeZone?: string;
  /** Subscribe this address to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
  /** `POWERTOOLS_LOG_LEVEL` of every function. @default 'INFO' */
  readonly logLevel?: string;
  /** Overrides the fetch function's listing URL template (must contain `{date}`). @default - the schema's */
  readonly listingUrlTemplate?: string;
  /** Overrides the fetch function's User-Agent. @default - the schema's */
  readonly userAgent?: string;
  /**
   * The arXiv export API fetch-listing enriches papers from (`ARXIV_API_URL`, CDK context
   * `arxivApiUrl`). @default DEFAULT_ARXIV_API_URL
   */
  readonly arxivApiUrl?: string;
  /** Reserved concurrency of the query function. @default DEFAULT_QUERY_RESERVED_CONCURRENCY */
  readonly queryReservedConcurrency?: number;
  /** Origins whose browser scripts may read the query API (CORS). @default '*' - any */
  readonly queryCorsAllowedOrigins?: AllowedOrigins;
  /**
   * Overrides what bounds a fetch run (attempts, their timeout, waits, pages). Their worst case
   * must fit in {@link FETCH_LISTING_TIMEOUT}, or synth fails. @default - the schema's
   */
  readonly fetchRun?: Partial<FetchRunEnv>;
  /**
   * Past days the daily run fetches again, each by a schedule of its own (`daysAgo` 1…N): upvotes
   * and comments on HF move for one to two weeks. 0 turns revisits off. @default DEFAULT_REVISIT_DAYS
   */
  readonly revisitDays?: number;
  /**
   * Puts the public read-only front (CloudFront, Origin Access Control, WAF) before the query
   * API's Function URL, which stays AWS_IAM. Needs the stack in us-east-1. @default false
   */
  readonly publicFront?: boolean;
  /** Requests per IP per five minutes the public front's WAF lets through. @default DEFAULT_PUBLIC_FRONT_RATE_LIMIT */
  readonly publicFrontRateLimit?: number;
}

/** Past days the daily run fetches again (see {@link PipelineStackProps.revisitDays}). */
export const DEFAULT_REVISIT_DAYS = 7;

/** fetch-listing's timeout: the default fetch settings' worst case (about 9 minutes) fits in it. */
export const FETCH_LISTING_TIMEOUT = Duration.minutes(10);

/**
 * The fetch settings as deployed (every one explicit in the template), checked against `timeout`.
 * @throws Error when their worst case (`fetchRunBudgetMs`) exceeds `timeout`: a run could be cut
 *   off by Lambda mid-page instead of failing with a reason.
 */
export function checkedFetchRun(overrides: Partial<FetchRunEnv>, timeout: Duration): FetchRunEnv {
  const settings = FetchRunEnvSchema.parse(overrides);
  const budgetMs = fetchRunBudgetMs(fetchRunSettings(settings));
  const timeoutMs = timeout.toMilliseconds();
  if (budgetMs > timeoutMs) {
    throw new Error(
      `fetch-listing's worst-case run (${budgetMs} ms: ${settings.FETCH_MAX_PAGES} page(s) × ` +
        `${settings.FETCH_MAX_ATTEMPTS} attempt(s) of ${settings.FETCH_TIMEOUT_MS} ms with waits of up to ` +
        `${settings.FETCH_BACKOFF_MAX_MS} ms, plus ${settings.FETCH_PAGE_DELAY_MS} ms between pages) exceeds ` +
        `its timeout of ${timeoutMs} ms: lower FETCH_MAX_PAGES, FETCH_MAX_ATTEMPTS, FETCH_TIMEOUT_MS or FETCH_BACKOFF_MAX_MS`,
    );
  }
  return settings;
}

/**
 * Least-privilege actions, from the SDK commands each stage sends
 * (`shared/archive.ts`, `shared/pipeline/*`, `shared/store/dynamo-paper-store.ts`).
 * Change them together with the code.
 */
const actions = {
  /**
   * archiveListing: HeadObject (needs GetObject) to skip identical bytes, then PutObject; under
   * listings/ for a listing, under quarantine/ for bytes that are none.
   */
  archiveObjects: ['s3:GetObject', 's3:PutObject'],
  /** readArchivedListing: an item sent by reference (too large for its message) is read from its listing. */
  readArchive: ['s3:GetObject'],
  /**
   * Without ListBucket, HeadObject on a key that does not exist yet answers 403
   * instead of 404 and the archive step would fail on every new listing.
   */
  archiveBucket: ['s3:ListBucket'],
  /** SendMessageBatch is authorised as SendMessage; so is Lambda's on-failure record to an SQS destination. */
  sendMessages: ['sqs:SendMessage'],
  /** A consumer sends a record it gives up on to its own dead-letter queue, with the reason. */
  deadLetterRecords: ['sqs:SendMessage'],
  /**
   * recordFetchedDay: the day fetched, even when empty (UpdateItem); the arXiv request gate
   * (`RATE#arxiv`: GetItem, conditional UpdateItem).
   */
  fetchTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  /** A revisit finds the day's listings still pending enrichment: one Query on byDayId. */
  pendingListings: ['dynamodb:Query'],
  /**
   * A paper too large for a classify message is stored by parse-paper (storeListings: one
   * BatchGetItem, then a TransactWriteItems, authorised as the UpdateItem of the listing, the
   * PutItem of its upvote snapshot and keyword postings, and the DeleteItem of a postings bucket a
   * changed text no longer fills).
   */
  parseTable: ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  /**
   * storeListings (BatchGetItem of the batch's listings; TransactWriteItems, authorised per action:
   * UpdateItem of each listing, PutItem of its category entries, snapshot and keyword postings,
   * DeleteItem of the entries no longer assigned and of the postings buckets a changed text no
   * longer fills), recordListedDays (UpdateItem), listedPaper (GetItem, for a paper sent by
   * reference).
   */
  classifyTable: [
    'dynamodb:BatchGetItem',
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ],
  /** Every read is a Query, on the table or one of its indexes; never a Scan. */
  queryTable: ['dynamodb:Query'],
  /** The query function reads its cursor key once per cold start. */
  readCursorKey: ['secretsmanager:GetSecretValue'],
  /** Reads by key on the table alone: a search's hits (BatchGetItem), the record of an empty day (GetItem). */
  queryTableByKey: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
} as const;

/**
 * The daily-papers pipeline, top to bottom as the data flows:
 *
 *   Scheduler (daily) ─▶ fetch-listing ─▶ S3 archive (listings/, quarantine/), the day fetched ─▶ papers table
 *        │(DLQ: not handed over)│ └─(failed after Lambda's async retries)─▶ fetch DLQ
 *                              ▼
 *                        parse queue ─▶ parse-paper ─▶ DynamoDB papers table
 *                              │(DLQ)        │                 ▲
 *                                            ▼                 │
 *                                     classify queue ─▶ classify-paper
 *                                            │(DLQ)
 *   downstream (IAM) ─▶ Function URL ─▶ query ─▶ papers table (Query only)
 *   public (publicFront=true) ─▶ WAF ─▶ CloudFront ─(OAC, SigV4)─┘
 */
export class PipelineStack extends Stack {
  readonly functions: Readonly<
    Record<'fetchListing' | 'parsePaper' | 'classifyPaper' | 'query', PipelineFunction>
  >;

  constructor(scope: Construct, id: string, props: PipelineStackProps = {}) {
    super(scope, id, props);
    const logLevel = props.logLevel ?? 'INFO';

    // ── State ──────────────────────────────────────────────────────────────
    const accessLogs = createAccessLogBucket(this, 'AccessLogs');
    const archive = createArchiveBucket(this, archiveBucket.logicalName, {
      accessLogs,
      listingsPrefix: archiveBucket.listingsPrefix,
      quarantinePrefix: archiveBucket.quarantinePrefix,
      quarantineExpiryDays: archiveBucket.quarantineExpiryDays,
    });
    const parse = createQueueWithDeadLetter(this, queues.parse);
    const classify = createQueueWithDeadLetter(this, queues.classify);
    const table = createPapersTable(this, papersTable);
    const tableIndexArns = Object.values(papersTable.indexes).map(
      (index) => `${table.tableArn}/index/${index.indexName}`,
    );

    // ── Functions ──────────────────────────────────────────────────────────
    const fetchRun = checkedFetchRun(props.fetchRun ?? {}, FETCH_LISTING_TIMEOUT);
    const fetchListing = new PipelineFunction(this, 'FetchListing', {
      name: 'fetch-listing',
      description: 'Fetches the daily listing, archives it to S3 and fans papers out to the parse queue',
      environmentSchema: FetchListingEnvSchema,
      environment: {
        ARCHIVE_BUCKET: archive.bucketName,
        PARSE_QUEUE_URL: parse.queue.queueUrl,
        TABLE_NAME: table.tableName,
        ...(props.listingUrlTemplate ? { LISTING_URL_TEMPLATE: props.listingUrlTemplate } : {}),
        ...(props.userAgent ? { USER_AGENT: props.userAgent } : {}),
        // Always set on AWS: enrichment is on (locally it is off unless ARXIV_API_URL is set).
        ARXIV_API_URL: props.arxivApiUrl ?? DEFAULT_ARXIV_API_URL,
        CLASSIFY_QUEUE_URL: classify.queue.queueUrl,
        ...Object.fromEntries(Object.entries(fetchRun).map(([name, value]) => [name, String(value)])),
      },
      // Holds the worst case of the settings above (checkedFetchRun); the handler stops retrying
      // when the time left cannot fit another attempt, so a run fails with its reason, not a timeout.
      timeout: FETCH_LISTING_TIMEOUT,
      logLevel,
    });
    const archivePrefixes = [
      archiveBucket.listingsPrefix,
      archiveBucket.quarantinePrefix,
      archiveBucket.arxivPrefix,
    ];
    allow(
      fetchListing,
      actions.archiveObjects,
      archivePrefixes.map((prefix) => archive.arnForObjects(`${prefix}*`)),
    );
    allow(fetchListing, actions.archiveBucket, [archive.bucketArn]);
    allow(fetchListing, actions.sendMessages, [parse.queue.queueArn]);
    allow(fetchListing, actions.fetchTable, [table.tableArn]);
    allow(fetchListing, actions.pendingListings, [
      `${table.tableArn}/index/${papersTable.indexes.byDayId.indexName}`,
    ]);
    // A revisit sends the pending papers arXiv has since answered for to be stored.
    allow(fetchListing, actions.sendMessages, [classify.queue.queueArn]);
    Validations.of(fetchListing.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(archive.node.defaultChild as s3.CfnBucket)}.Arn>/${archiveBucket.arxivPrefix}*]`,
      reason:
        "arXiv's answers are archived under content-addressed, date-partitioned keys; the grant is Get/PutObject under arxiv/ of this stack's archive bucket only.",
    });
    Validations.of(fetchListing.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(archive.node.defaultChild as s3.CfnBucket)}.Arn>/${archiveBucket.listingsPrefix}*]`,
      reason:
        "Archive keys are content-addressed and date-partitioned, unknown in advance; the grant is Get/PutObject under listings/ of this stack's archive bucket only.",
    });
    Validations.of(fetchListing.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(archive.node.defaultChild as s3.CfnBucket)}.Arn>/${archiveBucket.quarantinePrefix}*]`,
      reason:
        "Bytes that are not a listing are kept under content-addressed, date-partitioned keys; the grant is Get/PutObject under quarantine/ of this stack's archive bucket only.",
    });

    // The schedule invokes fetch-listing asynchronously: the schedule's own retries and DLQ cover
    // only handing the event to Lambda. A run that throws is retried by Lambda and, still failing,
    // its event and error go to this queue as Lambda's on-failure destination record.
    const fetchDeadLetters = createStandaloneDeadLetterQueue(
      this,
      fetchInvocation.deadLetterLogicalName,
      Duration.seconds(fetchInvocation.deadLetterRetentionPeriodSeconds),
    );
    fetchListing.fn.configureAsyncInvoke({
      retryAttempts: fetchInvocation.retryAttempts,
      maxEventAge: Duration.seconds(fetchInvocation.maxEventAgeSeconds),
      onFailure: sqsDestinationSendOnly(fetchDeadLetters),
    });

    const parsePaper = new PipelineFunction(this, 'ParsePaper', {
      name: 'parse-paper',
      description: 'Validates papers from the parse queue, stores them and passes them to the classify queue',
      environmentSchema: ParsePaperEnvSchema,
      environment: {
        TABLE_NAME: table.tableName,
        CLASSIFY_QUEUE_URL: classify.queue.queueUrl,
        PARSE_DEAD_LETTER_QUEUE_URL: parse.deadLetterQueue.queueUrl,
        ARCHIVE_BUCKET: archive.bucketName,
      },
      timeout: Duration.seconds(queues.parse.consumerTimeoutSeconds),
      logLevel,
    });
    consume(parsePaper, parse.queue, queues.parse);
    allow(parsePaper, actions.parseTable, [table.tableArn]);
    allow(parsePaper, actions.sendMessages, [classify.queue.queueArn]);
    allow(parsePaper, actions.deadLetterRecords, [parse.deadLetterQueue.queueArn]);
    allow(parsePaper, actions.readArchive, [archive.arnForObjects(`${archiveBucket.listingsPrefix}*`)]);
    Validations.of(parsePaper.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(archive.node.defaultChild as s3.CfnBucket)}.Arn>/${archiveBucket.listingsPrefix}*]`,
      reason:
        "An item too large for its message is read from its archived listing, whose key (content-addressed, date-partitioned) is in the message; the grant is GetObject under listings/ of this stack's archive bucket only.",
    });

    const classifyPaper = new PipelineFunction(this, 'ClassifyPaper', {
      name: 'classify-paper',
      description: 'Classifies papers from the classify queue and stores their categories',
      environmentSchema: ClassifyPaperEnvSchema,
      environment: {
        TABLE_NAME: table.tableName,
        CLASSIFY_DEAD_LETTER_QUEUE_URL: classify.deadLetterQueue.queueUrl,
      },
      timeout: Duration.seconds(queues.classify.consumerTimeoutSeconds),
      includeClassifierModel: true,
      logLevel,
    });
    consume(classifyPaper, classify.queue, queues.classify);
    allow(classifyPaper, actions.classifyTable, [table.tableArn]);
    allow(classifyPaper, actions.deadLetterRecords, [classify.deadLetterQueue.queueArn]);

    // The key the query API seals its cursors with (HMAC and encryption, `shared/query/cursor-seal.ts`).
    const cursorKey = new secretsmanager.Secret(this, 'QueryCursorKey', {
      description: 'Seals the query API pagination cursors (generated; read by the query function)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(cursorKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key only seals pagination cursors, which clients hold for seconds to minutes: rotating it would need a rotation function and break every cursor in flight, for no data it protects. Replace the secret value to retire it.',
    });
    const corsAllowedOrigins = props.queryCorsAllowedOrigins ?? '*';
    const query = new PipelineFunction(this, 'Query', {
      name: 'query',
      description: 'Answers the query API behind an IAM-authenticated Function URL',
      environmentSchema: QueryEnvSchema,
      environment: {
        TABLE_NAME: table.tableName,
        QUERY_CURSOR_KEY_SECRET_ARN: cursorKey.secretArn,
        QUERY_CORS_ALLOWED_ORIGINS: corsAllowedOrigins === '*' ? '*' : corsAllowedOrigins.join(','),
      },
      timeout: Duration.seconds(10),
      reservedConcurrentExecutions: props.queryReservedConcurrency ?? DEFAULT_QUERY_RESERVED_CONCURRENCY,
      includeWebPage: true,
      logLevel,
    });
    allow(query, actions.queryTable, [table.tableArn, ...tableIndexArns]);
    allow(query, actions.readCursorKey, [cursorKey.secretArn]);
    allow(query, actions.queryTableByKey, [table.tableArn]);

    this.functions = { fetchListing, parsePaper, classifyPaper, query };

    // ── The daily schedule ─────────────────────────────────────────────────
    const scheduleDeadLetters = createStandaloneDeadLetterQueue(
      this,
      'ScheduleDeadLetter',
      Duration.seconds(queues.parse.deadLetterRetentionPeriodSeconds),
    );
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description:
        'EventBridge Scheduler: invokes fetch-listing daily, dead-letters an invocation it could not hand over',
    });
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fetchListing.fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason:
        "CDK's grantInvoke also covers the fetch function's own versions and aliases (<arn>:*); nothing else.",
    });
    const schedule = scheduleExpression(
      props.scheduleCron ?? DEFAULT_SCHEDULE_CRON,
      props.scheduleTimeZone ?? DEFAULT_SCHEDULE_TIME_ZONE,
    );
    // The day's fetch, and one revisit per past day: each run is its own invocation, so each has
    // fetch-listing's whole timeout for the worst case checked above (checkedFetchRun).
    const revisitDays = props.revisitDays ?? DEFAULT_REVISIT_DAYS;
    for (let daysAgo = 0; daysAgo <= revisitDays; daysAgo++) {
      new scheduler.Schedule(this, daysAgo === 0 ? 'DailyFetch' : `RevisitFetch${daysAgo}`, {
        description:
          daysAgo === 0
            ? 'Fetches the daily papers listing'
            : `Fetches the listing of ${daysAgo} day(s) before again, for its moving upvotes and comments`,
        schedule,
        target: new LambdaInvoke(fetchListing.fn, {
          // The fetch request (`shared/messages.ts`): the listing day is the UTC date of the scheduled
          // time, moved back `daysAgo` days for a revisit.
          input: scheduler.ScheduleTargetInput.fromObject({
            scheduledTime: scheduler.ContextAttribute.scheduledTime,
            ...(daysAgo === 0 ? {} : { daysAgo }),
          }),
          retryAttempts: 3,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: scheduleDeadLetters,
          role: scheduleRole,
        }),
      });
    }

    // ── The query API ──────────────────────────────────────────────────────
    // The URL answers CORS preflights itself (an unsigned OPTIONS never reaches an AWS_IAM
    // function), from the same origins the function puts on its answers.
    const queryUrl = query.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
      cors: {
        allowedOrigins: corsAllowedOrigins === '*' ? ['*'] : [...corsAllowedOrigins],
        allowedMethods: [lambda.HttpMethod.GET, lambda.HttpMethod.HEAD],
        allowedHeaders: CORS_ALLOWED_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      },
    });
    // Function URLs created since October 2025 need both actions; the conditions
    // keep the policy to calls made through the IAM-authenticated URL.
    const queryApiPolicy = new iam.ManagedPolicy(this, 'QueryApiInvokePolicy', {
      description: 'Allows calling the daily-papers query API (its Lambda Function URL, AWS_IAM auth)',
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [query.fn.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': lambda.FunctionUrlAuthType.AWS_IAM } },
        }),
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [query.fn.functionArn],
          conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
        }),
      ],
    });

    // ── The public read-only front (off unless asked for) ──────────────────
    const publicFront = props.publicFront
      ? new PublicFront(this, 'PublicFront', {
          queryUrl,
          accessLogs,
          ...(props.publicFrontRateLimit === undefined ? {} : { rateLimit: props.publicFrontRateLimit }),
        })
      : undefined;

    // ── Alarms ─────────────────────────────────────────────────────────────
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'daily-papers alarms',
      enforceSSL: true,
    });
    Validations.of(alarmTopic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry only alarm names and states; CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer-managed key would cost more than the data is worth.',
    });
    if (props.alarmEmail) alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new SnsAction(alarmTopic);
    /** Alarms (and notifies) on the first datapoint of `metric` at 1 or more; no data is fine. */
    const alarmOnAny = (metric: cloudwatch.Metric, id: string, alarmDescription: string) =>
      metric
        .createAlarm(this, id, {
          alarmDescription,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(notify);

    const deadLetterQueues: Record<string, sqs.IQueue> = {
      ParseDeadLetterAlarm: parse.deadLetterQueue,
      ClassifyDeadLetterAlarm: classify.deadLetterQueue,
      ScheduleDeadLetterAlarm: scheduleDeadLetters,
      FetchDeadLetterAlarm: fetchDeadLetters,
    };
    for (const [alarmId, queue] of Object.entries(deadLetterQueues)) {
      alarmOnAny(
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        alarmId,
        `Messages are waiting in ${queue.node.id}: inspect them, fix the cause, redrive.`,
      );
    }

    alarmOnAny(
      fetchListing.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'FetchListingErrorsAlarm',
      `fetch-listing failed; Lambda retries the run ${fetchInvocation.retryAttempts} more times, then sends it to ${fetchInvocation.deadLetterLogicalName}.`,
    );
    alarmOnAny(
      powertoolsMetric(metricNames.listingsMalformed, serviceNames.fetchListing, Duration.minutes(5)),
      'ListingsMalformedAlarm',
      `A fetched listing was not a listing: its bytes are under quarantine/ in the archive, nothing was sent and the run failed, so it is retried; still malformed after the retries, it is dead-lettered in ${fetchInvocation.deadLetterLogicalName}.`,
    );

    powertoolsMetric(metricNames.papersStored, serviceNames.parsePaper, Duration.days(1))
      .createAlarm(this, 'NoPapersIngestedAlarm', {
        alarmDescription: `No paper was stored for ${NO_PAPERS_ALARM_DAYS} days in a row (a weekend is at most 2 empty days).`,
        threshold: 1,
        evaluationPeriods: NO_PAPERS_ALARM_DAYS,
        datapointsToAlarm: NO_PAPERS_ALARM_DAYS,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data at all is the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      })
      .addAlarmAction(notify);

    // ── Model drift: the live quality figures against the validation ones ──
    // classify-paper emits each figure as one 0/100 Percent value per enriched paper stored, so the
    // Average over a period is the figure of that period's papers. The 7-day figure is that Average
    // over one 7-day period: CloudWatch allows a metric alarm's Period × EvaluationPeriods up to
    // 604,800 s (7 days) when the period is an hour or more, and a 1-week period is a supported one
    // (PutMetricAlarm, WallClockWindow in the CloudWatch API reference); the default sliding window
    // makes it the last 7 days at each evaluation. Seven daily periods would not do: an alarm
    // compares each period's datapoint with the threshold (M of N), it never averages across
    // periods, and metric math has no moving window an alarm can use. A scheduled function that
    // reads the table and publishes a 7-day metric would, at the cost of a function and a schedule
    // for what CloudWatch already computes. The math drops the datapoint (no data: not breaching)
    // while the window holds fewer than DRIFT_MIN_PAPERS papers, so a thin week cannot fire it.
    const validation = shippedValidationFigures();
    const driftWindow = Duration.days(DRIFT_WINDOW_DAYS);
    for (const figure of QUALITY_FIGURES) {
      const live = (statistic: string) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: qualityMetricNames[figure],
          dimensionsMap: { service: serviceNames.classifyPaper },
          statistic,
          period: driftWindow,
        });
      const floor = Math.round((validation.percent[figure] - DRIFT_POINTS) * 100) / 100;
      new cloudwatch.MathExpression({
        expression: `IF(papers >= ${DRIFT_MIN_PAPERS}, live)`,
        usingMetrics: { live: live('Average'), papers: live('SampleCount') },
        period: driftWindow,
        label: `${qualityMetricNames[figure]}, last ${DRIFT_WINDOW_DAYS} days (%)`,
      })
        .createAlarm(this, DRIFT_ALARM_IDS[figure], {
          alarmDescription:
            `Model drift: over the last ${DRIFT_WINDOW_DAYS} days ${qualityMetricNames[figure]} on the papers enriched ` +
            `from arXiv fell below ${floor}%, ${DRIFT_POINTS} points under the shipped model ` +
            `${validation.model}'s validation figure (${validation.percent[figure]}%). See papers quality / GET /quality.`,
          threshold: floor,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(notify);
    }

    // ── Exports for analytics ──────────────────────────────────────────────
    const exportsTable = new ExportsCatalog(this, 'Exports', { bucket: archive });
    // ── Backfill: fetch-listing over a range of days, run by Step Functions ──
    const backfill = new BackfillStateMachine(this, 'Backfill', { fetchListing: fetchListing.fn });

    // ── Outputs ────────────────────────────────────────────────────────────
    // `papers backfill --aws --stack NAME` starts the backfill by this output name.
    new CfnOutput(this, 'BackfillStateMachineArn', { value: backfill.stateMachine.stateMachineArn });
    new CfnOutput(this, 'QueryFunctionArn', { value: query.fn.functionArn });
    new CfnOutput(this, 'QueryFunctionUrl', { value: queryUrl.url });
    new CfnOutput(this, 'QueryApiInvokePolicyArn', {
      value: queryApiPolicy.managedPolicyArn,
      description: 'Attach to the downstream role or user that calls the query API',
    });
    if (publicFront) {
      new CfnOutput(this, 'PublicFrontUrl', {
        value: `https://${publicFront.distribution.distributionDomainName}/`,
        description: 'The public read-only front: the web page at /, the feeds and the read API',
      });
      new CfnOutput(this, 'PublicFrontDistributionId', { value: publicFront.distribution.distributionId });
    }
    new CfnOutput(this, 'PapersTableName', { value: table.tableName });
    new CfnOutput(this, 'ArchiveBucketName', { value: archive.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    // `papers export --aws --stack NAME` names the table to query in Athena.
    new CfnOutput(this, 'ExportsDatabaseName', { value: exportsTable.databaseName });
    new CfnOutput(this, 'ExportsTableName', { value: exportsTable.tableName });
    // `papers dlq --aws --stack NAME` finds the queues by these output names.
    const queueOutputs: Record<string, sqs.IQueue> = {
      ParseQueueUrl: parse.queue,
      ClassifyQueueUrl: classify.queue,
      ParseDeadLetterQueueUrl: parse.deadLetterQueue,
      ClassifyDeadLetterQueueUrl: classify.deadLetterQueue,
      FetchDeadLetterQueueUrl: fetchDeadLetters,
      ScheduleDeadLetterQueueUrl: scheduleDeadLetters,
    };
    for (const [outputName, queue] of Object.entries(queueOutputs)) {
      new CfnOutput(this, outputName, { value: queue.queueUrl });
    }
  }
}

/**
 * An SQS on-failure destination that grants the function SendMessage on the queue and nothing
 * more (CDK's SqsDestination also grants GetQueueAttributes and GetQueueUrl, which Lambda does not use).
 */
function sqsDestinationSendOnly(queue: sqs.IQueue): lambda.IDestination {
  return {
    bind: (_scope, fn) => {
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: [...actions.sendMessages],
        resourceArns: [queue.queueArn],
      });
      return { destination: queue.queueArn };
    },
  };
}

/** Adds one least-privilege statement to a function's role. */
function allow(fn: PipelineFunction, grantedActions: readonly string[], resources: string[]): void {
  iam.Grant.addToPrincipal({ grantee: fn, actions: [...grantedActions], resourceArns: resources });
}

/** Wires an SQS consumer exactly as its `shared/resources.ts` definition says, with partial batch responses. */
function consume(fn: PipelineFunction, queue: sqs.IQueue, definition: QueueDefinition): void {
  fn.fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: definition.batchSize,
      maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
      maxConcurrency: definition.maxConcurrency,
      reportBatchItemFailures: true,
    }),
  );
}

/** A Powertools metric as the functions emit it: the namespace and the `service` dimension. */
function powertoolsMetric(metricName: string, service: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic: 'Sum',
    period,
  });
}

const CRON = /^cron\((\S+ ){5}\S+\)$/;

/** What `scheduleCron` must be, for messages. */
export const SCHEDULE_CRON_EXPECTED = `an EventBridge Scheduler cron expression with six fields, e.g. "${DEFAULT_SCHEDULE_CRON}"`;
/** What `scheduleTimeZone` must be, for messages. */
export const SCHEDULE_TIME_ZONE_EXPECTED = 'an IANA time zone such as "Europe/Paris"';

/** Whether EventBridge Scheduler takes `cron` as a cron expression (six fields). */
export function isScheduleCron(cron: string): boolean {
  return CRON.test(cron);
}

/** Whether EventBridge Scheduler takes `timeZone` (an IANA name). */
export function isScheduleTimeZone(timeZone: string): boolean {
  return (
    Intl.supportedValuesOf('timeZone').includes(timeZone) || timeZone === 'Etc/UTC' || timeZone === 'UTC'
  );
}

/** The schedule from context, checked here so that a typo fails synth and not the deployment. */
export function scheduleExpression(cron: string, timeZone: string): scheduler.ScheduleExpression {
  if (!isScheduleCron(cron)) throw new Error(`scheduleCron must be ${SCHEDULE_CRON_EXPECTED}; got "${cron}"`);
  if (!isScheduleTimeZone(timeZone)) {
    throw new Error(`scheduleTimeZone must be ${SCHEDULE_TIME_ZONE_EXPECTED}; got "${timeZone}"`);
  }
  return scheduler.ScheduleExpression.expression(cron, TimeZone.of(timeZone));
}
