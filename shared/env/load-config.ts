import type * as z from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` (default `process.env`) with `schema`; throws a {@link ConfigError} naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${issues}`);
  }
  return result.data;
}
