/**
 * Secure defaults for the pipeline's stateful resources, written once as code
 * and built from the one definition in `shared/resources.ts` (which the local
 * runner uses too): encryption at rest, TLS only, no public access, dead-letter
 * queues, point-in-time recovery, and RETAIN on anything that holds data.
 * Every cdk-nag acknowledgement made here carries its reason.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { IndexDefinition, KeyAttribute, papersTable, QueueDefinition } from '../shared/resources';

/** Blocks public access, requires TLS 1.2+, encrypts with S3-managed keys, disables ACLs. */
const baseBucketProps = {
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const satisfies s3.BucketProps;

/** The bucket that receives the archive bucket's server access logs. */
export function createAccessLogBucket(scope: Construct, id: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...baseBucketProps,
    // Access logs are evidence: keep them when the stack goes, expire them after a year.
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'This is the access-log target bucket; logging it into itself would loop and into another bucket would only move the question.',
  });
  return bucket;
}

export interface ArchiveBucketOptions {
  readonly accessLogs: s3.IBucket;
  /** The prefix raw listings are written under (`shared/resources.ts`). */
  readonly listingsPrefix: string;
  /** The prefix bytes that are no listing are kept under, and expired (`shared/resources.ts`). */
  readonly quarantinePrefix: string;
  readonly quarantineExpiryDays: number;
}

/**
 * The raw-listing archive. Versioned, so an overwritten or deleted listing can
 * be recovered; listings move to Standard-IA after 30 days and to Glacier
 * Instant Retrieval after 90 (still millisecond reads, so a replay needs no
 * restore); S3 by default leaves objects under 128 KB in Standard, where
 * transitioning them would cost more than it saves. Quarantined bytes (an HTML
 * error page, a junk file) stay in Standard and expire after the quarantine
 * period; noncurrent versions, theirs included, expire 90 days later.
 */
export function createArchiveBucket(scope: Construct, id: string, options: ArchiveBucketOptions): s3.Bucket {
  return new s3.Bucket(scope, id, {
    ...baseBucketProps,
    versioned: true,
    removalPolicy: RemovalPolicy.RETAIN,
    serverAccessLogsBucket: options.accessLogs,
    serverAccessLogsPrefix: `${id}/`,
    lifecycleRules: [
      {
        id: 'listings-to-colder-storage',
        prefix: options.listingsPrefix,
        transitions: [
          { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
          { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
        ],
      },
      {
        id: 'expire-quarantine',
        prefix: options.quarantinePrefix,
        expiration: Duration.days(options.quarantineExpiryDays),
      },
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: Duration.days(90),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
  });
}

/** A dead-letter queue's own defaults: encrypted, TLS only, its retention from the definition. */
function createDeadLetterQueue(scope: Construct, id: string, definition: QueueDefinition): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.seconds(definition.deadLetterRetentionPeriodSeconds),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter queue; its messages are inspected and redriven by hand.',
  });
  return queue;
}

export interface QueueWithDeadLetter {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * A consumer queue and its dead-letter queue, both from one
 * `shared/resources.ts` definition: the visibility timeout (six times the
 * consumer's timeout), retention and the bounded receive count come from it.
 */
export function createQueueWithDeadLetter(
  scope: Construct,
  definition: QueueDefinition,
): QueueWithDeadLetter {
  const deadLetterQueue = createDeadLetterQueue(scope, `${definition.logicalName}DeadLetter`, definition);
  const queue = new sqs.Queue(scope, definition.logicalName, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
    retentionPeriod: Duration.seconds(definition.retentionPeriodSeconds),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
  });
  return { queue, deadLetterQueue };
}

/** A dead-letter queue that is not attached to a consumer queue (e.g. the scheduler's). */
export function createStandaloneDeadLetterQueue(
  scope: Construct,
  id: string,
  retention: Duration,
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: retention,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter queue; its messages are inspected and replayed by hand.',
  });
  return queue;
}

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
  };
}

/**
 * The papers table from its one definition: on-demand, point-in-time recovery,
 * deletion protection, RETAIN, and every global secondary index of the definition.
 */
export function createPapersTable(scope: Construct, definition: typeof papersTable): dynamodb.Table {
  const table = new dynamodb.Table(scope, definition.logicalName, {
    partitionKey: attribute(definition.partitionKey),
    sortKey: attribute(definition.sortKey),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const indexes: readonly IndexDefinition[] = Object.values(definition.indexes);
  for (const index of indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      ...(index.includes
        ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.includes] }
        : { projectionType: dynamodb.ProjectionType.ALL }),
    });
  }
  return table;
}
