import { NonEmptyStringSchema } from '../common-schemas';
import { AllowedOriginsSchema } from '../query/cors';
import * as z from '../zod';
import { dynamoEndpoint } from './endpoints';

/** The query function's environment, checked once at cold start (see `shared/config.ts`). */

export const QueryEnvSchema = z
  .object({
    ...dynamoEndpoint,
    /** Set only locally, where a test serves Secrets Manager's protocol. */
    AWS_ENDPOINT_URL_SECRETS_MANAGER: z.optional(z.url()),
    TABLE_NAME: NonEmptyStringSchema,
    /** The key cursors are sealed with (locally: generated into the data folder). */
    QUERY_CURSOR_KEY: z.optional(z.string().check(z.minLength(32))),
    /** On AWS: the generated secret holding that key, read once per cold start. */
    QUERY_CURSOR_KEY_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    /** `*` (the default) or the origins, comma-separated, whose browser scripts may read the API. */
    QUERY_CORS_ALLOWED_ORIGINS: AllowedOriginsSchema,
  })
  .check(
    z.superRefine((env, context) => {
      if ((env.QUERY_CURSOR_KEY === undefined) === (env.QUERY_CURSOR_KEY_SECRET_ARN === undefined)) {
        context.addIssue({
          code: 'custom',
          path: ['QUERY_CURSOR_KEY'],
          message: 'set either QUERY_CURSOR_KEY or QUERY_CURSOR_KEY_SECRET_ARN (exactly one)',
        });
      }
    }),
  );
export type QueryEnv = z.infer<typeof QueryEnvSchema>;
