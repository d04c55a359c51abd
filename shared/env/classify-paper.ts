import { NonEmptyStringSchema } from '../common-schemas';
import * as z from '../zod';
import { dynamoEndpoint, sqsEndpoint } from './endpoints';

/** classify-paper's environment, checked once at cold start (see `shared/config.ts`). */

export const ClassifyPaperEnvSchema = z.object({
  ...dynamoEndpoint,
  ...sqsEndpoint,
  TABLE_NAME: NonEmptyStringSchema,
  /** The classify queue's dead-letter queue: a record that cannot succeed is sent there with its reason. */
  CLASSIFY_DEAD_LETTER_QUEUE_URL: z.url(),
});
export type ClassifyPaperEnv = z.infer<typeof ClassifyPaperEnvSchema>;
