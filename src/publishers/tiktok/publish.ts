/**
 * Direct Post (platform-apis.md §4.4–4.9): creator_info, then either a video (init with
 * FILE_UPLOAD, chunks, the last chunk commits) or photos (content/init with PULL_FROM_URL,
 * which commits), then status polling until PUBLISH_COMPLETE.
 */
import type { MediaInfo } from '../../media/media.js';
import type { PublishRequest, PublishResult } from '../publisher.js';
import { envelopeData, postJson } from './api.js';
import { planChunks } from './chunks.js';
import type { CreatorInfo } from './creator-info.js';
import { queryCreatorInfo } from './creator-info.js';
import { PublishFailed, expectSuccess } from './errors.js';
import { asString } from './json.js';
import { CONVERTED_PHOTO_TYPES, formatSeconds, photoText, validateTiktokDraft } from './limits.js';
import type { TiktokSettings } from './options.js';
import type { PrivacyLevel } from './privacy.js';
import { isPrivacyWord, privacyLevel, privacyOption, privacyWord, targetList } from './privacy.js';
import { waitForPublish } from './status.js';
import { uploadChunks } from './upload.js';

const TIKTOK_WEB = 'https://www.tiktok.com';

/** Whether the committing request has been sent: after that, nothing may be resent. */
interface Attempt {
  committed: boolean;
}

export async function publishToTiktok(settings: TiktokSettings, request: PublishRequest): Promise<PublishResult> {
  const attempt: Attempt = { committed: false };
  try {
    return await publish(settings, request, attempt);
  } catch (error) {
    if (error instanceof PublishFailed) return { kind: 'failed', failure: error.failure };
    if (!attempt.committed) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return {
      kind: 'failed',
      failure: {
        class: 'unknown',
        message: `TikTok publishing was interrupted after the post was sent (${reason}); check the account before posting again.`,
        platformCode: 'tiktok:interrupted',
      },
    };
  }
}

async function publish(settings: TiktokSettings, request: PublishRequest, attempt: Attempt): Promise<PublishResult> {
  const { draft, tokens, signal } = request;
  const problem = validateTiktokDraft(draft)[0];
  if (problem) throw new PublishFailed({ class: 'content', message: problem.message, platformCode: `tiktok:${problem.code}` });
  const word = privacyOption(draft.options);
  if (word === undefined || !isPrivacyWord(word)) throw new Error('unreachable: validation requires a privacy word');
  const level = privacyLevel(word);

  const creator = await queryCreatorInfo(settings, tokens.accessToken, signal);
  const username = creator.username ?? request.account.handle;
  requireAllowedPrivacy(creator, level, username);

  const video = draft.media.find((m) => m.kind === 'video');
  const publishId = video
    ? await postVideo(settings, request, creator, level, video, attempt)
    : await postPhotos(settings, request, creator, level, attempt);

  request.onProgress?.({ phase: 'processing' });
  const postId = await waitForPublish(settings, tokens.accessToken, {
    publishId,
    expectPublicId: level !== 'SELF_ONLY',
    onProgress: request.onProgress,
    signal,
  });
  return { kind: 'published', platformPostId: postId ?? publishId, permalink: permalink(username, video ? 'video' : 'photo', postId) };
}

/** TikTok offers each creator only some privacy levels; sending another fails at init anyway. */
function requireAllowedPrivacy(creator: CreatorInfo, level: PrivacyLevel, username: string | undefined): void {
  if (creator.privacyLevels.includes(level)) return;
  const account = username ? `@${username}` : 'this account';
  const allowed = creator.privacyLevels.map(privacyWord);
  throw new PublishFailed({
    class: 'content',
    message:
      allowed.length > 0
        ? `TikTok ${account} does not allow "${privacyWord(level)}" posts now; its allowed privacy levels are ${allowed.join(', ')} (use ${targetList(allowed)}).`
        : `TikTok ${account} offers no privacy level to post with right now; check the account in the TikTok app.`,
    platformCode: 'tiktok:privacy_level_option_mismatch',
  });
}

