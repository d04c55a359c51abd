import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { featureFlags } from '../../infra/pipeline-app';
import { PipelineStack } from '../../infra/pipeline-stack';
import { FetchRunEnvSchema, fetchRunSettings } from '../../shared/config';
import { fetchRunBudgetMs } from '../../shared/fetch/http';
import * as z from '../../shared/zod';
import { resourceByPrefix, SKIP_BUNDLING, type Statement, synthTemplate } from './helpers';

/**
 * fetch-listing's worst-case run must fit in its timeout, checked at synth; parse-paper reads
 * items sent by reference from the archive; fetch-listing keeps non-listings in the quarantine.
 */

let template: Template;
beforeAll(() => {
  template = synthTemplate();
});

function statementsOf(policyPrefix: string): Statement[] {
  const [, policy] = resourceByPrefix(template, 'AWS::IAM::Policy', policyPrefix);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

function archiveObjects(prefix: string) {
  const [bucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
  return { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}*`]] };
}

describe("fetch-listing's retry budget", () => {
  it('deploys fetch settings whose worst case fits in the function timeout', () => {
    const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', 'FetchListingFunction');
    const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
    const deployed = z
      .strictObject(FetchRunEnvSchema.shape)
      .parse(
        Object.fromEntries(Object.entries(variables).filter(([name]) => name in FetchRunEnvSchema.shape)),
      );

    // Every setting that bounds the run is in the template, not left to a default in the code.
    expect(Object.keys(deployed).sort()).toEqual(Object.keys(FetchRunEnvSchema.shape).sort());
    const timeoutMs = Number(fn.Properties.Timeout) * 1000;
    expect(fetchRunBudgetMs(fetchRunSettings(deployed))).toBeLessThanOrEqual(timeoutMs);
    expect(timeoutMs).toBeLessThanOrEqual(15 * 60 * 1000);
  });

  it('fails synth, saying why, when the configured budget exceeds the timeout', () => {
    const app = new App({ context: { ...featureFlags, ...SKIP_BUNDLING } });

    expect(
      () =>
        new PipelineStack(app, 'TooPatient', {
          fetchRun: { FETCH_TIMEOUT_MS: 60_000, FETCH_MAX_ATTEMPTS: 10 },
        }),
    ).toThrow(/fetch-listing's worst-case run \(3704000 ms: .*\) exceeds its timeout of 600000 ms: lower/);
  });
});

describe('the archive grants of the reliability work', () => {
  it('lets parse-paper read listings/ of the archive (items sent by reference), and nothing else there', () => {
    const reads = statementsOf('ParsePaperRoleDefaultPolicy').filter((statement) =>
      [statement.Action].flat().some((action) => String(action).startsWith('s3:')),
    );

    expect(reads).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: archiveObjects('listings/') }),
    ]);
    const [, fn] = resourceByPrefix(template, 'AWS::Lambda::Function', 'ParsePaperFunction');
    const [bucketId] = resourceByPrefix(template, 'AWS::S3::Bucket', 'ListingArchive');
    expect(fn.Properties.Environment).toMatchObject({ Variables: { ARCHIVE_BUCKET: { Ref: bucketId } } });
  });

  it('lets fetch-listing keep what is not a listing under quarantine/', () => {
    const puts = statementsOf('FetchListingRoleDefaultPolicy').filter((statement) =>
      [statement.Action].flat().includes('s3:PutObject'),
    );

    expect(puts.flatMap((statement) => [statement.Resource].flat())).toEqual(
      expect.arrayContaining([archiveObjects('listings/'), archiveObjects('quarantine/')]),
    );
  });
});
