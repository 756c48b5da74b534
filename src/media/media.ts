/**
 * What the rest of IQSP knows about a piece of temporary media. The bytes live in a media store
 * (local folder now, S3 later); everything else reads them through `MediaAccess`, as a stream,
 * never whole into memory.
 */
import type { Readable } from 'node:stream';

export type MediaKind = 'image' | 'video';

export interface MediaInfo {
  id: string;
  kind: MediaKind;
  /** Sniffed from the content bytes, never taken from a file name or a header. */
  mimeType: string;
  sizeBytes: number;
  sha256: string;
  originalName?: string | undefined;
  /** Pixels, when known (images always; videos when the container says). */
  width?: number | undefined;
  height?: number | undefined;
  /** Videos only. */
  durationMs?: number | undefined;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** Read access to stored media, as publishers need it. */
export interface MediaAccess {
  /** The bytes (or a range of them) as a stream. */
  stream(media: MediaInfo, range?: ByteRange): Promise<Readable>;
  /**
   * A public URL the platform can fetch (signed, expiring; served by `GET /media/:token`).
   * Valid at least `ttlSeconds` (default: long enough for the platform to fetch it).
   */
  publicUrl(media: MediaInfo, ttlSeconds?: number): Promise<string>;
  /**
   * A JPEG copy of an image (stored beside the original and cleaned up with it), for platforms
   * that accept only JPEG. Returns the media itself when it already is a JPEG.
   */
  jpegCopy(media: MediaInfo): Promise<MediaInfo>;
}