async function postVideo(
  settings: TiktokSettings,
  request: PublishRequest,
  creator: CreatorInfo,
  level: PrivacyLevel,
  video: MediaInfo,
  attempt: Attempt,
): Promise<string> {
  if (creator.maxVideoSeconds !== undefined && video.durationMs !== undefined && video.durationMs > creator.maxVideoSeconds * 1000)
    throw new PublishFailed({
      class: 'content',
      message: `TikTok ${creator.username ? `@${creator.username}` : 'this account'} can post videos up to ${creator.maxVideoSeconds} seconds; this video lasts ${formatSeconds(video.durationMs)} seconds.`,
      platformCode: 'tiktok:duration_check_failed',
    });
  const plan = planChunks(video.sizeBytes, settings.chunkBytes);
  const init = await expectSuccess(
    postJson(
      settings,
      '/v2/post/publish/video/init/',
      request.tokens.accessToken,
      {
        post_info: {
          ...(request.draft.caption !== '' ? { title: request.draft.caption } : {}),
          privacy_level: level,
          // Interactions stay on unless the creator has switched them off in TikTok.
          disable_comment: creator.commentDisabled,
          disable_duet: creator.duetDisabled,
          disable_stitch: creator.stitchDisabled,
          brand_content_toggle: false,
          brand_organic_toggle: false,
        },
        source_info: {
          source: 'FILE_UPLOAD',
          video_size: plan.videoSize,
          chunk_size: plan.chunkSize,
          total_chunk_count: plan.totalChunkCount,
        },
      },
      request.signal,
    ),
    'before-commit',
  );
  const data = envelopeData(init.json);
  const publishId = asString(data.publish_id);
  const uploadUrl = asString(data.upload_url);
  if (!publishId || !uploadUrl)
    throw new PublishFailed({
      class: 'retryable',
      message: 'TikTok did not return an upload address for the video; the post will be tried again shortly.',
      retryAfterMs: 60_000,
      platformCode: 'tiktok:no_upload_url',
    });
  // Kept before the upload that makes it live: an interrupted post can be looked up by it.
  await request.onPlatformRef?.(publishId);
  await uploadChunks({
    uploadUrl,
    video,
    media: request.media,
    plan,
    beforeLastChunk: async () => {
      await request.beforeCommit();
      attempt.committed = true;
      request.onProgress?.({ phase: 'publishing' });
    },
    onProgress: request.onProgress,
    signal: request.signal,
  });
  return publishId;
}

async function postPhotos(
  settings: TiktokSettings,
  request: PublishRequest,
  creator: CreatorInfo,
  level: PrivacyLevel,
  attempt: Attempt,
): Promise<string> {
  const urls: string[] = [];
  for (const photo of request.draft.media) {
    // TikTok fetches photos itself (PULL_FROM_URL is the only photo source) and takes no PNG.
    const sendable = CONVERTED_PHOTO_TYPES.includes(photo.mimeType) ? await request.media.jpegCopy(photo) : photo;
    urls.push(await request.media.publicUrl(sendable));
  }
  const { title, description } = photoText(request.draft.caption);
  // The photo init is the committing request: TikTok fetches the photos and posts on its own.
  await request.beforeCommit();
  attempt.committed = true;
  request.onProgress?.({ phase: 'publishing' });
  const init = await expectSuccess(
    postJson(
      settings,
      '/v2/post/publish/content/init/',
      request.tokens.accessToken,
      {
        media_type: 'PHOTO',
        post_mode: 'DIRECT_POST',
        post_info: {
          ...(title !== undefined ? { title } : {}),
          description,
          privacy_level: level,
          disable_comment: creator.commentDisabled,
          auto_add_music: true,
          brand_content_toggle: false,
          brand_organic_toggle: false,
        },
        source_info: { source: 'PULL_FROM_URL', photo_cover_index: 0, photo_images: urls },
      },
      request.signal,
    ),
    'commit',
  );
  const publishId = asString(envelopeData(init.json).publish_id);
  if (!publishId)
    throw new PublishFailed({
      class: 'unknown',
      message:
        'TikTok accepted the photos without a publish id, so the post may or may not be live; check the account before posting again.',
      platformCode: 'tiktok:no_publish_id',
    });
  // The photos are sent: a status that never arrives can still be looked up by this id.
  await request.onPlatformRef?.(publishId);
  return publishId;
}

/**
 * https://www.tiktok.com/@{username}/video/{id}; photo posts use /photo/{id} (unconfirmed,
 * platform-apis.md §4.9). Without an id yet, the profile is the best link there is.
 */
function permalink(username: string | undefined, kind: 'video' | 'photo', postId: string | undefined): string {
  if (!username) return postId ? `${TIKTOK_WEB}/${kind}/${postId}` : `${TIKTOK_WEB}/`;
  return postId ? `${TIKTOK_WEB}/@${username}/${kind}/${postId}` : `${TIKTOK_WEB}/@${username}`;
}
