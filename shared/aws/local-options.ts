import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The one place that knows how SDK clients differ locally. On AWS they use the
 * function's role and region, the role's credentials read from the environment as Lambda
 * sets them (`fromEnv`; the bundles carry no other provider, see `lambda-credentials.ts`). Locally an endpoint (from `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, see `shared/config.ts`)
 * points them at the in-process stand-ins, with dummy credentials.
 *
 * One module per service (`s3.ts`, `sqs.ts`, `dynamodb.ts`) so each function's
 * bundle carries only the clients it uses; call the factories once, at module scope.
 */
export function localOptions(endpoint: string | undefined) {
  if (!endpoint) return { credentials: fromEnv() };
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}
