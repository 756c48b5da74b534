/**
 * TikTok's answers mapped to the port's failure classes. TikTok names every error with a
 * readable `error.code` in the envelope (and a `fail_reason` in the post status), so the code
 * decides first and the HTTP status only fills in for codes we do not know.
 */
import type { Failure } from '../publisher.js';
import type { HttpResponse } from '../http.js';
import { NetworkError, retryAfterMs } from '../http.js';
import { envelopeError, isSuccess } from './api.js';
import { asObject, asString } from './json.js';

/**
 * Where in the flow a request sits. Before the commit nothing is live, so any server trouble
 * is retryable. The committing request (the last video chunk, or the photo init) may have made
 * the post live when it gets no clear answer.
 */
export type TiktokStage = 'before-commit' | 'commit';

/** TikTok's per-minute limits reset within a minute; used when no Retry-After is sent. */
const DEFAULT_RETRY_MS = 60_000;
const MAX_PLATFORM_TEXT = 200;

type Known = Omit<Failure, 'platformCode' | 'retryAfterMs'>;

const content = (message: string): Known => ({ class: 'content', message });
const reconnect = (message: string, tokenExpired = false): Known => ({ class: 'reconnect', message, tokenExpired });

/** Envelope codes and status `fail_reason`s with a sentence a person can act on. */
const KNOWN: Record<string, Known> = {
  access_token_invalid: reconnect('TikTok no longer accepts the stored access; it will be refreshed, or connect the account again.', true),
  scope_not_authorized: reconnect(
    'TikTok access lacks the permission to post (video.publish); connect the account again and keep every permission ticked.',
  ),
  scope_permission_missed: reconnect(
    'TikTok access lacks a permission this post needs; connect the account again and keep every permission ticked.',
  ),
  auth_removed: reconnect('The TikTok account owner removed access for this app; connect the account again.'),
  rate_limit_exceeded: { class: 'retryable', message: 'TikTok is rate-limiting this account; the post will be tried again shortly.' },
  internal_error: { class: 'retryable', message: 'TikTok had an internal error; the post will be tried again shortly.' },
  internal: { class: 'retryable', message: 'TikTok had an internal error while processing the post; it will be tried again shortly.' },
  spam_risk_too_many_posts: content("This TikTok account has reached TikTok's daily limit of posts from apps; try again tomorrow."),
  spam_risk_user_banned_from_posting: content('TikTok has blocked this account from posting; check the account in the TikTok app.'),
  spam_risk_text: content('TikTok flagged the caption as spam; change the caption and try again.'),
  spam_risk: content('TikTok flagged the post as spam risk; change the caption or media and try again.'),
  spam_risk_too_many_pending_share: content(
    'This TikTok account has too many posts waiting in its inbox; finish or delete them in the TikTok app, then try again.',
  ),
  privacy_level_option_mismatch: content(
    'TikTok does not allow the chosen privacy level for this account now; pick one of the levels the account offers.',
  ),
  unaudited_client_can_only_post_to_private_accounts: content(
    'TikTok lets this app (not yet audited by TikTok) post only to private accounts; set the TikTok account to private in the app and post with tiktok:private.',
  ),
  reached_active_user_cap: content(
    'This TikTok app has reached the number of accounts it may post for in 24 hours (TikTok audit pending); try again tomorrow.',
  ),
  url_ownership_unverified: content(
    "TikTok refused to fetch the media because this service's domain is not verified for the TikTok app; verify the PUBLIC_URL domain in the TikTok developer portal.",
  ),
  app_version_check_failed: content(
    "TikTok refused the post because of the app version; update the TikTok app on the account owner's phone and try again.",
  ),
  invalid_file_upload: content('TikTok refused the uploaded file; export the video again as MP4 (H.264) and retry.'),
  file_format_check_failed: content(
    'TikTok could not accept the file format; export the video as MP4 with H.264 (or photos as JPEG) and try again.',
  ),
  duration_check_failed: content("TikTok refused the video's duration; shorten it to this account's maximum and try again."),
  frame_rate_check_failed: content("TikTok refused the video's frame rate; export it at 23 to 60 frames per second and try again."),
  picture_size_check_failed: content(
    'TikTok refused the picture size; use videos of 360 to 4096 pixels per side and photos of at most 1080p.',
  ),
  video_pull_failed: content(
    'TikTok could not download the video from this service; check that PUBLIC_URL is reachable from the internet.',
  ),
  photo_pull_failed: content(
    'TikTok could not download the photos from this service; check that PUBLIC_URL is reachable from the internet.',
  ),
  publish_cancelled: content('The post was cancelled at TikTok before it was published.'),
};

