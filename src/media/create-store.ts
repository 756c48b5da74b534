/**
 * The media store the configuration asks for: the local folder (`MEDIA_DIR`, the embedded
 * default) or an S3 bucket (`MEDIA_STORE=s3`), which several instances can share. The S3
 * client is loaded only when asked for (the AWS SDK takes a third of a second to load).
 */
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { LocalMediaStore, type MediaStore } from './store.js';

export async function createMediaStore(
  config: Pick<Config, 'mediaDir' | 'mediaStore'>,
  options: { logger?: Logger } = {},
): Promise<MediaStore> {
  const store = config.mediaStore;
  if (store.kind === 'local') return new LocalMediaStore(config.mediaDir);
  const { S3MediaStore } = await import('./s3-store.js');
  return new S3MediaStore({
    bucket: store.bucket,
    region: store.region,
    endpoint: store.endpoint,
    forcePathStyle: store.forcePathStyle,
    credentials: store.credentials,
    prefix: store.prefix,
    presignedRedirect: store.presignedRedirect,
    logger: options.logger,
  });
}
