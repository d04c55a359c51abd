/**
 * The one place that knows how SDK clients differ locally. On AWS they use the
 * function's role and region. Locally an endpoint (from `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, see `shared/config.ts`)
 * points them at the in-process stand-ins, with dummy credentials.
 *
 * One module per service (`s3.ts`, `sqs.ts`, `dynamodb.ts`) so each function's
 * bundle carries only the clients it uses; call the factories once, at module scope.
 */
export function localOptions(endpoint: string | undefined) {
  if (!endpoint) return {};
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}
