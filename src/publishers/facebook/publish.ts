/**
 * Publishing to a Facebook Page with its Page token (platform-apis.md §1.5–1.6). Meta fetches
 * photos and videos from their public URLs, so no bytes pass through IQSP here.
 *   text          POST /{page}/feed (message)
 *   one photo     POST /{page}/photos (url, caption)
 *   several       POST /{page}/photos (url, published=false) each, then POST /{page}/feed with attached_media
 *   video         POST graph-video…/{page}/videos (file_url, description), then GET /{video}?fields=status until ready
 *   vertical clip a reel (9:16 MP4 up to 90 s): the Reels Publishing API, reels.ts
 */
import type { MediaInfo } from '../../media/media.js';
import { redactText } from '../../observability/redact.js';
import { formatDuration } from '../meta/draft-text.js';
import type { GraphClient } from '../meta/graph-client.js';
import { UnexpectedGraphAnswer } from '../meta/graph-client.js';
import { arrayField, asObject, objectField, stringField, type JsonObject } from '../meta/graph-json.js';
import type { PollTiming } from '../meta/options.js';
import { MetaPublishRun, runPublish } from '../meta/publish-run.js';
import type { PublishRequest, PublishResult } from '../publisher.js';
import { mapFacebookError } from './errors.js';
import { PHOTO_TYPES_CONVERTED } from './limits.js';
import { isReelShape, ReelPublish } from './reels.js';

const FACEBOOK_WEB = 'https://www.facebook.com';

export class FacebookPublish {
  private readonly run: MetaPublishRun;
  private readonly pageId: string;
  private readonly token: string;
  private readonly caption: string | undefined;

  constructor(
    private readonly graph: GraphClient,
    /** The same Graph API on the host Meta documents for video uploads. */
    private readonly videoGraph: GraphClient,
    private readonly timing: PollTiming,
    private readonly request: PublishRequest,
  ) {
    this.run = new MetaPublishRun('Facebook', mapFacebookError, request.signal);
    this.pageId = request.account.platformAccountId;
    this.token = request.tokens.accessToken;
    this.caption = request.draft.caption.trim() === '' ? undefined : request.draft.caption;
  }

  publish(): Promise<PublishResult> {
    const media = this.request.draft.media;
    return runPublish(() => {
      const [first] = media;
      if (!first) return this.text();
      if (first.kind === 'video' && isReelShape(first))
        return new ReelPublish(this.graph, this.timing, this.run, this.request, this.caption).publish(first);
      if (first.kind === 'video') return this.video(first);
      return media.length === 1 ? this.photo(first) : this.photos(media);
    });
  }

  private async text(): Promise<PublishResult> {
    await this.commitNow();
    const answer = await this.run.step('commit', () => this.post(`${this.pageId}/feed`, { message: this.caption }));
    return this.published(answer.id);
  }

  private async photo(media: MediaInfo): Promise<PublishResult> {
    const url = await this.photoUrl(media);
    await this.commitNow();
    const answer = await this.run.step('commit', () => this.post(`${this.pageId}/photos`, { url, caption: this.caption }));
    // The photo's feed story is the post people see; its id is what permalinks resolve.
    return this.published(answer.post_id ?? answer.id);
  }

  private async photos(media: readonly MediaInfo[]): Promise<PublishResult> {
    const bytesTotal = media.reduce((sum, m) => sum + m.sizeBytes, 0);
    let bytesSent = 0;
    const attached: Record<string, string> = {};
    for (const [index, item] of media.entries()) {
      const url = await this.photoUrl(item);
      // Unpublished photos are invisible until the feed post below attaches them.
      const answer = await this.run.step('prepare', () => this.post(`${this.pageId}/photos`, { url, published: 'false' }));
      attached[`attached_media[${index}]`] = JSON.stringify({ media_fbid: answer.id });
      bytesSent += item.sizeBytes;
      this.request.onProgress?.({ phase: 'uploading', bytesSent, bytesTotal });
    }
    await this.commitNow();
    const answer = await this.run.step('commit', () => this.post(`${this.pageId}/feed`, { message: this.caption, ...attached }));
    return this.published(answer.id);
  }

