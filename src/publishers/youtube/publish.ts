/**
 * Publishing a video (more-platforms.md §2.4–2.5): the resumable upload of videos.insert with
 * the title, description and privacy; the video id kept once YouTube answers with it; then
 * processing watched for a while (videos.list?part=status,processingDetails) so that a video
 * YouTube fails or rejects is reported with its reason instead of as published.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NetworkError, httpRequest } from '../http.js';
import type { Failure, PublishRequest, PublishResult } from '../publisher.js';
import { PublishFailed } from './errors.js';
import { arrayField, objectField, stringField } from './json.js';
import { isShort, validateYoutubeDraft, videoLink, youtubeText } from './limits.js';
import type { YoutubeSettings } from './options.js';
import { DEFAULT_PRIVACY, isPrivacyWord, privacyOption } from './privacy.js';
import type { UploadState } from './upload.js';
import { uploadVideo } from './upload.js';

/** People & Blogs, YouTube's own default category for uploads. */
export const DEFAULT_CATEGORY_ID = '22';

export async function publishToYoutube(settings: YoutubeSettings, request: PublishRequest): Promise<PublishResult> {
  const state: UploadState = { committed: false };
  try {
    return await publish(settings, request, state);
  } catch (error) {
    if (error instanceof PublishFailed) return { kind: 'failed', failure: error.failure };
    if (!state.committed) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return {
      kind: 'failed',
      failure: {
        class: 'unknown',
        message: `YouTube publishing was interrupted after the last bytes were sent (${reason}); check the channel before posting again.`,
        platformCode: 'youtube:interrupted',
      },
    };
  }
}

async function publish(settings: YoutubeSettings, request: PublishRequest, state: UploadState): Promise<PublishResult> {
  const { draft } = request;
  const problem = validateYoutubeDraft(draft)[0];
  if (problem) throw new PublishFailed({ class: 'content', message: problem.message, platformCode: `youtube:${problem.code}` });
  const video = draft.media[0]!;
  const word = privacyOption(draft.options) ?? DEFAULT_PRIVACY;
  if (!isPrivacyWord(word)) throw new Error('unreachable: validation checks the privacy word');
  const { title, description } = youtubeText(draft.caption);

  const uploaded = await uploadVideo(
    {
      settings,
      accessToken: request.tokens.accessToken,
      video,
      media: request.media,
      metadata: {
        snippet: { title, description, categoryId: DEFAULT_CATEGORY_ID },
        // Always sent: YouTube makes an upload without one public, and the person may have chosen otherwise.
        status: { privacyStatus: word },
      },
      beforeCommit: request.beforeCommit,
      onProgress: request.onProgress,
      signal: request.signal,
    },
    state,
  );
  // The video exists from here on: an interruption while it is processed is verified by its id.
  await request.onPlatformRef?.(uploaded.id);
  request.onProgress?.({ phase: 'processing' });
  const failure = await watchProcessing(settings, request, uploaded.id, uploaded.resource);
  if (failure) return { kind: 'failed', failure };
  return { kind: 'published', platformPostId: uploaded.id, permalink: videoLink(uploaded.id, isShort(video)) };
}

/**
 * Reads the video's status until YouTube has processed it, failed or rejected it, or
 * `maxWaitMs` passed (then it counts as published: it is uploaded and processing on). A read
 * that fails changes nothing: the video is there.
 */
async function watchProcessing(
  settings: YoutubeSettings,
  request: PublishRequest,
  videoId: string,
  resource: unknown,
): Promise<Failure | undefined> {
  const started = Date.now();
  let status = objectField(resource, 'status');
  for (;;) {
    const verdict = processingVerdict(status);
    if (verdict !== 'processing') return verdict === 'done' ? undefined : verdict;
    if (Date.now() - started + settings.pollIntervalMs > settings.maxWaitMs) return undefined;
    await sleep(settings.pollIntervalMs, undefined, { signal: request.signal });
    try {
      const response = await httpRequest(
        `${settings.apiUrl}/youtube/v3/videos?part=status,processingDetails&id=${encodeURIComponent(videoId)}`,
        { headers: { Authorization: `Bearer ${request.tokens.accessToken}` }, signal: request.signal, timeoutMs: 15_000 },
      );
      if (response.status !== 200) return undefined;
      const item = arrayField(response.json, 'items')[0];
      if (!item) return undefined;
      status = objectField(item, 'status');
    } catch (error) {
      if (error instanceof NetworkError) return undefined;
      throw error;
    }
  }
}

/** `uploadStatus`: uploaded (processing), processed, failed (with failureReason), rejected (with rejectionReason), deleted. */
export function processingVerdict(status: Record<string, unknown> | undefined): 'processing' | 'done' | Failure {
  const uploadStatus = stringField(status, 'uploadStatus');
  switch (uploadStatus) {
    case 'uploaded':
      return 'processing';
    case 'failed': {
      const reason = stringField(status, 'failureReason') ?? 'no reason given';
      return {
        class: 'content',
        message: `YouTube could not process the video (${reason}); export it again (MP4, H.264) and post it again.`,
        platformCode: `youtube:failed:${reason}`,
      };
    }
    case 'rejected': {
      const reason = stringField(status, 'rejectionReason') ?? 'no reason given';
      return {
        class: 'content',
        message: `YouTube rejected the video (${reason}); see YouTube Studio for the details.`,
        platformCode: `youtube:rejected:${reason}`,
      };
    }
    case 'deleted':
      return { class: 'content', message: 'The video was deleted on YouTube while it was processed.', platformCode: 'youtube:deleted' };
    default:
      return 'done';
  }
}
