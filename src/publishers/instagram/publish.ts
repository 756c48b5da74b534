/**
 * Publishing to Instagram (platform-apis.md §2.5): Meta fetches each file from its public URL
 * into a container, IQSP waits for the container to be FINISHED, then `media_publish` makes it
 * live and the permalink is read back.
 *   one image     POST /{ig}/media (image_url, caption)
 *   one video     POST /{ig}/media (media_type=REELS, video_url, caption)
 *   carousel      a child container per item (is_carousel_item=true), each waited for, then
 *                 POST /{ig}/media (media_type=CAROUSEL, children, caption)
 */
import type { MediaInfo } from '../../media/media.js';
import { formatDuration, itemName } from '../meta/draft-text.js';
import type { GraphClient } from '../meta/graph-client.js';
import { GraphResponseError, UnexpectedGraphAnswer } from '../meta/graph-client.js';
import { stringField } from '../meta/graph-json.js';
import type { PollTiming } from '../meta/options.js';
import { MetaPublishRun, PublishStopped, runPublish } from '../meta/publish-run.js';
import type { PublishRequest, PublishResult } from '../publisher.js';
import { containerErrorMessage, isMediaNotReady, mapInstagramError } from './errors.js';
import { checkImageSize, JPEG } from './limits.js';

const INSTAGRAM_WEB = 'https://www.instagram.com';
/** "Media not ready" (9007) is retried this many times in all, with doubling waits. */
const PUBLISH_ATTEMPTS = 4;

interface PreparedItem {
  media: MediaInfo;
  url: string;
}

export class InstagramPublish {
  private readonly run: MetaPublishRun;
  private readonly igId: string;
  private readonly token: string;
  private readonly caption: string | undefined;
  private deadline = 0;

  constructor(
    private readonly graph: GraphClient,
    private readonly timing: PollTiming,
    private readonly request: PublishRequest,
  ) {
    this.run = new MetaPublishRun('Instagram', mapInstagramError, request.signal);
    this.igId = request.account.platformAccountId;
    this.token = request.tokens.accessToken;
    this.caption = request.draft.caption.trim() === '' ? undefined : request.draft.caption;
  }

  publish(): Promise<PublishResult> {
    return runPublish(async () => {
      const items = await this.prepare();
      if (items.length === 0)
        this.run.stop({
          class: 'content',
          message: 'Instagram needs at least one image or video; this post has none.',
          platformCode: 'iqsp:media_required',
        });
      this.deadline = Date.now() + this.timing.maxWaitMs;
      const [single] = items;
      const containerId = items.length === 1 && single ? await this.singleContainer(single) : await this.carouselContainer(items);
      await this.waitUntilFinished(containerId);
      await this.request.beforeCommit();
      this.request.onProgress?.({ phase: 'publishing' });
      const mediaId = await this.publishContainer(containerId);
      return { kind: 'published', platformPostId: mediaId, permalink: await this.permalink(mediaId) };
    });
  }

  /** Public URLs for every item; PNG and WebP are replaced by their JPEG copy first. */
  private async prepare(): Promise<PreparedItem[]> {
    const all = this.request.draft.media;
    const items: PreparedItem[] = [];
    for (const [index, original] of all.entries()) {
      let media = original;
      if (original.kind === 'image' && original.mimeType !== JPEG) {
        media = await this.request.media.jpegCopy(original);
        const [tooBig] = checkImageSize(media.sizeBytes, `the JPEG copy of ${itemName(original, index, all.length)}`);
        if (tooBig) this.run.stop({ class: 'content', message: tooBig.message, platformCode: 'iqsp:media_size' });
      }
      items.push({ media, url: await this.request.media.publicUrl(media) });
    }
    return items;
  }

  private singleContainer(item: PreparedItem): Promise<string> {
    // Feed videos are published as Reels since July 2023; media_type=VIDEO is for carousel items.
    const fields =
      item.media.kind === 'video'
        ? { media_type: 'REELS', video_url: item.url, caption: this.caption }
        : { image_url: item.url, caption: this.caption };
    return this.createContainer(fields);
  }

