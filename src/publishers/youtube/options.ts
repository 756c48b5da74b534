/** The YouTube publisher's settings: what the factory takes, and the same with defaults applied. */

export interface YoutubePublisherOptions {
  clientId: string;
  clientSecret: string;
  /** YOUTUBE_API_URL, e.g. https://www.googleapis.com (the Data API and its upload endpoint). */
  apiUrl: string;
  /** GOOGLE_AUTHORIZE_URL, e.g. https://accounts.google.com/o/oauth2/v2/auth */
  authorizeUrl: string;
  /** GOOGLE_TOKEN_URL, e.g. https://oauth2.googleapis.com/token (revocation is at the same origin's /revoke). */
  tokenUrl: string;
  /** Bytes per upload request (default 8 MiB), rounded down to a multiple of 256 KiB. */
  chunkBytes?: number;
  /** Delay between processing-status reads after the upload (default 5 s). */
  pollIntervalMs?: number;
  /** How long to watch processing for a failure or rejection before reporting the upload as published (default 60 s). */
  maxWaitMs?: number;
  /** First wait before resuming an interrupted upload, doubled each time (default 1 s). */
  retryDelayMs?: number;
}

export interface YoutubeSettings {
  clientId: string;
  clientSecret: string;
  /** Without a trailing slash. */
  apiUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  chunkBytes: number;
  pollIntervalMs: number;
  maxWaitMs: number;
  retryDelayMs: number;
}

/** Every upload request but the last must carry a multiple of 256 KiB (the resumable protocol). */
export const UPLOAD_GRANULE = 256 * 1024;
/** 8 MiB per request, as Postiz streams: few round trips, one ranged read in flight. */
export const DEFAULT_CHUNK_BYTES = 32 * UPLOAD_GRANULE;

export function resolveOptions(options: YoutubePublisherOptions): YoutubeSettings {
  const chunk = Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / UPLOAD_GRANULE) * UPLOAD_GRANULE;
  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    apiUrl: options.apiUrl.replace(/\/+$/, ''),
    authorizeUrl: options.authorizeUrl,
    tokenUrl: options.tokenUrl,
    chunkBytes: Math.max(UPLOAD_GRANULE, chunk),
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    retryDelayMs: options.retryDelayMs ?? 1_000,
  };
}
