/**
 * The media store the configuration asks for: the local folder (`MEDIA_DIR`, the embedded
 * default) or an S3 bucket (`MEDIA_STORE=s3`), which several instances can share. The S3
 * client (the AWS SDK: a third of a second to load, some 17 MB resident) is loaded at the
 * store's first use, not at start: an idle service does not hold it (issue 19).
 */
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { ByteRange } from './media.js';
import type { S3MediaStoreOptions } from './s3-store.js';
import { LocalMediaStore, type MediaStore, type StoredEntry, type StoredObject } from './store.js';

export async function createMediaStore(
  config: Pick<Config, 'mediaDir' | 'mediaStore'>,
  options: { logger?: Logger } = {},
): Promise<MediaStore> {
  const store = config.mediaStore;
  if (store.kind === 'local') return new LocalMediaStore(config.mediaDir);
  return new LazyS3MediaStore({
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

/** An S3MediaStore made (its module and the SDK loaded) when first used. */
export class LazyS3MediaStore implements MediaStore {
  private loading: Promise<MediaStore> | undefined;
  /** Present only when configured, as S3MediaStore's: its presence is what makes the media route redirect. */
  readonly presignedUrl?: (key: string, options: { ttlSeconds: number; contentType: string }) => Promise<string>;

  constructor(private readonly options: S3MediaStoreOptions) {
    if (options.presignedRedirect) this.presignedUrl = async (key, urlOptions) => (await this.store()).presignedUrl!(key, urlOptions);
  }

  /** The real store, made once. */
  store(): Promise<MediaStore> {
    this.loading ??= import('./s3-store.js').then(({ S3MediaStore }) => new S3MediaStore(this.options));
    return this.loading;
  }

  async put(key: string, source: Readable, maxBytes: number): Promise<StoredObject> {
    return (await this.store()).put(key, source, maxBytes);
  }

  async putFile(key: string, file: string): Promise<void> {
    return (await this.store()).putFile(key, file);
  }

  async open(key: string, range?: ByteRange): Promise<Readable> {
    return (await this.store()).open(key, range);
  }

  async size(key: string): Promise<number | undefined> {
    return (await this.store()).size(key);
  }

  async delete(key: string): Promise<void> {
    return (await this.store()).delete(key);
  }

  async *list(): AsyncIterable<StoredEntry> {
    yield* (await this.store()).list();
  }

  async removeUnfinished(before: Date): Promise<number> {
    return (await this.store()).removeUnfinished(before);
  }
}
