import * as z from '../zod';

/**
 * `AWS_ENDPOINT_URL_*`, set only locally: they point the SDK clients at the stand-ins (see
 * `shared/aws/local-options.ts`). Unset on AWS.
 */
export const s3Endpoint = { AWS_ENDPOINT_URL_S3: z.optional(z.url()) };
export const sqsEndpoint = { AWS_ENDPOINT_URL_SQS: z.optional(z.url()) };
export const dynamoEndpoint = { AWS_ENDPOINT_URL_DYNAMODB: z.optional(z.url()) };
