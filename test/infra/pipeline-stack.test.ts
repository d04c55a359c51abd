import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SCHEDULE_CRON,
  DEFAULT_SCHEDULE_TIME_ZONE,
  NO_PAPERS_ALARM_DAYS,
} from '../../infra/pipeline-stack';
import {
  archiveBucket,
  fetchInvocation,
  type IndexDefinition,
  papersTable,
  queues,
} from '../../shared/resources';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../../shared/telemetry';
import {
  asList,
  buildApp,
  type CfnResource,
  referencedLogicalIds,
  resourceByPrefix,
  type Statement,
  synthTemplate,
} from './helpers';

/** Construct ids in the stack, by function. */
const functionIds = {
  'fetch-listing': 'FetchListing',
  'parse-paper': 'ParsePaper',
  'classify-paper': 'ClassifyPaper',
  query: 'Query',
} as const;

const consumers = [
  { definition: queues.parse, functionId: functionIds['parse-paper'] },
  { definition: queues.classify, functionId: functionIds['classify-paper'] },
];

let template: Template;
beforeAll(() => {
  template = synthTemplate();
});

function policyStatements(type: 'AWS::IAM::Policy' | 'AWS::IAM::ManagedPolicy'): [string, Statement][] {
  return Object.entries(template.findResources(type) as Record<string, CfnResource>).flatMap(
    ([id, resource]) => {
      const document = resource.Properties.PolicyDocument as { Statement: Statement[] };
      return document.Statement.map((statement): [string, Statement] => [id, statement]);
    },
  );
}

/** Every action the function's role is allowed, from its default policy. */
function grantedActions(functionId: string): string[] {
  const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', `${functionId}RoleDefaultPolicy`);
  const document = policy.Properties.PolicyDocument as { Statement: Statement[] };
  return document.Statement.flatMap((statement) => asList(statement.Action)).sort();
}

describe('the queues', () => {
  it.each(consumers)(
    '$definition.logicalName is built from shared/resources.ts with its dead-letter queue',
    ({ definition }) => {
      const [dlqId, dlq] = resourceByPrefix(
        template,
        'AWS::SQS::Queue',
        `${definition.logicalName}DeadLetter`,
      );
      const [, queue] = resourceByPrefix(template, 'AWS::SQS::Queue', definition.logicalName);

      expect(queue.Properties).toMatchObject({
        VisibilityTimeout: definition.visibilityTimeoutSeconds,
        MessageRetentionPeriod: definition.retentionPeriodSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
          maxReceiveCount: definition.maxReceiveCount,
        },
      });
      expect(dlq.Properties).toMatchObject({
        MessageRetentionPeriod: definition.deadLetterRetentionPeriodSeconds,
        SqsManagedSseEnabled: true,
      });
      expect(definition.deadLetterRetentionPeriodSeconds).toBeGreaterThan(definition.retentionPeriodSeconds);
      expect(definition.maxReceiveCount).toBeLessThanOrEqual(10);
    },
  );

  it.each(consumers)(
    '$definition.logicalName has a visibility timeout of at least six times its consumer timeout',
    ({ definition, functionId }) => {
      const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', `${functionId}Function`);
      const [, queue] = resourceByPrefix(template, 'AWS::SQS::Queue', definition.logicalName);
      expect(fn.Properties.Timeout).toBe(definition.consumerTimeoutSeconds);
      expect(queue.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(
        6 * (fn.Properties.Timeout as number),
      );
    },
  );

  it('every queue, dead-letter queues included, refuses requests without TLS', () => {
    const queueIds = Object.keys(template.findResources('AWS::SQS::Queue'));
    const policies = Object.values(
      template.findResources('AWS::SQS::QueuePolicy') as Record<string, CfnResource>,
    );
    for (const queueId of queueIds) {
      const policy = policies.find((p) => referencedLogicalIds(p.Properties.Queues).includes(queueId));
      expect(policy?.Properties.PolicyDocument, queueId).toMatchObject({
        Statement: expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      });
    }
  });
});

