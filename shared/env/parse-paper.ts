import { NonEmptyStringSchema } from '../common-schemas';
import * as z from '../zod';
import { dynamoEndpoint, s3Endpoint, sqsEndpoint } from './endpoints';

/** parse-paper's environment, checked once at cold start (see `shared/config.ts`). */

export const ParsePaperEnvSchema = z.object({
  ...dynamoEndpoint,
  ...sqsEndpoint,
  ...s3Endpoint,
  TABLE_NAME: NonEmptyStringSchema,
  /** An item too large for its message is read from the archived listing (`listings/…`). */
  ARCHIVE_BUCKET: NonEmptyStringSchema,
  CLASSIFY_QUEUE_URL: z.url(),
  /** The parse queue's dead-letter queue: a record that cannot succeed is sent there with its reason. */
  PARSE_DEAD_LETTER_QUEUE_URL: z.url(),
});
export type ParsePaperEnv = z.infer<typeof ParsePaperEnvSchema>;
