import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { checkFunctionEnvironment, FunctionEnvironmentError } from '../../infra/pipeline-function';
import { ClassifyPaperEnvSchema, FetchListingEnvSchema } from '../../shared/config';
import { buildApp, validationFailures } from './helpers';

describe('cdk-nag AwsSolutions on synth', () => {
  it('passes on the stack as built (every finding fixed or acknowledged with a reason)', () => {
    const { app } = buildApp();
    expect(validationFailures(app)).toEqual([]);
  });

  it('fails synth when a public bucket is added', () => {
    // Prepare
    const { app, stack } = buildApp();
    new s3.Bucket(stack, 'Careless', {
      blockPublicAccess: new s3.BlockPublicAccess({ blockPublicPolicy: false, restrictPublicBuckets: false }),
      publicReadAccess: true,
    });

    // Act
    const failures = validationFailures(app);

    // Assess
    expect(failures).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S2', 'AwsSolutions-S10']),
    );
  });

  it('fails synth when a function is granted a wildcard', () => {
    // Prepare
    const { app, stack } = buildApp();
    stack.functions.query.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }),
    );

    // Act
    const failures = validationFailures(app);

    // Assess
    expect(failures).toEqual(
      expect.arrayContaining(['AwsSolutions-IAM5[Action::dynamodb:*]', 'AwsSolutions-IAM5[Resource::*]']),
    );
  });

  it('fails synth when a resource wildcard is slipped into a role that already has an acknowledged one', () => {
    // The fetch role's acknowledgement covers only listings/ of the archive bucket.
    const { app, stack } = buildApp();
    stack.functions.fetchListing.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: ['*'] }),
    );
    expect(validationFailures(app)).toContain('AwsSolutions-IAM5[Resource::*]');
  });
});

describe('checkFunctionEnvironment', () => {
  const tableName = Token.asString({ Ref: 'Papers' });

  it("accepts deploy-time tokens for the schema's required variables", () => {
    expect(() =>
      checkFunctionEnvironment('classify-paper', ClassifyPaperEnvSchema, {
        TABLE_NAME: tableName,
        CLASSIFY_DEAD_LETTER_QUEUE_URL: Token.asString({ Ref: 'ClassifyQueueDeadLetter' }),
      }),
    ).not.toThrow();
  });

  it('rejects a missing required variable, naming it', () => {
    expect(() => checkFunctionEnvironment('classify-paper', ClassifyPaperEnvSchema, {})).toThrow(
      /classify-paper: invalid environment: TABLE_NAME/,
    );
  });

  it('rejects a variable the schema does not know (a typo would silently fall back to a default)', () => {
    expect(() =>
      checkFunctionEnvironment('classify-paper', ClassifyPaperEnvSchema, {
        TABLE_NAME: tableName,
        CLASSIFY_DEAD_LETTER_QUEUE_URL: Token.asString({ Ref: 'ClassifyQueueDeadLetter' }),
        TABLE_NAM: 'x',
      }),
    ).toThrow(FunctionEnvironmentError);
  });

  it('rejects a literal value its schema refuses', () => {
    expect(() =>
      checkFunctionEnvironment('fetch-listing', FetchListingEnvSchema, {
        ARCHIVE_BUCKET: tableName,
        PARSE_QUEUE_URL: tableName,
        LISTING_URL_TEMPLATE: 'https://example.org/no-date-placeholder',
      }),
    ).toThrow(/LISTING_URL_TEMPLATE/);
  });

  it('rejects the local-only endpoint variables', () => {
    expect(() =>
      checkFunctionEnvironment('classify-paper', ClassifyPaperEnvSchema, {
        TABLE_NAME: tableName,
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      }),
    ).toThrow(/AWS_ENDPOINT_URL_DYNAMODB: local-only/);
  });
});
