/**
 * The optional public front: nothing of it without `publicFront=true`; with it, CloudFront before
 * the still-AWS_IAM Function URL through Origin Access Control, read-only, cached as the API says,
 * behind a WAF rate rule, in us-east-1 only, and cdk-nag clean.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PublicFront } from '../../infra/public-front';
import {
  buildApp,
  type CfnResource,
  referencedLogicalIds,
  synthTemplate,
  validationFailures,
} from './helpers';

const PUBLIC_FRONT = { publicFront: 'true' };

/** A template fragment, read loosely: the assertions below say what shape they expect. */
interface Fragment {
  readonly [key: string]: Fragment;
}

function onlyResource(template: Template, type: string): [string, CfnResource] {
  const resources = Object.entries(template.findResources(type) as Record<string, CfnResource>);
  expect(resources).toHaveLength(1);
  return resources[0] as [string, CfnResource];
}

describe('public front off (the default)', () => {
  it('adds no distribution, web ACL or output', () => {
    const template = synthTemplate();
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    expect(Object.keys(template.findOutputs('PublicFrontUrl'))).toEqual([]);
  });
});

describe('public front on', () => {
  const template = synthTemplate(PUBLIC_FRONT);
  const [distributionId, distribution] = onlyResource(template, 'AWS::CloudFront::Distribution');
  const config = distribution.Properties.DistributionConfig as unknown as Fragment;
  const behavior = config.DefaultCacheBehavior as unknown as Fragment;

  it('reaches the Function URL through an Origin Access Control for Lambda, signing every request', () => {
    const [oacId, oac] = onlyResource(template, 'AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 'lambda',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const origin = config.Origins?.[0] as Fragment;
    expect(config.Origins).toHaveLength(1);
    expect(referencedLogicalIds(origin.OriginAccessControlId)).toEqual([oacId]);
    expect(origin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
    const [urlId, url] = onlyResource(template, 'AWS::Lambda::Url');
    expect(referencedLogicalIds(origin.DomainName)).toEqual([urlId]);
    expect(url.Properties.AuthType).toBe('AWS_IAM');
  });

  it('lets only this distribution invoke the query function through its URL', () => {
    // The permissions name the function by the URL's FunctionArn attribute: the query function's.
    const [urlId, url] = onlyResource(template, 'AWS::Lambda::Url');
    expect(referencedLogicalIds(url.Properties.TargetFunctionArn)).toEqual([
      expect.stringMatching(/^QueryFunction[0-9A-F]{8}$/),
    ]);
    const fromCloudFront = Object.values(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { Principal: 'cloudfront.amazonaws.com' },
      }) as Record<string, CfnResource>,
    );
    expect(fromCloudFront.map((permission) => permission.Properties.Action).sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunctionUrl',
    ]);
    for (const permission of fromCloudFront) {
      expect(referencedLogicalIds(permission.Properties.FunctionName)).toEqual([urlId]);
      expect(permission.Properties.SourceArn).toEqual({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':cloudfront::',
            { Ref: 'AWS::AccountId' },
            ':distribution/',
            { Ref: distributionId },
          ],
        ],
      });
    }
    const viaUrl = fromCloudFront.find(
      (permission) => permission.Properties.Action === 'lambda:InvokeFunction',
    );
    expect(viaUrl?.Properties.InvokedViaFunctionUrl).toBe(true);
  });

  it('is read-only, HTTPS only (redirected), HTTP/2 and 3, IPv6, the cheapest price class', () => {
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.CachedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.HttpVersion).toBe('http2and3');
    expect(config.PriceClass).toBe('PriceClass_100');
    expect(config.IPV6Enabled).toBe(true);
  });

  it("caches as the API's Cache-Control says, keyed on every query parameter, Accept, Origin and the host", () => {
    const [cachePolicyId, cachePolicy] = onlyResource(template, 'AWS::CloudFront::CachePolicy');
    expect(referencedLogicalIds(behavior.CachePolicyId)).toEqual([cachePolicyId]);
    const policy = cachePolicy.Properties.CachePolicyConfig as unknown as Fragment;
    expect(policy.MinTTL).toBe(0);
    expect(policy.MaxTTL).toBeGreaterThanOrEqual(86_400);
    expect(policy.DefaultTTL).toBeLessThanOrEqual(300);
    const key = policy.ParametersInCacheKeyAndForwardedToOrigin as Fragment;
    expect(key.QueryStringsConfig).toEqual({ QueryStringBehavior: 'all' });
    expect(key.HeadersConfig).toEqual({
      HeaderBehavior: 'whitelist',
      Headers: ['Accept', 'Origin', 'X-Forwarded-Host'],
    });
    expect(key.CookiesConfig).toEqual({ CookieBehavior: 'none' });
  });

  it("passes the viewer's host on as X-Forwarded-Host, so feed links name the front and not the Function URL", () => {
    // A viewer-request function copies Host (the distribution's or an alias's name) over whatever
    // X-Forwarded-Host the viewer sent; the cache key holds it, so CloudFront forwards it.
    const [, fn] = onlyResource(template, 'AWS::CloudFront::Function');
    const associations = behavior.FunctionAssociations as unknown as { EventType: string }[];
    expect(associations.map((association) => association.EventType)).toEqual(['viewer-request']);
    const code = String(fn.Properties.FunctionCode);
    const request = {
      method: 'GET',
      uri: '/feeds/daily.xml',
      headers: { host: { value: 'd111.cloudfront.net' }, 'x-forwarded-host': { value: 'evil.example.com' } },
    };
    const handler = new Function(`${code}; return handler;`)() as (event: unknown) => typeof request;
    const forwarded = handler({ request });
    expect(forwarded.headers['x-forwarded-host']).toEqual({ value: 'd111.cloudfront.net' });
    expect(forwarded.uri).toBe('/feeds/daily.xml');
    // Forwarded because the cache key holds it (the test above).
  });

  it('forwards no Host header to the origin (the signed request must name the Function URL host)', () => {
    // With no origin request policy, CloudFront sends the origin only what the cache key holds.
    expect(behavior.OriginRequestPolicyId).toBeUndefined();
    template.resourceCountIs('AWS::CloudFront::OriginRequestPolicy', 0);
  });

  it('adds security headers and no CORS headers (the function sends those)', () => {
    const [policyId, policy] = onlyResource(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    expect(referencedLogicalIds(behavior.ResponseHeadersPolicyId)).toEqual([policyId]);
    const headers = policy.Properties.ResponseHeadersPolicyConfig as unknown as Fragment;
    expect(headers.CorsConfig).toBeUndefined();
    expect(Object.keys(headers.SecurityHeadersConfig ?? {}).sort()).toEqual([
      'ContentTypeOptions',
      'FrameOptions',
      'ReferrerPolicy',
      'StrictTransportSecurity',
    ]);
  });

  it('logs to a bucket of its own that accepts the ACL-written standard logs', () => {
    const bucketIds = referencedLogicalIds(config.Logging?.Bucket);
    expect(bucketIds).toHaveLength(1);
    const bucket = template.findResources('AWS::S3::Bucket')[bucketIds[0] as string] as CfnResource;
    expect(bucket.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }],
    });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true });
  });

  it('sits behind a CLOUDFRONT web ACL that blocks an IP over 1000 requests in 5 minutes', () => {
    const [webAclId, webAcl] = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(referencedLogicalIds(config.WebACLId)).toEqual([webAclId]);
    expect(webAcl.Properties.Scope).toBe('CLOUDFRONT');
    expect(webAcl.Properties.DefaultAction).toEqual({ Allow: {} });
    const rules = webAcl.Properties.Rules as unknown as Fragment[];
    expect(rules.find((rule) => rule.Statement?.RateBasedStatement)).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
    });
    expect(rules.map((rule) => rule.Statement?.ManagedRuleGroupStatement?.Name).filter(Boolean)).toEqual([
      'AWSManagedRulesCommonRuleSet',
    ]);
  });

  it('takes the rate limit from publicFrontRateLimit', () => {
    const limited = synthTemplate({ ...PUBLIC_FRONT, publicFrontRateLimit: '250' });
    const [, webAcl] = onlyResource(limited, 'AWS::WAFv2::WebACL');
    const rules = webAcl.Properties.Rules as unknown as Fragment[];
    expect(rules.map((rule) => rule.Statement?.RateBasedStatement?.Limit).filter(Boolean)).toEqual([250]);
  });

  it('refuses, in the template itself, a deployment outside us-east-1', () => {
    const rules = template.toJSON().Rules as Record<string, { Assertions: Record<string, unknown>[] }>;
    const regionRule = Object.entries(rules).find(([id]) => id.startsWith('PublicFrontWebAclRegionRule'));
    expect(regionRule?.[1].Assertions).toEqual([
      {
        Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
        AssertDescription: expect.stringContaining('us-east-1'),
      },
    ]);
  });

  it('outputs the public URL', () => {
    template.hasOutput('PublicFrontUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/']] },
    });
  });

  it('passes cdk-nag AwsSolutions (findings fixed or acknowledged with reasons)', () => {
    expect(validationFailures(buildApp(PUBLIC_FRONT).app)).toEqual([]);
  });
});

