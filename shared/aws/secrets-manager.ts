import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { localOptions } from './local-options';

export function makeSecretsManagerClient(endpoint?: string): SecretsManagerClient {
  return new SecretsManagerClient(localOptions(endpoint));
}

/** A secret's current string value. @throws when it cannot be read or holds no string. */
export async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!SecretString) throw new Error(`secret ${secretId} holds no string value`);
  return SecretString;
}
