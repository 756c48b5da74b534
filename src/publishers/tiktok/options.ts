/** The TikTok publisher's settings: what the factory takes, and the same with defaults applied. */

export interface TiktokPublisherOptions {
  clientKey: string;
  clientSecret: string;
  /** TIKTOK_API_URL, e.g. https://open.tiktokapis.com */
  apiUrl: string;
  /** TIKTOK_AUTHORIZE_URL, e.g. https://www.tiktok.com/v2/auth/authorize/ */
  authorizeUrl: string;
  /** Preferred upload chunk size in bytes (default 5 MiB; kept within TikTok's 5–64 MB rule). */
  chunkBytes?: number;
  /** Delay between status checks (default 3 s: the status endpoint allows 30 calls a minute). */
  pollIntervalMs?: number;
  /** How long to wait for TikTok to finish processing before reporting the post as unconfirmed (default 10 min). */
  maxWaitMs?: number;
}

export interface TiktokSettings {
  clientKey: string;
  clientSecret: string;
  /** Without a trailing slash. */
  apiUrl: string;
  authorizeUrl: string;
  chunkBytes: number;
  pollIntervalMs: number;
  maxWaitMs: number;
}

/**
 * TikTok's smallest allowed chunk: one chunk is in memory (in flight) per upload at a time, so
 * the smallest chunk keeps several concurrent uploads cheap; a 4 GB video is 819 chunks (≤ 1000).
 */
export const DEFAULT_CHUNK_BYTES = 5 * 1024 * 1024;

export function resolveOptions(options: TiktokPublisherOptions): TiktokSettings {
  return {
    clientKey: options.clientKey,
    clientSecret: options.clientSecret,
    apiUrl: options.apiUrl.replace(/\/+$/, ''),
    authorizeUrl: options.authorizeUrl,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    pollIntervalMs: options.pollIntervalMs ?? 3_000,
    maxWaitMs: options.maxWaitMs ?? 10 * 60_000,
  };
}
