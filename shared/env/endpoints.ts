import * as z from 'zod';

/**
 * `AWS_ENDPOINT_URL_*`, set only locally: they point the SDK clients at the stand-ins (see
 * `shared/aws/local-options.ts`). Unset on AWS.
 */
export const s3Endpoint = { AWS_ENDPOINT_URL_S3: z.url().optional() };
export const sqsEndpoint = { AWS_ENDPOINT_URL_SQS: z.url().optional() };
export const dynamoEndpoint = { AWS_ENDPOINT_URL_DYNAMODB: z.url().optional() };