describe('the SQS event sources', () => {
  it.each(consumers)(
    '$functionId consumes $definition.logicalName with partial batch responses and the shared settings',
    ({ definition, functionId }) => {
      const [queueId] = resourceByPrefix(template, 'AWS::SQS::Queue', definition.logicalName);
      const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', `${functionId}Function`);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionName: { Ref: fnId },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: definition.batchSize,
        MaximumBatchingWindowInSeconds: definition.maxBatchingWindowSeconds,
        ScalingConfig: { MaximumConcurrency: definition.maxConcurrency },
      });
    },
  );
});

describe('the papers table', () => {
  it('has the keys and indexes of shared/resources.ts, so the local runner and AWS cannot drift', () => {
    const [, table] = resourceByPrefix(template, 'AWS::DynamoDB::Table', papersTable.logicalName);
    const keySchema = (pk: { name: string }, sk: { name: string }) => [
      { AttributeName: pk.name, KeyType: 'HASH' },
      { AttributeName: sk.name, KeyType: 'RANGE' },
    ];
    expect(table.Properties.KeySchema).toEqual(keySchema(papersTable.partitionKey, papersTable.sortKey));

    const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown }[];
    expect(indexes.map((index) => index.IndexName).sort()).toEqual(
      Object.values(papersTable.indexes)
        .map((index) => index.indexName)
        .sort(),
    );
    const definitions: readonly IndexDefinition[] = Object.values(papersTable.indexes);
    for (const index of definitions) {
      expect(indexes.find((i) => i.IndexName === index.indexName)).toEqual({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: index.includes
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.includes] }
          : { ProjectionType: 'ALL' },
      });
    }

    // An index may reuse a table key (byDayId sorts on `pk`): each attribute is defined once.
    const expectedAttributes = [
      ...new Map(
        [
          papersTable.partitionKey,
          papersTable.sortKey,
          ...Object.values(papersTable.indexes).flatMap((index) => [index.partitionKey, index.sortKey]),
        ].map((key) => [key.name, { AttributeName: key.name, AttributeType: key.type }]),
      ).values(),
    ];
    expect(table.Properties.AttributeDefinitions).toEqual(expect.arrayContaining(expectedAttributes));
    expect(table.Properties.AttributeDefinitions).toHaveLength(expectedAttributes.length);
  });

  it('is on-demand, with point-in-time recovery and deletion protection, and retained', () => {
    const [, table] = resourceByPrefix(template, 'AWS::DynamoDB::Table', papersTable.logicalName);
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('the archive bucket', () => {
  it('is encrypted, blocks all public access, is versioned, logs access and is retained', () => {
    const [, bucket] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    const [logBucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'AccessLogs');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logBucketId } },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('moves raw listings to colder storage and expires noncurrent versions', () => {
    const [, bucket] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Prefix: 'listings/',
          Status: 'Enabled',
          Transitions: expect.arrayContaining([expect.objectContaining({ StorageClass: 'STANDARD_IA' })]),
        }),
        expect.objectContaining({
          NoncurrentVersionExpiration: expect.objectContaining({ NoncurrentDays: 90 }),
        }),
      ]),
    );
  });

  it('expires quarantined bytes after the quarantine period, and nothing else', () => {
    const [, bucket] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const expiring = rules.filter((rule) => rule.ExpirationInDays !== undefined);
    expect(expiring).toEqual([
      expect.objectContaining({ Prefix: 'quarantine/', ExpirationInDays: 90, Status: 'Enabled' }),
    ]);
    expect(archiveBucket.quarantinePrefix).toBe('quarantine/');
  });

  it('denies requests without TLS', () => {
    const [bucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('IAM', () => {
  it('grants no action wildcards, in any policy of the stack', () => {
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'] as const) {
      for (const [policyId, statement] of policyStatements(type)) {
        for (const action of asList(statement.Action)) expect(action, policyId).not.toContain('*');
      }
    }
  });

  it("scopes every resource to the stack's own resources (only X-Ray and log delivery, which have no resource ARNs, get '*')", () => {
    const ownIds = new Set(Object.keys(template.toJSON().Resources));
    // What a state machine needs to deliver its logs to CloudWatch Logs: these take no resource ARN.
    const logDelivery = new Set([
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
    ]);
    for (const [policyId, statement] of policyStatements('AWS::IAM::Policy')) {
      for (const resource of asList(statement.Resource)) {
        if (resource === '*') {
          expect(
            asList(statement.Action).every((action) => action.startsWith('xray:') || logDelivery.has(action)),
            policyId,
          ).toBe(true);
          continue;
        }
        const ids = referencedLogicalIds(resource);
        expect(ids.length, `${policyId}: ${JSON.stringify(resource)}`).toBeGreaterThan(0);
        for (const id of ids) expect(ownIds.has(id), `${policyId} refers to ${id}`).toBe(true);
      }
    }
  });

  it('grants each function only what it uses', () => {
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const consume = [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ];
    const expected: Record<string, string[]> = {
      [functionIds['fetch-listing']]: [
        ...logs,
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
        'sqs:SendMessage',
        // recordFetchedDay; the arXiv request gate (GetItem, conditional UpdateItem); a revisit's
        // Query for the day's listings still pending enrichment.
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      [functionIds['parse-paper']]: [
        ...logs,
        ...consume,
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        's3:GetObject',
        'sqs:SendMessage',
      ],
      [functionIds['classify-paper']]: [
        ...logs,
        ...consume,
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'sqs:SendMessage',
      ],
      [functionIds.query]: [
        ...logs,
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'secretsmanager:GetSecretValue',
      ],
    };
    for (const [functionId, actions] of Object.entries(expected)) {
      expect(grantedActions(functionId), functionId).toEqual([...actions].sort());
    }
  });

  it.each([
    {
      definition: queues.parse,
      functionId: functionIds['parse-paper'],
      variable: 'PARSE_DEAD_LETTER_QUEUE_URL',
    },
    {
      definition: queues.classify,
      functionId: functionIds['classify-paper'],
      variable: 'CLASSIFY_DEAD_LETTER_QUEUE_URL',
    },
  ])(
    '$functionId may send to its own dead-letter queue, and finds it in $variable',
    ({ definition, functionId, variable }) => {
      const [dlqId] = resourceByPrefix(template, 'AWS::SQS::Queue', `${definition.logicalName}DeadLetter`);
      const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', `${functionId}Function`);
      const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', `${functionId}RoleDefaultPolicy`);

      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[variable]).toEqual({ Ref: dlqId });
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      const sendsToDlq = statements.filter((statement) =>
        asList(statement.Resource).some((resource) => referencedLogicalIds(resource).includes(dlqId)),
      );
      // CDK may merge it with the grant on the next queue: same action, one more resource.
      expect(sendsToDlq.flatMap((statement) => asList(statement.Action))).toEqual(['sqs:SendMessage']);
      expect(sendsToDlq.flatMap((statement) => asList(statement.Resource))).toContainEqual({
        'Fn::GetAtt': [dlqId, 'Arn'],
      });
    },
  );

  it('lets the fetch function read and write objects only under listings/, quarantine/ and arxiv/ of the archive bucket', () => {
    const [bucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', 'FetchListingRoleDefaultPolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const under = (prefix: string) => ({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}*`]],
    });
    const objectStatements = statements.filter((statement) =>
      asList(statement.Action).some((action) => action === 's3:PutObject' || action === 's3:GetObject'),
    );
    // HeadObject is authorised as GetObject.
    expect(objectStatements.flatMap((statement) => asList(statement.Action)).sort()).toEqual([
      's3:GetObject',
      's3:PutObject',
    ]);
    expect(objectStatements.flatMap((statement) => asList(statement.Resource))).toEqual([
      under('arxiv/'),
      under('listings/'),
      under('quarantine/'),
    ]);
  });

  it('lets the fetch function Query only the byDayId index, and send to the classify queue (a revisit’s enrichment)', () => {
    const [tableId] = resourceByPrefix(template, 'AWS::DynamoDB::Table', papersTable.logicalName);
    const [classifyId] = resourceByPrefix(template, 'AWS::SQS::Queue', queues.classify.logicalName);
    const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', 'FetchListingRoleDefaultPolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const query = statements.filter((statement) => asList(statement.Action).includes('dynamodb:Query'));
    expect(query.flatMap((statement) => asList(statement.Resource))).toEqual([
      {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [tableId, 'Arn'] }, `/index/${papersTable.indexes.byDayId.indexName}`],
        ],
      },
    ]);
    const toClassify = statements.filter((statement) =>
      referencedLogicalIds(statement.Resource).includes(classifyId),
    );
    expect(toClassify.flatMap((statement) => asList(statement.Action))).toEqual(['sqs:SendMessage']);
  });

  it('points fetch-listing at the arXiv export API and at the classify queue', () => {
    const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    const [classifyId] = resourceByPrefix(template, 'AWS::SQS::Queue', queues.classify.logicalName);
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.ARXIV_API_URL).toBe('http://export.arxiv.org/api/query');
    expect(referencedLogicalIds(variables.CLASSIFY_QUEUE_URL)).toContain(classifyId);
  });

  it('lets the fetch function send to its dead-letter queue (the async on-failure destination)', () => {
    const [dlqId] = resourceByPrefix(template, 'AWS::SQS::Queue', fetchInvocation.deadLetterLogicalName);
    const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', 'FetchListingRoleDefaultPolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const toDeadLetter = statements.filter((statement) =>
      referencedLogicalIds(statement.Resource).includes(dlqId),
    );
    expect(toDeadLetter.flatMap((statement) => asList(statement.Action))).toEqual(['sqs:SendMessage']);
  });

  it('lets the query function Query the table and exactly its indexes, nothing else', () => {
    const [tableId] = resourceByPrefix(template, 'AWS::DynamoDB::Table', papersTable.logicalName);
    const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', 'QueryRoleDefaultPolicy');
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const query = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.find(
      (s) => s.Action === 'dynamodb:Query',
    );
    expect(asList(query?.Resource)).toEqual(
      expect.arrayContaining([
        tableArn,
        ...Object.values(papersTable.indexes).map((index) => ({
          'Fn::Join': ['', [tableArn, `/index/${index.indexName}`]],
        })),
      ]),
    );
    expect(asList(query?.Resource)).toHaveLength(1 + Object.keys(papersTable.indexes).length);
  });
});

describe('the functions', () => {
  it.each(Object.entries(functionIds))(
    '%s runs Node 24 on ARM64 with tracing, its own log group and Powertools settings',
    (service, functionId) => {
      const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', `${functionId}Function`);
      const [logGroupId, logGroup] = resourceByPrefix(template, 'AWS::Logs::LogGroup', `${functionId}Logs`);
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: logGroupId } },
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: service,
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          }),
        },
      });
      expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
      const variables = Object.keys((fn.Properties.Environment as { Variables: object }).Variables);
      // Node would parse the whole source map at every cold start; the map is uploaded, not loaded.
      expect(variables).not.toContain('NODE_OPTIONS');
      expect(variables.filter((name) => name.startsWith('AWS_ENDPOINT_URL'))).toEqual([]);
    },
  );
});

describe("fetch-listing's asynchronous invocation", () => {
  it('retries a failed run, bounds its age and sends it to FetchDeadLetter when it still fails', () => {
    const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    const [dlqId] = resourceByPrefix(template, 'AWS::SQS::Queue', fetchInvocation.deadLetterLogicalName);
    const configs = template.findResources('AWS::Lambda::EventInvokeConfig') as Record<string, CfnResource>;
    const forFetch = Object.values(configs).filter(
      (config) => JSON.stringify(config.Properties.FunctionName) === JSON.stringify({ Ref: fnId }),
    );
    expect(forFetch).toHaveLength(1);
    expect(forFetch[0]?.Properties).toMatchObject({
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: fetchInvocation.maxEventAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    expect(forFetch[0]?.Properties).not.toHaveProperty('DestinationConfig.OnSuccess');
  });

  it('dead-letters into an encrypted queue that keeps its messages for the retention period', () => {
    const [, dlq] = resourceByPrefix(template, 'AWS::SQS::Queue', fetchInvocation.deadLetterLogicalName);
    expect(dlq.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: fetchInvocation.deadLetterRetentionPeriodSeconds,
    });
  });

  it('is described as such: no text says the schedule dead-letters failed runs', () => {
    const [, role] = resourceByPrefix(template, 'AWS::IAM::Role', 'ScheduleRole');
    expect(String(role.Properties.Description)).not.toMatch(/failed runs/);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmDescription: Match.stringLikeRegexp('FetchDeadLetter'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: metricNames.listingsMalformed,
      AlarmDescription: Match.stringLikeRegexp('retried.*dead-lettered'),
    });
  });
});

describe('the outputs', () => {
  it.each([
    ['FetchDeadLetterQueueUrl', 'FetchDeadLetter'],
    ['ParseDeadLetterQueueUrl', 'ParseQueueDeadLetter'],
    ['ClassifyDeadLetterQueueUrl', 'ClassifyQueueDeadLetter'],
    ['ParseQueueUrl', 'ParseQueue'],
    ['ClassifyQueueUrl', 'ClassifyQueue'],
  ])('%s is the URL of %s (the dlq tool reads it by name)', (outputName, queuePrefix) => {
    const [queueId] = resourceByPrefix(template, 'AWS::SQS::Queue', queuePrefix);
    template.hasOutput(outputName, { Value: { Ref: queueId } });
  });
});

describe('the daily schedule', () => {
  it('invokes fetch-listing on the default cron and time zone, retrying, with a dead-letter queue', () => {
    const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    const [dlqId] = resourceByPrefix(template, 'AWS::SQS::Queue', 'ScheduleDeadLetter');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: DEFAULT_SCHEDULE_CRON,
      ScheduleExpressionTimezone: DEFAULT_SCHEDULE_TIME_ZONE,
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
      },
    });
  });

  it('takes its cron expression and time zone from context', () => {
    const custom = synthTemplate({
      scheduleCron: 'cron(15 6 ? * MON-FRI *)',
      scheduleTimeZone: 'Europe/Paris',
    });
    custom.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 6 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
    });
  });

  it('fails synth on a malformed cron expression or an unknown time zone', () => {
    // The context check reports them as errors on the stack (test/infra/pipeline-context.test.ts).
    for (const context of [{ scheduleCron: '30 23 * * *' }, { scheduleTimeZone: 'Mars/Olympus' }]) {
      const { stack } = buildApp(context);
      const errors = Annotations.fromStack(stack).findError('*', Match.anyValue());
      expect(errors.map((error) => error.entry.data)).toEqual([
        expect.stringContaining(`context "${Object.keys(context)[0]}"`),
      ]);
    }
  });
});

describe('the query API', () => {
  it('has a small reserved concurrency by default, so one heavy caller cannot starve the consumers', () => {
    const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', 'QueryFunction');
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(10);
    for (const other of ['FetchListing', 'ParsePaper', 'ClassifyPaper']) {
      const [, otherFn] = resourceByPrefix(template, 'AWS::Lambda::Function', `${other}Function`);
      expect(otherFn.Properties, other).not.toHaveProperty('ReservedConcurrentExecutions');
    }
  });

  it('takes its reserved concurrency from context (-c queryReservedConcurrency=N)', () => {
    const custom = synthTemplate({ queryReservedConcurrency: '3' });
    const [, fn] = resourceByPrefix(custom, 'AWS::Lambda::Function', 'QueryFunction');
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(3);
  });

  it('seals cursors with a generated secret that only the query function may read', () => {
    const [secretId, secret] = resourceByPrefix(template, 'AWS::SecretsManager::Secret', 'QueryCursorKey');
    const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', 'QueryFunction');
    const readers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((statement) =>
        referencedLogicalIds(statement.Resource).includes(secretId),
      ),
    );

    expect(secret.Properties.GenerateSecretString).toMatchObject({
      PasswordLength: 64,
      ExcludePunctuation: true,
    });
    expect(fn.Properties.Environment).toMatchObject({
      Variables: { QUERY_CURSOR_KEY_SECRET_ARN: { Ref: secretId } },
    });
    expect(fn.Properties.Environment).not.toHaveProperty('Variables.QUERY_CURSOR_KEY');
    expect(readers.map(([id]) => id)).toEqual([expect.stringMatching(/^QueryRoleDefaultPolicy/)]);
    const statements = (readers[0]?.[1].Properties.PolicyDocument as { Statement: Statement[] } | undefined)
      ?.Statement;
    const statement = statements?.find((candidate) =>
      referencedLogicalIds(candidate.Resource).includes(secretId),
    );
    expect(statement?.Action).toBe('secretsmanager:GetSecretValue');
  });

  it('answers CORS preflights at the Function URL, from the origins the function allows (any by default)', () => {
    const custom = synthTemplate({ queryCorsAllowedOrigins: 'https://a.example.com,https://b.example.com' });
    const origins = (t: typeof template) => {
      const [, url] = resourceByPrefix(t, 'AWS::Lambda::Url', 'QueryFunctionFunctionUrl');
      const [, fn] = resourceByPrefix(t, 'AWS::Lambda::Function', 'QueryFunction');
      const cors = url.Properties.Cors as {
        AllowOrigins: string[];
        AllowMethods: string[];
        AllowHeaders: string[];
      };
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      return { cors, variable: variables.QUERY_CORS_ALLOWED_ORIGINS };
    };

    expect(origins(template).cors.AllowOrigins).toEqual(['*']);
    expect(origins(template).variable).toBe('*');
    expect(origins(custom).cors.AllowOrigins).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(origins(custom).variable).toBe('https://a.example.com,https://b.example.com');
    expect(origins(template).cors.AllowMethods).toEqual(['GET', 'HEAD']);
    expect(origins(template).cors.AllowHeaders).toEqual(
      expect.arrayContaining(['authorization', 'x-amz-date']),
    );
  });

  it('is a Function URL with AWS_IAM auth on the query function, exported as outputs', () => {
    const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'QueryFunction');
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
    template.hasOutput('QueryFunctionArn', { Value: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    template.hasOutput('QueryFunctionUrl', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^QueryFunction'), 'FunctionUrl'] },
    });
    template.hasOutput('QueryApiInvokePolicyArn', Match.anyValue());
  });

  it('comes with a managed policy that allows calling that URL and nothing else', () => {
    const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'QueryFunction');
    const [, policy] = resourceByPrefix(template, 'AWS::IAM::ManagedPolicy', 'QueryApiInvokePolicy');
    const queryArn = { 'Fn::GetAtt': [fnId, 'Arn'] };
    expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: queryArn,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      },
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: queryArn,
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      },
    ]);
  });
});

describe('the alarms', () => {
  it.each(['ParseQueueDeadLetter', 'ClassifyQueueDeadLetter', 'ScheduleDeadLetter', 'FetchDeadLetter'])(
    'fires when a message is visible in %s, and notifies the alarm topic',
    (queuePrefix) => {
      const [queueId] = resourceByPrefix(template, 'AWS::SQS::Queue', queuePrefix);
      const [topicId] = resourceByPrefix(template, 'AWS::SNS::Topic', 'AlarmTopic');
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
    },
  );

  it('fires on fetch-listing errors', () => {
    const [fnId] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Threshold: 1,
    });
  });

  it('fires when no paper was stored for several days, on the metric parse-paper emits, treating silence as failure', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: metricNames.papersStored,
      Dimensions: [{ Name: 'service', Value: serviceNames.parsePaper }],
      Statistic: 'Sum',
      Period: 86_400,
      EvaluationPeriods: NO_PAPERS_ALARM_DAYS,
      DatapointsToAlarm: NO_PAPERS_ALARM_DAYS,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    // A weekend is two empty days; the alarm must not fire on one.
    expect(NO_PAPERS_ALARM_DAYS).toBeGreaterThan(3);
  });

  it('fires on a malformed listing', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: metricNames.listingsMalformed,
      Dimensions: [{ Name: 'service', Value: serviceNames.fetchListing }],
    });
  });
});
