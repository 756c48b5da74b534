/** The Threads app's settings (THREADS_APP_ID, THREADS_APP_SECRET, THREADS_API_URL, THREADS_AUTHORIZE_URL) and timing. */
export interface ThreadsAppSettings {
  appId: string;
  appSecret: string;
  /** THREADS_API_URL, with its version: https://graph.threads.net/v1.0 */
  apiUrl: string;
  /** THREADS_AUTHORIZE_URL: https://threads.net/oauth/authorize */
  authorizeUrl: string;
}

export interface ThreadsPublisherOptions extends ThreadsAppSettings {
  /** Between two reads of a container's status (default 5 s; Meta suggests once a minute at most for 5 minutes). */
  pollIntervalMs?: number;
  /** How long a container may stay IN_PROGRESS before giving up (default 10 minutes: videos up to 1 GB). */
  maxWaitMs?: number;
}

export interface ThreadsSettings extends ThreadsAppSettings {
  /**
   * The host's origin: the token endpoints (`/oauth/access_token`, `/access_token`,
   * `/refresh_access_token`) sit beside the versioned API, not under it.
   */
  origin: string;
  pollIntervalMs: number;
  maxWaitMs: number;
}

const DEFAULT_POLL_INTERVAL_MS = 5_000;
const DEFAULT_MAX_WAIT_MS = 10 * 60_000;

export function resolveThreadsOptions(options: ThreadsPublisherOptions): ThreadsSettings {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  return {
    appId: options.appId,
    appSecret: options.appSecret,
    apiUrl,
    authorizeUrl: options.authorizeUrl,
    origin: new URL(apiUrl).origin,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
  };
}
