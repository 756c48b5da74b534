/** Shared pieces of the X tests: the publisher under test, test media, and a multipart reader. */
import type { MediaInfo } from '../../../src/media/media.js';
import type { XPublisherOptions } from '../../../src/publishers/x/index.js';
import { createXPublisher } from '../../../src/publishers/x/index.js';
import type { AccountRef, Publisher, PublishRequest } from '../../../src/publishers/publisher.js';
import type { FileMediaAccess } from '../../helpers/file-media.js';
import { addImage, addVideoBytes } from '../../helpers/media.js';
import { publishRequest as sharedPublishRequest } from '../../helpers/publish-request.js';

export const API = 'https://api.x.com';
export const AUTHORIZE = 'https://x.com/i/oauth2/authorize';
export const CLIENT_ID = 'x-client-id';
export const CLIENT_SECRET = 'x-client-secret';
export const BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
export const ACCESS = 'x-access-token';
export const SCOPES = 'tweet.read tweet.write users.read offline.access media.write';
/** Small segments so that a small test video needs several appends. */
export const TEST_CHUNK_BYTES = 64 * 1024;

export function xPublisher(overrides: Partial<XPublisherOptions> = {}): Publisher {
  return createXPublisher({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiUrl: API,
    authorizeUrl: AUTHORIZE,
    chunkBytes: TEST_CHUNK_BYTES,
    pollIntervalMs: 1,
    maxWaitMs: 5_000,
    ...overrides,
  });
}

export const ACCOUNT: AccountRef = { platformAccountId: '1500', platformUserId: '1500', handle: 'acme', displayName: 'Acme Inc' };

export function publishRequest(
  media: FileMediaAccess,
  caption: string,
  files: MediaInfo[],
  extra: Partial<PublishRequest> = {},
): PublishRequest {
  const tokens = { accessToken: ACCESS, refreshToken: 'x-refresh-token', scopes: SCOPES };
  return { ...sharedPublishRequest({ account: ACCOUNT, tokens, draft: { caption, media: files }, media }), ...extra };
}

export function pngFile(media: FileMediaAccess, workDir: string, id = 'img-1', width = 64, height = 48): Promise<MediaInfo> {
  const background = { r: 200, g: 40, b: 90 };
  return addImage({ media, workDir }, { id, format: 'png', width, height, background, originalName: `${id}.png` });
}

export function jpegFile(media: FileMediaAccess, workDir: string, id = 'img-2'): Promise<MediaInfo> {
  const background = { r: 10, g: 120, b: 200 };
  return addImage(
    { media, workDir },
    { id, format: 'jpeg', extension: 'jpg', width: 80, height: 80, background, originalName: `${id}.jpg` },
  );
}

/** An MP4-looking file of `size` bytes (publishers trust MediaInfo, not the container). */
export function videoFile(media: FileMediaAccess, workDir: string, size = 150_000, id = 'vid-1'): Promise<MediaInfo> {
  const bytes = Buffer.alloc(size);
  Buffer.from('\0\0\0\x18ftypmp42', 'latin1').copy(bytes);
  for (let i = 12; i < size; i += 1) bytes[i] = (i * 31) % 251;
  return addVideoBytes({ media, workDir }, id, bytes, { width: 1280, height: 720, durationMs: 12_000, originalName: `${id}.mp4` });
}

export interface MultipartPart {
  name: string;
  filename?: string | undefined;
  contentType?: string | undefined;
  data: Buffer;
}

/**
 * Parses a multipart body as nock hands it to a body matcher: UTF-8 text, or hex when the bytes
 * are not valid UTF-8.
 */
export function parseMultipart(body: unknown, contentType: string | string[] | undefined): Map<string, MultipartPart> {
  const header = Array.isArray(contentType) ? contentType[0] : contentType;
  const boundary = /boundary=("?)([^";]+)\1/.exec(header ?? '')?.[2];
  if (!boundary || typeof body !== 'string') throw new Error(`not a multipart body (${header})`);
  const raw = body.startsWith('--') ? Buffer.from(body, 'utf8') : Buffer.from(body, 'hex');
  const parts = new Map<string, MultipartPart>();
  const delimiter = Buffer.from(`--${boundary}`);
  let at = raw.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(delimiter, start);
    if (next === -1) break;
    const part = raw.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? '';
    parts.set(name, {
      name,
      filename: /filename="([^"]*)"/.exec(head)?.[1],
      contentType: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1],
      data: part.subarray(split + 4),
    });
    at = next;
  }
  return parts;
}

/** The headers nock's body matcher sees as `this.headers`. */
export interface MatcherThis {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Whether a request is the expected append: multipart, the segment index, and exactly the chunk
 * bytes. Matchers answer true/false so a mismatch shows as an unmatched request.
 */
export function isAppend(self: MatcherThis, body: unknown, segment: number, expected: Buffer): boolean {
  const contentType = self.headers['content-type'];
  if (!/^multipart\/form-data; boundary=/.test(String(contentType))) return false;
  const parts = parseMultipart(body, contentType);
  const media = parts.get('media');
  return (
    parts.size === 2 &&
    parts.get('segment_index')?.data.toString() === String(segment) &&
    media?.contentType === 'application/octet-stream' &&
    media.data.equals(expected)
  );
}

/** The bytes of segment `index` of a file cut in `chunk`-byte pieces. */
export function segmentOf(bytes: Buffer, index: number, chunk = TEST_CHUNK_BYTES): Buffer {
  return bytes.subarray(index * chunk, (index + 1) * chunk);
}
