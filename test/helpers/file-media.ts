/**
 * A MediaAccess over plain files, for publisher tests: streams ranges from disk, hands out
 * a fixed public URL per media id, and converts to JPEG with sharp like the real store.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import type { ByteRange, MediaAccess, MediaInfo, MediaKind } from '../../src/media/media.js';

export const TEST_MEDIA_BASE = 'https://iqsp.test/media';

export class FileMediaAccess implements MediaAccess {
  private readonly files = new Map<string, string>();
  readonly streamed: string[] = [];

  constructor(private readonly workDir: string) {}

  /** Registers a file and returns its MediaInfo (sha256 computed by streaming). */
  async add(file: string, info: { id: string; kind: MediaKind; mimeType: string } & Partial<MediaInfo>): Promise<MediaInfo> {
    const { size } = await stat(file);
    const sha256 = await new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      createReadStream(file)
        .on('data', (c) => hash.update(c))
        .on('end', () => resolve(hash.digest('hex')))
        .on('error', reject);
    });
    this.files.set(info.id, file);
    return { sizeBytes: size, sha256, ...info };
  }

  async stream(media: MediaInfo, range?: ByteRange): Promise<Readable> {
    const file = this.files.get(media.id);
    if (!file) throw new Error(`unknown media ${media.id}`);
    this.streamed.push(media.id);
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async publicUrl(media: MediaInfo): Promise<string> {
    return `${TEST_MEDIA_BASE}/${media.id}`;
  }

  async jpegCopy(media: MediaInfo): Promise<MediaInfo> {
    if (media.mimeType === 'image/jpeg') return media;
    const source = this.files.get(media.id);
    if (!source) throw new Error(`unknown media ${media.id}`);
    const target = path.join(this.workDir, `${media.id}.jpg`);
    const out = await sharp(source).flatten({ background: '#ffffff' }).jpeg({ quality: 90 }).toFile(target);
    return this.add(target, { id: `${media.id}-jpeg`, kind: 'image', mimeType: 'image/jpeg', width: out.width, height: out.height });
  }
}
