/**
 * The optional public, read-only front of the query API (context `publicFront=true`): a CloudFront
 * distribution whose only origin is the query function's Function URL, reached through Origin
 * Access Control, so the URL itself stays AWS_IAM and only this distribution (and the IAM callers
 * it always had) may invoke it. A CLOUDFRONT-scoped WAF web ACL with a per-IP rate-based rule sits
 * in front. It serves what the API serves: the web page at `/`, the feeds and the read API.
 */
import { Aws, CfnRule, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { FunctionUrlOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Requests one IP may make in five minutes before the web ACL blocks it. */
export const DEFAULT_PUBLIC_FRONT_RATE_LIMIT = 1000;
/** WAF's bounds on a rate-based rule's limit. */
export const PUBLIC_FRONT_RATE_LIMIT_MIN = 10;
export const PUBLIC_FRONT_RATE_LIMIT_MAX = 2_000_000_000;
/** The only region a CLOUDFRONT-scoped web ACL can be created in. */
export const WEB_ACL_REGION = 'us-east-1';

export interface PublicFrontProps {
  /** The query function's URL; must be AWS_IAM (the origin signs every request with SigV4). */
  readonly queryUrl: lambda.IFunctionUrl;
  /** Receives the server access logs of the CloudFront log bucket. */
  readonly accessLogs: s3.IBucket;
  /** Requests per IP per five minutes. @default DEFAULT_PUBLIC_FRONT_RATE_LIMIT */
  readonly rateLimit?: number;
  /** Adds AWS's managed common rule set (bad inputs, known exploits) to the web ACL. @default true */
  readonly commonRuleSet?: boolean;
}

/**
 * The distribution, its cache and response-headers policies, its log bucket and its web ACL.
 * @throws Error when the stack's region is known and is not us-east-1: the web ACL cannot exist there.
 */
export class PublicFront extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: PublicFrontProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (!Token.isUnresolved(stack.region) && stack.region !== WEB_ACL_REGION) {
      throw new Error(
        `publicFront needs the stack in ${WEB_ACL_REGION}: its CLOUDFRONT-scoped WAF web ACL can only be created there, ` +
          `and stack ${stack.stackName} is in ${stack.region}. Deploy with AWS_REGION=${WEB_ACL_REGION} (or CDK_DEFAULT_REGION), or leave publicFront off.`,
      );
    }
    // The stack is environment-agnostic (its region is known only at deployment): a template rule
    // refuses a deployment elsewhere before anything is created, with the reason.
    new CfnRule(this, 'WebAclRegionRule', {
      assertions: [
        {
          assert: Fn.conditionEquals(Aws.REGION, WEB_ACL_REGION),
          assertDescription: `publicFront=true needs the stack in ${WEB_ACL_REGION} (a CLOUDFRONT-scoped WAF web ACL exists only there): deploy to ${WEB_ACL_REGION} or synthesize without publicFront.`,
        },
      ],
    });

    const rateLimit = props.rateLimit ?? DEFAULT_PUBLIC_FRONT_RATE_LIMIT;
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: 'Public read-only front of the daily-papers query API',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${stack.stackName}-public-front`),
      rules: [
        {
          name: 'rate-per-ip',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 },
          },
          visibilityConfig: visibility('rate-per-ip'),
        },
        ...(props.commonRuleSet === false
          ? []
          : [
              {
                name: 'aws-common-rule-set',
                priority: 1,
                overrideAction: { none: {} },
                statement: {
                  managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' },
                },
                visibilityConfig: visibility('aws-common-rule-set'),
              },
            ]),
      ],
    });

    // Standard logging writes with ACLs: this bucket needs them, unlike every other bucket here.
    const logBucket = new s3.Bucket(this, 'Logs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'PublicFrontLogs/',
      lifecycleRules: [{ id: 'expire-cloudfront-logs', expiration: Duration.days(365) }],
    });

    // The Host header must not reach the origin (the signed request names the Function URL's host),
    // yet the feeds' links must name the host the viewer used: this function copies it to
    // X-Forwarded-Host (over any the viewer sent), which the API reads for its base URL.
    const viewerHost = new cloudfront.Function(this, 'ViewerHost', {
      comment: "Passes the viewer's Host on as X-Forwarded-Host for the API's absolute links",
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        "function handler(event) { var request = event.request; request.headers['x-forwarded-host'] = { value: request.headers.host.value }; return request; }",
      ),
    });
    // The API decides freshness (Cache-Control: a day for past days, minutes for today); these
    // bounds only let it. Its answers vary on Accept (CSV or JSON), on Origin (CORS, with an
    // allow-list) and, for the feeds' links, on the viewer's host, so all three are in the key (and
    // so forwarded); every query parameter is. CloudFront answers If-None-Match from its cache and
    // revalidates with the cached ETag. Nothing else is forwarded: the Host header in particular
    // must not be, or the signed request would not match the Function URL's host.
    const cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: "Honours the query API's Cache-Control; keyed on its parameters, Accept, Origin and the host",
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.minutes(1),
      maxTtl: Duration.days(2),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Accept', 'Origin', 'X-Forwarded-Host'),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    // Security headers only: the function sends the CORS headers itself, so none are added here,
    // and a header the function already sets is left as it is (override: false).
    const responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'ResponseHeaders', {
      comment: 'Security headers for the public front; CORS stays with the query function',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: false,
        },
        contentTypeOptions: { override: false },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: false },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: false,
        },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Daily papers: public read-only front of the query API',
      defaultBehavior: {
        origin: FunctionUrlOrigin.withOriginAccessControl(props.queryUrl),
        // Read-only. No OPTIONS: the web page is same-origin here, and a cross-origin GET without
        // custom headers needs no preflight; signed (preflighted) calls go to the Function URL.
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy,
        responseHeadersPolicy,
        functionAssociations: [
          { function: viewerHost, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // No minimumProtocolVersion: without a custom domain's certificate CloudFront ignores it
      // (the *.cloudfront.net certificate's policy is fixed); see the CFR4 acknowledgement.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableIpv6: true,
      enableLogging: true,
      logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: this.webAcl.attrArn,
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'Papers listings are public data meant for readers anywhere; there is no country to keep out. Abuse is bounded by the WAF rate rule instead.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        "The distribution has no custom domain, so it uses CloudFront's *.cloudfront.net certificate, whose viewer TLS policy CloudFront fixes (TLSv1 and up); the origin leg is TLS 1.2 only.",
    });
  }
}

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}