/** The failure for one of TikTok's codes, or undefined when we do not know it. */
export function failureForCode(code: string, headers?: Headers): Failure | undefined {
  const known = KNOWN[code];
  if (!known) return undefined;
  const failure: Failure = { ...known, platformCode: `tiktok:${code}` };
  if (known.class === 'retryable') failure.retryAfterMs = (headers && retryAfterMs(headers)) ?? DEFAULT_RETRY_MS;
  return failure;
}

/** The one mapping from a TikTok answer (status, headers, body) to a failure. */
export function mapTiktokError(status: number, headers: Headers, body: unknown, stage: TiktokStage): Failure {
  const apiError = envelopeError(body) ?? oauthError(body);
  const code = apiError?.code ?? `http_${status}`;
  const platformCode = `tiktok:${code}`;
  const serverTrouble = status >= 500 || code === 'internal_error';
  // Once the committing request was sent, a server error does not prove the post was refused.
  if (serverTrouble && stage === 'commit')
    return {
      class: 'unknown',
      message: `TikTok answered HTTP ${status} while publishing, so the post may or may not be live; check the account before posting again.`,
      platformCode,
    };
  const known = apiError && failureForCode(apiError.code, headers);
  if (known) return known;
  const text = apiError?.message.slice(0, MAX_PLATFORM_TEXT).replace(/[.\s]+$/, '');
  const detail = text ? `: ${text}` : '';
  if (status === 429)
    return {
      class: 'retryable',
      message: 'TikTok is rate-limiting this account; the post will be tried again shortly.',
      retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
      platformCode,
    };
  if (serverTrouble)
    return {
      class: 'retryable',
      message: `TikTok answered HTTP ${status}; the post will be tried again shortly.`,
      retryAfterMs: retryAfterMs(headers) ?? DEFAULT_RETRY_MS,
      platformCode,
    };
  if (status === 401)
    return {
      class: 'reconnect',
      message: 'TikTok refused the stored access; connect the account again.',
      tokenExpired: true,
      platformCode,
    };
  return { class: 'content', message: `TikTok refused the post (${code})${detail}.`, platformCode };
}

/** A request that got no answer: retryable unless it was the committing one and may have arrived. */
export function mapNetworkError(error: NetworkError, stage: TiktokStage): Failure {
  if (stage === 'commit' && error.mayHaveReached)
    return {
      class: 'unknown',
      message: `TikTok did not answer while publishing (${error.message}), so the post may or may not be live; check the account before posting again.`,
      platformCode: 'tiktok:network',
    };
  return {
    class: 'retryable',
    message: `TikTok could not be reached (${error.message}); the post will be tried again shortly.`,
    platformCode: 'tiktok:network',
  };
}

/** OAuth endpoints answer `{error, error_description}` instead of the envelope. */
function oauthError(body: unknown): { code: string; message: string } | undefined {
  const object = asObject(body);
  const code = asString(object.error);
  return code ? { code, message: asString(object.error_description) ?? '' } : undefined;
}

/** Carries a mapped failure out of the publish flow to the one place that returns it. */
export class PublishFailed extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'PublishFailed';
  }
}

/** Awaits a request and throws `PublishFailed` unless TikTok answered with success. */
export async function expectSuccess(request: Promise<HttpResponse>, stage: TiktokStage): Promise<HttpResponse> {
  let response: HttpResponse;
  try {
    response = await request;
  } catch (error) {
    if (error instanceof NetworkError) throw new PublishFailed(mapNetworkError(error, stage));
    throw error;
  }
  if (!isSuccess(response)) throw new PublishFailed(mapTiktokError(response.status, response.headers, response.json, stage));
  return response;
}
