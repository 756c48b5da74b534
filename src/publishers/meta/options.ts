/** Configuration shared by the Facebook and Instagram publishers (one Meta app serves both). */
export interface MetaPublisherOptions {
  appId: string;
  appSecret: string;
  /** Graph API base with its version, e.g. https://graph.facebook.com/v26.0 (GRAPH_API_URL). */
  graphApiUrl: string;
  /** Consent page, e.g. https://www.facebook.com/v26.0/dialog/oauth (FACEBOOK_AUTHORIZE_URL). */
  authorizeUrl: string;
  /** Delay between two status checks of a video or an Instagram container (default 5 s). */
  pollIntervalMs?: number;
  /** How long platform-side processing may take before giving up (default 10 minutes). */
  maxWaitMs?: number;
}

export interface PollTiming {
  intervalMs: number;
  maxWaitMs: number;
}

const DEFAULT_POLL_INTERVAL_MS = 5_000;
// Reels may be 15 minutes long; Meta processes them well within this in practice.
const DEFAULT_MAX_WAIT_MS = 10 * 60_000;

export function pollTiming(options: MetaPublisherOptions): PollTiming {
  return {
    intervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
  };
}

/**
 * Meta documents video uploads on graph-video.facebook.com (platform-apis.md §1.1, §1.5). The
 * configuration names one Graph base, so the video host is derived from it when it is Meta's
 * own host; any other base (a proxy, a local simulator) serves both.
 */
export function graphVideoUrl(graphApiUrl: string): string {
  const url = new URL(graphApiUrl);
  if (url.hostname === 'graph.facebook.com') url.hostname = 'graph-video.facebook.com';
  return url.toString().replace(/\/+$/, '');
}
