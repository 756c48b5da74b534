/**
 * Polling /v2/post/publish/status/fetch/ after the commit (platform-apis.md §4.8). Everything
 * here happens once TikTok may already be publishing, so only a FAILED status is a definite
 * answer; anything else that goes wrong ends as 'unknown', never as something to resend.
 */
import type { HttpResponse } from '../http.js';
import { NetworkError } from '../http.js';
import type { Failure, PublishProgress } from '../publisher.js';
import { envelopeData, envelopeError, postJson } from './api.js';
import { PublishFailed, failureForCode } from './errors.js';
import { asString } from './json.js';
import type { TiktokSettings } from './options.js';

export interface StatusWait {
  publishId: string;
  /** False for SELF_ONLY posts: TikTok never gives their public id, so completion is enough. */
  expectPublicId: boolean;
  onProgress?: ((progress: PublishProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Answers that only mean "ask again later". */
const TRANSIENT_CODES = new Set(['rate_limit_exceeded', 'internal_error']);

/**
 * Waits for PUBLISH_COMPLETE and returns the public post id, or undefined when the post is
 * complete but TikTok has not given its id (private posts, or moderation still running).
 */
export async function waitForPublish(settings: TiktokSettings, accessToken: string, wait: StatusWait): Promise<string | undefined> {
  const deadline = Date.now() + settings.maxWaitMs;
  let complete = false;
  for (;;) {
    const response = await fetchStatus(settings, accessToken, wait);
    if (response) {
      const data = envelopeData(response.json);
      const status = asString(data.status);
      // Check the status before the envelope: a FAILED post can come with error.code "ok".
      if (status === 'FAILED') throw new PublishFailed(failedPost(asString(data.fail_reason) ?? 'unknown'));
      if (status === 'PUBLISH_COMPLETE') {
        complete = true;
        const id = publicPostIds(response.text)[0];
        if (id !== undefined || !wait.expectPublicId) return id;
      } else if (status === 'SEND_TO_USER_INBOX') {
        throw new PublishFailed({
          class: 'unknown',
          message: "TikTok sent the post to the account's inbox instead of publishing it; finish it in the TikTok app.",
          platformCode: 'tiktok:SEND_TO_USER_INBOX',
        });
      } else if (status === undefined) {
        unreadableStatus(response);
      }
      if (!complete) wait.onProgress?.({ phase: 'processing' });
    }
    if (Date.now() >= deadline) {
      if (complete) return undefined;
      throw new PublishFailed({
        class: 'unknown',
        message:
          'TikTok was still processing the post when the wait ran out; it may still go live, so check the account before posting again.',
        platformCode: 'tiktok:status_timeout',
      });
    }
    await sleep(settings.pollIntervalMs, wait.signal);
  }
}

/** One status call; undefined when it should simply be asked again (network, 5xx, 429). */
async function fetchStatus(settings: TiktokSettings, accessToken: string, wait: StatusWait): Promise<HttpResponse | undefined> {
  let response: HttpResponse;
  try {
    response = await postJson(settings, '/v2/post/publish/status/fetch/', accessToken, { publish_id: wait.publishId }, wait.signal);
  } catch (error) {
    if (error instanceof NetworkError && !wait.signal?.aborted) return undefined;
    throw error;
  }
  if (asString(envelopeData(response.json).status)) return response;
  const code = envelopeError(response.json)?.code;
  if (response.status >= 500 || response.status === 429 || (code && TRANSIENT_CODES.has(code))) return undefined;
  return unreadableStatus(response);
}

function unreadableStatus(response: HttpResponse): never {
  const code = envelopeError(response.json)?.code ?? `http_${response.status}`;
  throw new PublishFailed({
    class: 'unknown',
    message: `TikTok accepted the post but its status could not be read (${code}); check the account before posting again.`,
    platformCode: `tiktok:${code}`,
  });
}

/** A FAILED post never went live: its fail_reason decides what the person must do. */
function failedPost(reason: string): Failure {
  return (
    failureForCode(reason) ?? {
      class: 'content',
      message: `TikTok did not publish the post (${reason}); check the media and caption, then try again.`,
      platformCode: `tiktok:${reason}`,
    }
  );
}

/**
 * `publicaly_available_post_id` (sic) holds 64-bit ids that JSON.parse would round, so their
 * digits are read from the raw body text.
 */
export function publicPostIds(text: string): string[] {
  const list = /"publicaly_available_post_id"\s*:\s*\[([^\]]*)\]/.exec(text)?.[1] ?? '';
  return [...list.matchAll(/"?(\d+)"?/g)].map((m) => m[1] ?? '').filter(Boolean);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error); // an AbortSignal's reason: an Error unless abort(x) says otherwise
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
