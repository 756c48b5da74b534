/**
 * Publishing on Threads (more-platforms.md §3.4): Meta fetches every file from its public URL
 * into a container, IQSP waits until the container is FINISHED, then `threads_publish` makes it
 * live and the permalink is read back.
 *   text          POST {api}/{user-id}/threads  media_type=TEXT, text
 *   image, video  POST {api}/{user-id}/threads  media_type=IMAGE|VIDEO, image_url|video_url, text
 *   carousel      a child per file (is_carousel_item=true), each waited for, then
 *                 POST {api}/{user-id}/threads  media_type=CAROUSEL, children=id,id…, text
 *   then          POST {api}/{user-id}/threads_publish  creation_id   → the media id
 *                 GET  {api}/{media-id}?fields=permalink   (absent on copyright flags: the profile)
 *
 * A caption with `---` is a reply chain: part 1 carries the media, each next part is a TEXT
 * container with `reply_to_id` = the media id of the part before. Each part's threads_publish is
 * its own committing request when the caller records live parts (`onPartLive`, as X's threads):
 * `beforeCommit` before each, the part recorded once live, a run given `liveParts` resuming after
 * them. Before each commit, the container id goes to `onPlatformRef`, so `verify` can ask Threads
 * whether that container was published.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { threadParts } from '../../core/thread-parts.js';
import type { MediaInfo } from '../../media/media.js';
import { stringField } from '../json.js';
import type { Failure, PublishRequest, PublishResult } from '../publisher.js';
import { step, threadsGet, threadsPost, ThreadsCallFailed } from './api.js';
import { threadsMediaKind } from './limits.js';
import type { ThreadsSettings } from './options.js';

export const THREADS_WEB = 'https://www.threads.net';

export async function publishToThreads(settings: ThreadsSettings, request: PublishRequest): Promise<PublishResult> {
  return new ThreadsPublish(settings, request).run();
}

class ThreadsPublish {
  private readonly userId: string;
  private readonly token: string;
  private readonly deadline: number;

  constructor(
    private readonly settings: ThreadsSettings,
    private readonly request: PublishRequest,
  ) {
    this.userId = encodeURIComponent(request.account.platformAccountId);
    this.token = request.tokens.accessToken;
    this.deadline = Date.now() + settings.maxWaitMs;
  }

  async run(): Promise<PublishResult> {
    const { request } = this;
    const parts = threadParts(request.draft.caption);
    const live = [...(request.liveParts ?? [])].slice(0, parts.length);
    const links: string[] = [];
    const durable = request.onPartLive !== undefined;
    let committed = false;
    for (let index = live.length; index < parts.length; index += 1) {
      try {
        const text = parts[index] ?? '';
        const container = index === 0 ? await this.firstContainer(text) : await this.replyContainer(text, live.at(-1) ?? '');
        await this.waitUntilFinished(container);
        await request.onPlatformRef?.(container);
        // Without a place to record each part, the whole chain is one committing unit.
        if (durable || !committed) await request.beforeCommit();
        committed = true;
        request.onProgress?.({ phase: 'publishing' });
        const id = await this.publishContainer(container);
        live.push(id);
        const link = await this.permalink(id);
        links[index] = link;
        await request.onPartLive?.(index, id, link);
      } catch (error) {
        if (error instanceof ThreadsCallFailed)
          return { kind: 'failed', failure: this.partFailure(error.failure, live, index, parts.length, durable) };
        throw error;
      }
    }
    const first = live[0] ?? '';
    return { kind: 'published', platformPostId: first, permalink: links[0] ?? (await this.permalink(first)) };
  }

  /** The first part: its text with every file (none: a TEXT post; one: IMAGE or VIDEO; more: a CAROUSEL). */
  private async firstContainer(text: string): Promise<string> {
    const files = this.request.draft.media;
    const caption = text.trim() === '' ? undefined : text;
    const [single] = files;
    if (files.length === 0) return this.createContainer({ media_type: 'TEXT', text });
    if (files.length === 1 && single) return this.createContainer({ ...(await this.mediaFields(single)), text: caption });
    const children: string[] = [];
    for (const file of files) children.push(await this.createContainer({ ...(await this.mediaFields(file)), is_carousel_item: 'true' }));
    // The carousel may only be made of children that finished processing.
    for (const child of children) await this.waitUntilFinished(child);
    return this.createContainer({ media_type: 'CAROUSEL', children: children.join(','), text: caption });
  }

  private replyContainer(text: string, replyTo: string): Promise<string> {
    return this.createContainer({ media_type: 'TEXT', text, reply_to_id: replyTo });
  }

  private async mediaFields(file: MediaInfo): Promise<Record<string, string>> {
    const kind = threadsMediaKind(file);
    // validate() runs before publish; this guards a caller that skipped it.
    if (!kind)
      throw new ThreadsCallFailed({
        class: 'content',
        message: `Threads does not accept ${file.mimeType} files.`,
        platformCode: 'threads:media_type',
      });
    const url = await this.request.media.publicUrl(file);
    return kind === 'image' ? { media_type: 'IMAGE', image_url: url } : { media_type: 'VIDEO', video_url: url };
  }

  private createContainer(params: Record<string, string | undefined>): Promise<string> {
    return step('prepare', async () => {
      const answer = await threadsPost(`${this.settings.apiUrl}/${this.userId}/threads`, {
        params,
        token: this.token,
        signal: this.request.signal,
      });
      const id = stringField(answer, 'id');
      if (!id)
        throw new ThreadsCallFailed({
          class: 'retryable',
          message: 'Threads created the container without an id; nothing was posted and it will be tried again.',
          platformCode: 'threads:container',
        });
      return id;
    });
  }

  /** Reads the container's status until FINISHED; ERROR and EXPIRED end the publish with Threads' reason. */
  private async waitUntilFinished(container: string): Promise<void> {
    for (;;) {
      const node = await step('prepare', () =>
        threadsGet(`${this.settings.apiUrl}/${encodeURIComponent(container)}`, {
          params: { fields: 'status,error_message' },
          token: this.token,
          signal: this.request.signal,
        }),
      );
      const status = stringField(node, 'status');
      if (status === 'FINISHED') return;
      if (status === 'ERROR')
        throw new ThreadsCallFailed({
          class: 'content',
          message: `Threads could not process the media (${containerReason(stringField(node, 'error_message'))}); change the file before posting again.`,
          platformCode: `threads:container:${stringField(node, 'error_message') ?? 'ERROR'}`,
        });
      if (status === 'EXPIRED')
        throw new ThreadsCallFailed({
          class: 'content',
          message: 'Threads let the prepared post expire before it was published (containers last 24 hours); post it again.',
          platformCode: 'threads:container:EXPIRED',
        });
      if (status === 'PUBLISHED')
        // A fresh container is never published by anyone else; this is a platform oddity to stop on.
        throw new ThreadsCallFailed({
          class: 'unknown',
          message: 'Threads says the prepared post is already published; look at Threads before posting again.',
          platformCode: 'threads:container:PUBLISHED',
        });
      if (Date.now() >= this.deadline)
        throw new ThreadsCallFailed({
          class: 'retryable',
          message: `Threads was still processing the media after ${Math.round(this.settings.maxWaitMs / 60_000)} minutes; nothing was posted and it will be tried again.`,
          platformCode: 'threads:container:timeout',
        });
      this.request.onProgress?.({ phase: 'processing' });
      try {
        await sleep(this.settings.pollIntervalMs, undefined, { signal: this.request.signal });
      } catch {
        throw new ThreadsCallFailed({
          class: 'retryable',
          message: 'The attempt was stopped before anything was posted.',
          platformCode: 'threads:aborted',
        });
      }
    }
  }

  private publishContainer(container: string): Promise<string> {
    return step('commit', async () => {
      const answer = await threadsPost(`${this.settings.apiUrl}/${this.userId}/threads_publish`, {
        params: { creation_id: container },
        token: this.token,
        signal: this.request.signal,
      });
      const id = stringField(answer, 'id');
      if (!id)
        throw new ThreadsCallFailed({
          class: 'unknown',
          message: 'Threads answered the publish without a media id; the post may be live, so look at Threads before posting again.',
          platformCode: 'threads:publish',
        });
      return id;
    });
  }

  /** The post is live: its permalink, or the profile where Threads gives none (copyright flags) or the read fails. */
  private async permalink(mediaId: string): Promise<string> {
    const node = await threadsGet(`${this.settings.apiUrl}/${encodeURIComponent(mediaId)}`, {
      params: { fields: 'permalink' },
      token: this.token,
      signal: this.request.signal,
    }).catch(() => undefined);
    return stringField(node, 'permalink') ?? profileUrl(this.request.account.handle);
  }

  /**
   * A part that failed after earlier parts went live. Where each live part is recorded
   * (`onPartLive`), the failure is Threads', unchanged: the caller says which parts are live and a
   * later run resumes after them. Where they are not, nothing may send the chain again, so the
   * failure is `unknown` and its message says which parts are live.
   */
  private partFailure(failure: Failure, live: readonly string[], index: number, total: number, durable: boolean): Failure {
    if (live.length === 0 || durable) return failure;
    const parts = live.length === 1 ? 'part 1' : `parts 1–${live.length}`;
    const message = `${parts} of ${total} ${live.length === 1 ? 'is' : 'are'} live on Threads; part ${index + 1}: ${failure.message.replace(/\.+$/, '')}`;
    return { ...failure, class: 'unknown', message };
  }
}

export function profileUrl(handle: string | undefined): string {
  return handle ? `${THREADS_WEB}/@${handle}` : THREADS_WEB;
}

/** Threads' container error codes, as a person reads them. */
function containerReason(code: string | undefined): string {
  const reasons: Record<string, string> = {
    FAILED_DOWNLOADING_VIDEO: 'it could not download the video from IQSP',
    FAILED_PROCESSING_AUDIO: 'the audio could not be processed',
    FAILED_PROCESSING_VIDEO: 'the video could not be processed',
    INVALID_ASPEC_RATIO: 'the aspect ratio is not accepted',
    INVALID_ASPECT_RATIO: 'the aspect ratio is not accepted',
    INVALID_BIT_RATE: 'the bit rate is too high',
    INVALID_DURATION: 'the video is too long or too short',
    INVALID_FRAME_RATE: 'the frame rate must be 23 to 60 fps',
    INVALID_AUDIO_CHANNELS: 'the audio must be mono or stereo',
    INVALID_AUDIO_CHANNEL_LAYOUT: 'the audio channel layout is not accepted',
  };
  return code ? (reasons[code] ?? code) : 'no reason given';
}
