/**
 * Publishing one LinkedIn post (more-platforms.md §1.5): every file is uploaded and ready
 * first, then `beforeCommit`, then POST /rest/posts makes the post live (201, its URN in
 * `x-restli-id`). LinkedIn takes no idempotency key: once POST /rest/posts may have reached it,
 * an unanswered attempt is 'unknown' and never sent again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PublishRequest, PublishResult } from '../publisher.js';
import { isOrganization, LinkedinCallFailed, postPermalink, restCall, type LinkedinApi } from './api.js';
import { escapeLittleText, linkedinMediaKind } from './limits.js';
import { uploadImage, uploadVideo, type UploadOptions } from './upload.js';

export interface LinkedinPublishOptions {
  apiUrl: string;
  apiVersion: string;
  pollIntervalMs: number;
  maxWaitMs: number;
}

export async function publishToLinkedin(options: LinkedinPublishOptions, request: PublishRequest): Promise<PublishResult> {
  const author = request.account.platformAccountId;
  const api: LinkedinApi = {
    apiUrl: options.apiUrl,
    apiVersion: options.apiVersion,
    accessToken: request.tokens.accessToken,
    signal: request.signal,
  };
  try {
    const content = await uploadAll(options, api, author, request);
    request.onProgress?.({ phase: 'publishing' });
    await request.beforeCommit();
    const answer = await restCall(
      api,
      '/rest/posts',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(postBody(author, request.draft.caption, content)),
      },
      'commit',
    );
    const urn = answer.headers.get('x-restli-id');
    if (!urn)
      return {
        kind: 'failed',
        failure: {
          class: 'unknown',
          message: `LinkedIn accepted the post (answer ${answer.status}) without saying its id; check the feed before posting again.`,
          platformCode: 'linkedin:no-id',
        },
      };
    return { kind: 'published', platformPostId: urn, permalink: postPermalink(urn) };
  } catch (error) {
    if (error instanceof LinkedinCallFailed) return { kind: 'failed', failure: error.failure };
    throw error;
  }
}

type PostContent = { media: { id: string } } | { multiImage: { images: Array<{ id: string }> } } | undefined;

async function uploadAll(options: LinkedinPublishOptions, api: LinkedinApi, owner: string, request: PublishRequest): Promise<PostContent> {
  const files = request.draft.media;
  if (files.length === 0) return undefined;
  const bytesTotal = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  let bytesSent = 0;
  const upload: UploadOptions = {
    api,
    media: request.media,
    owner,
    pollIntervalMs: options.pollIntervalMs,
    maxWaitMs: options.maxWaitMs,
    onBytesSent(bytes) {
      bytesSent += bytes;
      request.onProgress?.({ phase: 'uploading', bytesSent, bytesTotal });
    },
    onProcessing() {
      request.onProgress?.({ phase: 'processing', bytesSent, bytesTotal });
    },
  };
  const ids: string[] = [];
  for (const file of files) {
    const kind = linkedinMediaKind(file);
    // validate() runs before publish; this guards a caller that skipped it.
    if (!kind)
      throw new LinkedinCallFailed({
        class: 'content',
        message: `LinkedIn does not accept ${file.mimeType} files.`,
        platformCode: 'linkedin:media_type',
      });
    ids.push(kind === 'video' ? await uploadVideo(file, upload) : await uploadImage(file, upload));
  }
  // A member's image status cannot be read (403 without a Page's token): one poll interval's
  // grace lets LinkedIn take the last image in before the post names it.
  if (!isOrganization(owner) && files.some((file) => linkedinMediaKind(file) === 'image'))
    await sleep(options.pollIntervalMs, undefined, { signal: request.signal });
  if (ids.length === 1) return { media: { id: ids[0] ?? '' } };
  return { multiImage: { images: ids.map((id) => ({ id })) } };
}

/** The documented post body; the caption escaped as plain "little" text. */
function postBody(author: string, caption: string, content: PostContent): Record<string, unknown> {
  return {
    author,
    commentary: escapeLittleText(caption),
    visibility: 'PUBLIC',
    distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
    ...(content ? { content } : {}),
    lifecycleState: 'PUBLISHED',
    isReshareDisabledByAuthor: false,
  };
}