  private async video(media: MediaInfo): Promise<PublishResult> {
    const fileUrl = await this.request.media.publicUrl(media);
    await this.commitNow();
    const answer = await this.run.step('commit', () =>
      this.post(`${this.pageId}/videos`, { file_url: fileUrl, description: this.caption }, this.videoGraph),
    );
    const videoId = answer.id;
    const deadline = Date.now() + this.timing.maxWaitMs;
    for (;;) {
      const node = await this.run.step('confirm', () =>
        this.graph.get(videoId, { token: this.token, params: { fields: 'status,permalink_url' }, signal: this.request.signal }),
      );
      const status = objectField(node, 'status');
      const videoStatus = stringField(status, 'video_status');
      if (videoStatus === 'ready')
        return {
          kind: 'published',
          platformPostId: videoId,
          permalink: absolutePermalink(stringField(node, 'permalink_url')) ?? `${FACEBOOK_WEB}/${videoId}`,
        };
      if (videoStatus === 'error' || videoStatus === 'expired')
        this.run.stop({
          class: 'content',
          message: `Facebook could not process this video (${processingError(status) ?? videoStatus}); change the video and post it again.`,
          platformCode: `meta:video_${videoStatus}`,
        });
      if (Date.now() >= deadline)
        this.run.stop({
          class: 'unknown',
          message: `Facebook accepted the video but was still processing it after ${formatDuration(this.timing.maxWaitMs)}; look at the Page before posting again.`,
          platformCode: 'meta:video_processing_timeout',
        });
      this.request.onProgress?.({ phase: 'processing' });
      await this.run.sleep(this.timing.intervalMs, 'confirm');
    }
  }

  /** The URL Meta fetches; WebP is posted as its JPEG copy because Facebook does not list it. */
  private async photoUrl(media: MediaInfo): Promise<string> {
    const posted = PHOTO_TYPES_CONVERTED.has(media.mimeType) ? await this.request.media.jpegCopy(media) : media;
    return this.request.media.publicUrl(posted);
  }

  private async commitNow(): Promise<void> {
    await this.request.beforeCommit();
    this.request.onProgress?.({ phase: 'publishing' });
  }

  /** POST with the Page token; resolves with the answer, whose `id` the flow needs. */
  private async post(
    path: string,
    params: Record<string, string | undefined>,
    client: GraphClient = this.graph,
  ): Promise<{ id: string; post_id?: string }> {
    const answer = await client.post(path, { token: this.token, params, signal: this.request.signal });
    const id = stringField(answer, 'id');
    if (!id) throw new UnexpectedGraphAnswer('an id');
    return { id, post_id: stringField(answer, 'post_id') };
  }

  /** The post is live: its permalink is looked up, and built from the id if that lookup fails. */
  private async published(postId: string): Promise<PublishResult> {
    const node = await this.graph
      .get(postId, { token: this.token, params: { fields: 'permalink_url' }, signal: this.request.signal })
      .catch(() => undefined);
    const permalink = absolutePermalink(stringField(node, 'permalink_url')) ?? `${FACEBOOK_WEB}/${postId}`;
    return { kind: 'published', platformPostId: postId, permalink };
  }
}

/** Video nodes answer a path ("/page/videos/123/"); posts answer a full URL. */
function absolutePermalink(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.startsWith('/') ? `${FACEBOOK_WEB}${value}` : value;
}

/** The first error message in any phase of a video's status, when Meta gives one. */
function processingError(status: JsonObject | undefined): string | undefined {
  for (const phase of ['processing_phase', 'uploading_phase', 'publishing_phase']) {
    const node = objectField(status, phase);
    const direct = stringField(objectField(node, 'error'), 'message');
    const listed = stringField(asObject(arrayField(node, 'errors')[0]), 'message');
    if (direct ?? listed) return redactText(direct ?? listed ?? '').replace(/[.\s]+$/, '');
  }
  return undefined;
}