describe('public front context', () => {
  it('reports a rate limit given without the front', () => {
    const { stack } = buildApp({ publicFrontRateLimit: '300' });
    const errors = Annotations.fromStack(stack)
      .findError('*', Match.anyValue())
      .map((error) => String(error.entry.data));
    expect(errors).toEqual([
      'context "publicFrontRateLimit" is set but "publicFront" is not true: it would have no effect',
    ]);
  });
});

describe('public front and the region', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fails synth, saying what to do, when the CLI region is not us-east-1', () => {
    vi.stubEnv('CDK_DEFAULT_REGION', 'eu-west-1');
    const { stack } = buildApp(PUBLIC_FRONT);
    const errors = Annotations.fromStack(stack)
      .findError('*', Match.anyValue())
      .map((error) => String(error.entry.data));
    expect(errors).toEqual([
      expect.stringMatching(/publicFront.*us-east-1.*eu-west-1.*AWS_REGION=us-east-1/),
    ]);
  });

  it('builds in us-east-1, and off elsewhere', () => {
    vi.stubEnv('CDK_DEFAULT_REGION', 'us-east-1');
    expect(Annotations.fromStack(buildApp(PUBLIC_FRONT).stack).findError('*', Match.anyValue())).toEqual([]);
    vi.stubEnv('CDK_DEFAULT_REGION', 'eu-west-1');
    expect(Annotations.fromStack(buildApp().stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('refuses a stack pinned to another region', () => {
    const stack = new Stack(new App(), 'Pinned', { env: { region: 'eu-central-1' } });
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const queryUrl = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    expect(
      () =>
        new PublicFront(stack, 'PublicFront', { queryUrl, accessLogs: new s3.Bucket(stack, 'AccessLogs') }),
    ).toThrow(/needs the stack in us-east-1.*eu-central-1/);
  });
});
