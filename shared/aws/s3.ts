import { S3Client } from '@aws-sdk/client-s3';
import { localOptions } from './local-options';

/** Path-style addressing locally: the stand-in serves every bucket on one host. */
export function makeS3Client(endpoint?: string): S3Client {
  return new S3Client({ ...localOptions(endpoint), forcePathStyle: Boolean(endpoint) });
}