  private async carouselContainer(items: readonly PreparedItem[]): Promise<string> {
    const children: string[] = [];
    for (const item of items) {
      const fields =
        item.media.kind === 'video'
          ? { is_carousel_item: 'true', media_type: 'VIDEO', video_url: item.url }
          : { is_carousel_item: 'true', image_url: item.url };
      children.push(await this.createContainer(fields));
    }
    // The parent may only be created from children that finished processing.
    for (const child of children) await this.waitUntilFinished(child);
    return this.createContainer({ media_type: 'CAROUSEL', children: children.join(','), caption: this.caption });
  }

  private createContainer(params: Record<string, string | undefined>): Promise<string> {
    return this.run.step('prepare', async () => {
      const answer = await this.graph.post(`${this.igId}/media`, { token: this.token, params, signal: this.request.signal });
      const id = stringField(answer, 'id');
      if (!id) throw new UnexpectedGraphAnswer('a container id');
      return id;
    });
  }

  /** Polls `status_code` until FINISHED; ERROR and EXPIRED end the publish with Instagram's reason. */
  private async waitUntilFinished(containerId: string): Promise<void> {
    for (;;) {
      const node = await this.run.step('prepare', () =>
        this.graph.get(containerId, { token: this.token, params: { fields: 'status_code,status' }, signal: this.request.signal }),
      );
      const statusCode = stringField(node, 'status_code');
      if (statusCode === 'FINISHED') return;
      if (statusCode === 'ERROR')
        this.run.stop({
          class: 'content',
          message: containerErrorMessage(stringField(node, 'status')),
          platformCode: 'meta:container_error',
        });
      if (statusCode === 'EXPIRED')
        this.run.stop({
          class: 'content',
          message: 'Instagram let the prepared media expire before it was published (containers last 24 hours); post it again.',
          platformCode: 'meta:container_expired',
        });
      if (Date.now() >= this.deadline)
        this.run.stop({
          class: 'retryable',
          message: `Instagram was still processing the media after ${formatDuration(this.timing.maxWaitMs)}; nothing was posted and it will be tried again.`,
          platformCode: 'meta:container_timeout',
        });
      this.request.onProgress?.({ phase: 'processing' });
      await this.run.sleep(this.timing.intervalMs, 'prepare');
    }
  }

  /**
   * `media_publish` can answer 9007 "media not ready" even right after FINISHED; nothing is
   * posted then, so it is sent again after a growing wait before giving up as retryable.
   */
  private async publishContainer(containerId: string): Promise<string> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const answer = await this.graph.post(`${this.igId}/media_publish`, {
          token: this.token,
          params: { creation_id: containerId },
          signal: this.request.signal,
        });
        const id = stringField(answer, 'id');
        if (!id) throw new UnexpectedGraphAnswer('a media id');
        return id;
      } catch (error) {
        const notReady = error instanceof GraphResponseError && isMediaNotReady(error.body);
        if (!notReady || attempt >= PUBLISH_ATTEMPTS) throw new PublishStopped(this.run.failureOf(error, 'commit'));
        // Not published: an abort during this wait leaves nothing live.
        await this.run.sleep(this.timing.intervalMs * 2 ** (attempt - 1), 'prepare');
      }
    }
  }

  /** The post is live: its permalink is read back, or the profile stands in if that fails. */
  private async permalink(mediaId: string): Promise<string> {
    const node = await this.graph
      .get(mediaId, { token: this.token, params: { fields: 'permalink' }, signal: this.request.signal })
      .catch(() => undefined);
    const handle = this.request.account.handle;
    return stringField(node, 'permalink') ?? (handle ? `${INSTAGRAM_WEB}/${handle}/` : `${INSTAGRAM_WEB}/`);
  }
}
