/**
 * What a Lambda bundle gets in place of `@aws-sdk/credential-provider-node`, the SDK's
 * default credential chain (`bundleOptions.alias` in `infra/bundling.ts`). On Lambda the
 * function's role reaches the code through the environment only
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), so the chain's other
 * providers (profiles, SSO, STS web identity, IMDS, container HTTP, processes, and the STS and
 * SSO clients they bring) were about 93 KB of every bundle and never ran. The clients made in
 * `shared/aws/` are given `fromEnv()` already; this keeps a client made any other way working too.
 *
 * Only bundles use it: run from source (tests, the CLI, `--aws` tools) the real chain is there.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The SDK clients' default provider, reduced to the one source Lambda has. */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
