/**
 * Whether an unconfirmed TikTok post is live (issue 17): TikTok can be asked about a post only by
 * the `publish_id` its init answered (`POST /v2/post/publish/status/fetch/`, platform-apis.md
 * §4.8); its API lists no recent posts a Direct Post could be found among. Without that id, or
 * while TikTok is still processing, nothing can be told. Reads only.
 */
import { NetworkError } from '../http.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { envelopeData, envelopeError, postJson } from './api.js';
import { asString } from './json.js';
import type { TiktokSettings } from './options.js';
import { publicPostIds } from './status.js';

const TIKTOK_WEB = 'https://www.tiktok.com';

export async function verifyOnTiktok(settings: TiktokSettings, request: VerifyRequest): Promise<VerifyResult> {
  const publishId = request.platformId;
  if (!publishId)
    return { kind: 'unknown', reason: 'TikTok can be asked about a post only by its publish id, which this attempt did not record' };
  let answer;
  try {
    answer = await postJson(
      settings,
      '/v2/post/publish/status/fetch/',
      request.tokens.accessToken,
      { publish_id: publishId },
      request.signal,
    );
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `TikTok could not be reached (${error.message})` };
    throw error;
  }
  const data = envelopeData(answer.json);
  const status = asString(data.status);
  // The status first: a FAILED post can come with error.code "ok".
  switch (status) {
    case 'PUBLISH_COMPLETE': {
      // No public id for private posts (or while moderation runs): the profile is the link, as a publish gives it.
      const id = publicPostIds(answer.text)[0];
      return { kind: 'live', platformPostId: id ?? publishId, permalink: link(request.account.handle, id) };
    }
    case 'FAILED':
      return { kind: 'absent', reason: `TikTok did not publish it (${asString(data.fail_reason) ?? 'no reason given'})` };
    case 'SEND_TO_USER_INBOX':
      return { kind: 'unknown', reason: "TikTok sent it to the account's inbox; it is live only if finished in the TikTok app" };
    case 'PROCESSING_UPLOAD':
    case 'PROCESSING_DOWNLOAD':
      return { kind: 'unknown', reason: 'TikTok is still processing it' };
    default: {
      const code = envelopeError(answer.json)?.code ?? `http_${answer.status}`;
      return { kind: 'unknown', reason: `TikTok did not say (${code})` };
    }
  }
}

function link(username: string | undefined, postId: string | undefined): string {
  if (!username) return postId ? `${TIKTOK_WEB}/video/${postId}` : `${TIKTOK_WEB}/`;
  return postId ? `${TIKTOK_WEB}/@${username}/video/${postId}` : `${TIKTOK_WEB}/@${username}`;
}
