/**
 * How Meta and TikTok pull media by URL: a real HTTP GET of the URL IQSP handed out (its
 * /media/:token route), streamed through a hash, with the type read from the first bytes as
 * the platforms do (they ignore file names and mostly ignore Content-Type).
 *
 * Redirects are not followed: IQSP's media URLs are meant to be stable and redirect-free
 * (platform-apis.md §6), so a redirect here is a finding, not something to paper over.
 */
import { ByteCounter } from './body.js';

export interface FetchedMedia {
  url: string;
  contentType?: string | undefined;
  bytes: number;
  sha256: string;
  /** The type recognised from the content bytes, when it is one the platforms know. */
  type?: string | undefined;
}

export type MediaFetchResult = { ok: true; media: FetchedMedia } | { ok: false; url: string; reason: string };

const DEFAULT_TIMEOUT_MS = 30_000;

export async function fetchMedia(url: string, signal: AbortSignal, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<MediaFetchResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, url, reason: 'not a URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return { ok: false, url, reason: `unsupported scheme ${parsed.protocol}` };
  try {
    const response = await fetch(parsed, { redirect: 'manual', signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    if (response.status !== 200) {
      await response.body?.cancel();
      return { ok: false, url, reason: `HTTP ${response.status}` };
    }
    const counter = new ByteCounter();
    if (response.body) for await (const chunk of response.body) counter.write(Buffer.from(chunk as Uint8Array));
    const received = counter.finish();
    return {
      ok: true,
      media: {
        url,
        contentType: response.headers.get('content-type') ?? undefined,
        bytes: received.bytes,
        sha256: received.sha256,
        type: sniffType(received.head),
      },
    };
  } catch (error) {
    return { ok: false, url, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The media type of a file from its first bytes (magic numbers), for the formats the platforms name. */
export function sniffType(head: Buffer): string | undefined {
  const ascii = (start: number, end: number): string => head.subarray(start, end).toString('latin1');
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (ascii(0, 4) === 'GIF8') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 2) === 'BM') return 'image/bmp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'image/tiff';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'video/webm';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return 'image/heic';
    if (brand === 'avif') return 'image/avif';
    if (brand === 'qt  ') return 'video/quicktime';
    return 'video/mp4';
  }
  return undefined;
}
