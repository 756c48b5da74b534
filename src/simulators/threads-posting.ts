/**
 * Posting on the Threads simulator: media containers (TEXT, IMAGE, VIDEO, carousel items and
 * CAROUSEL) with Threads' parameter rules, the media fetched from the URLs given (images before
 * answering, videos in the background while the container is IN_PROGRESS), status reads that
 * move IN_PROGRESS → FINISHED (ERROR, EXPIRED after 24 hours, PUBLISHED), `threads_publish` with
 * the daily caps, reply chains (`reply_to_id`), media nodes with their permalink, the account's
 * threads (newest first, `since`/`until`, cursor paging) and the publishing limit.
 */
import { graphTime, selectFields, type GraphNode } from './graph-shapes.js';
import { NumericIds, shortcode } from './ids.js';
import { fetchMedia, type FetchedMedia } from './media-fetch.js';
import { json, parameters, type SimRequest, type SimResponse } from './server.js';
import type { ThreadsSimulatorOptions, ThreadsToken } from './threads.js';
import { THREADS_ERRORS, threadsLength } from './threads-shapes.js';

const MIB = 1024 * 1024;
const CONTAINER_LIFETIME_MS = 24 * 3600_000;
const DAY_MS = 24 * 3600_000;
const MAX_TEXT = 500;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png']);
const VIDEO_TYPES = new Set(['video/mp4', 'video/quicktime']);
const MEDIA_TYPES = new Set(['TEXT', 'IMAGE', 'VIDEO', 'CAROUSEL']);
/** Parameters a container takes (more-platforms.md §3.4); anything else is refused. */
const CONTAINER_PARAMS = new Set([
  'access_token',
  'media_type',
  'text',
  'image_url',
  'video_url',
  'is_carousel_item',
  'children',
  'reply_to_id',
  'reply_control',
  'link_attachment',
  'quote_post_id',
  'topic_tag',
  'alt_text',
  'auto_publish_text',
  'allowlisted_country_codes',
  'location_id',
]);
const MEDIA_FIELDS = [
  'id',
  'media_product_type',
  'media_type',
  'media_url',
  'permalink',
  'owner',
  'username',
  'text',
  'timestamp',
  'shortcode',
  'thumbnail_url',
  'children',
  'is_quote_post',
  'has_replies',
  'is_reply',
  'replied_to',
  'root_post',
] as const;

export interface ThreadsContainer {
  id: string;
  accountId: string;
  mediaType: 'TEXT' | 'IMAGE' | 'VIDEO' | 'CAROUSEL';
  isCarouselItem: boolean;
  text?: string | undefined;
  replyToId?: string | undefined;
  media?: FetchedMedia | undefined;
  children: string[];
  /** A video still downloading. */
  downloading: boolean;
  pollsLeft: number;
  error?: string | undefined;
  usedBy?: string | undefined;
  publishedMediaId?: string | undefined;
  createdAt: number;
}

export interface ThreadsPublished {
  id: string;
  accountId: string;
  username: string;
  containerId: string;
  /** TEXT_POST, IMAGE, VIDEO or CAROUSEL_ALBUM, as Threads names media. */
  mediaType: string;
  text?: string | undefined;
  /** The post this one replies to (a `---` chain's part before it). */
  replyToId?: string | undefined;
  media: FetchedMedia[];
  shortcode: string;
  permalink: string;
  at: Date;
}

export class ThreadsPosting {
  readonly containers = new Map<string, ThreadsContainer>();
  readonly published: ThreadsPublished[] = [];
  readonly mediaFetches: Array<{ url: string; ok: boolean; bytes?: number; reason?: string }> = [];
  /** Error codes the next video containers end with (a test control). */
  readonly failures: string[] = [];
  private readonly ids = new NumericIds('18000000000000001');

  constructor(
    private readonly options: ThreadsSimulatorOptions,
    private readonly now: () => number,
    private readonly signal: AbortSignal,
  ) {}

  async createContainer(request: SimRequest, token: ThreadsToken): Promise<SimResponse> {
    const p = parameters(request);
    const unknown = Object.keys(p).filter((k) => !CONTAINER_PARAMS.has(k));
    if (unknown.length > 0) return THREADS_ERRORS.parameter(`Unsupported parameter ${unknown[0]}`);
    const mediaType = p.media_type;
    if (!mediaType || !MEDIA_TYPES.has(mediaType))
      return THREADS_ERRORS.parameter('Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}');
    const isCarouselItem = p.is_carousel_item === 'true';
    const text = p.text === undefined || p.text === '' ? undefined : p.text;
    if (text !== undefined && threadsLength(text) > MAX_TEXT)
      return THREADS_ERRORS.parameter(`text must be at most ${MAX_TEXT} characters`, 4279009);
    if (isCarouselItem && (text !== undefined || p.reply_to_id !== undefined || mediaType === 'TEXT' || mediaType === 'CAROUSEL'))
      return THREADS_ERRORS.parameter('A carousel item is an IMAGE or VIDEO without text or reply_to_id');
    let replyToId: string | undefined;
    if (p.reply_to_id !== undefined) {
      if (!token.scopes.includes('threads_manage_replies')) return THREADS_ERRORS.permission('threads_manage_replies');
      const to = this.published.find((m) => m.id === p.reply_to_id);
      if (!to) return THREADS_ERRORS.parameter(`reply_to_id ${p.reply_to_id} is not a published Threads media`, 4279002);
      replyToId = to.id;
    }
    const base = { accountId: token.accountId, isCarouselItem, replyToId, children: [], downloading: false, createdAt: this.now() };

    switch (mediaType) {
      case 'TEXT':
        if (text === undefined) return THREADS_ERRORS.parameter('Param text is required for a TEXT post');
        if (p.image_url !== undefined || p.video_url !== undefined)
          return THREADS_ERRORS.parameter('A TEXT post takes no image_url or video_url');
        return this.answer(this.add({ ...base, mediaType, text, pollsLeft: this.options.containerPolls.text }));
      case 'IMAGE': {
        if (!p.image_url) return THREADS_ERRORS.parameter('Param image_url is required for an IMAGE post');
        const media = await this.download(p.image_url);
        if (!media) return THREADS_ERRORS.parameter(`The media could not be fetched from this URI: ${p.image_url}`, 2207052);
        if (!media.type || !IMAGE_TYPES.has(media.type))
          return THREADS_ERRORS.parameter('The image format is not supported; use JPEG or PNG', 2207005);
        if (media.bytes > 8 * MIB) return THREADS_ERRORS.parameter('The image is too large; the limit is 8 MB', 2207004);
        return this.answer(this.add({ ...base, mediaType, text, media, pollsLeft: this.options.containerPolls.image }));
      }
      case 'VIDEO': {
        if (!p.video_url) return THREADS_ERRORS.parameter('Param video_url is required for a VIDEO post');
        const container = this.add({ ...base, mediaType, text, downloading: true, pollsLeft: this.options.containerPolls.video });
        void this.downloadVideo(container, p.video_url);
        return this.answer(container);
      }
      default:
        return this.createCarousel(p, base, text);
    }
  }

  private createCarousel(
    p: Record<string, string>,
    base: Omit<ThreadsContainer, 'id' | 'mediaType' | 'pollsLeft'>,
    text: string | undefined,
  ): SimResponse {
    const children = (p.children ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (children.length < 2 || children.length > 20)
      return THREADS_ERRORS.parameter(`A carousel needs 2 to 20 children; this one has ${children.length}`, 4279007);
    for (const id of children) {
      const child = this.containers.get(id);
      if (!child || child.accountId !== base.accountId || !child.isCarouselItem)
        return THREADS_ERRORS.parameter(`${id} is not a carousel item container of this user`);
      if (child.usedBy) return THREADS_ERRORS.parameter(`${id} is already used in another carousel`);
      if (this.status(child, false) !== 'FINISHED') return THREADS_ERRORS.parameter(`${id} has not finished processing`, 4279008);
    }
    const container = this.add({ ...base, mediaType: 'CAROUSEL', text, children, pollsLeft: this.options.containerPolls.carousel });
    for (const id of children) {
      const child = this.containers.get(id);
      if (child) child.usedBy = container.id;
    }
    return this.answer(container);
  }

  private add(fields: Omit<ThreadsContainer, 'id'>): ThreadsContainer {
    const container: ThreadsContainer = { ...fields, id: this.ids.take() };
    this.containers.set(container.id, container);
    return container;
  }

  private answer(container: ThreadsContainer): SimResponse {
    return json(200, { id: container.id });
  }

  private async download(url: string): Promise<FetchedMedia | undefined> {
    const result = await fetchMedia(url, this.signal);
    if (result.ok) {
      this.mediaFetches.push({ url, ok: true, bytes: result.media.bytes });
      return result.media;
    }
    this.mediaFetches.push({ url, ok: false, reason: result.reason });
    return undefined;
  }

  private async downloadVideo(container: ThreadsContainer, url: string): Promise<void> {
    const media = await this.download(url);
    container.downloading = false;
    if (!media) container.error = 'FAILED_DOWNLOADING_VIDEO';
    else if (!media.type || !VIDEO_TYPES.has(media.type)) container.error = 'FAILED_PROCESSING_VIDEO';
    else if (media.bytes > 1024 * MIB) container.error = 'INVALID_DURATION';
    else container.error = this.failures.shift();
    container.media = media;
  }

  /** IN_PROGRESS while a video downloads and for the configured reads, then FINISHED; ERROR, EXPIRED, PUBLISHED as they happen. */
  status(container: ThreadsContainer, read = true): string {
    if (container.publishedMediaId) return 'PUBLISHED';
    if (container.error) return 'ERROR';
    if (this.now() - container.createdAt > CONTAINER_LIFETIME_MS) return 'EXPIRED';
    if (container.downloading) return 'IN_PROGRESS';
    if (container.pollsLeft > 0) {
      if (read) container.pollsLeft -= 1;
      return 'IN_PROGRESS';
    }
    return 'FINISHED';
  }

  publish(request: SimRequest, token: ThreadsToken): SimResponse {
    const p = parameters(request);
    const container = p.creation_id ? this.containers.get(p.creation_id) : undefined;
    if (!container || container.accountId !== token.accountId)
      return THREADS_ERRORS.parameter('Param creation_id must be a media container of this user', 4279001);
    if (container.isCarouselItem)
      return THREADS_ERRORS.parameter('A carousel item cannot be published on its own; publish its CAROUSEL container');
    const status = this.status(container, false);
    if (status === 'PUBLISHED') return THREADS_ERRORS.parameter('This media container has already been published', 4279003);
    if (status === 'EXPIRED') return THREADS_ERRORS.parameter('The media container has expired; create a new one', 4279004);
    if (status === 'ERROR')
      return THREADS_ERRORS.parameter(`The media container failed processing (${container.error ?? 'UNKNOWN'})`, 4279005);
    if (status === 'IN_PROGRESS')
      return THREADS_ERRORS.parameter('The media is not ready to be published; wait until the container status is FINISHED', 4279009);
    const reply = container.replyToId !== undefined;
    const used = this.usage(token.accountId, reply);
    const total = reply ? this.options.dailyReplies : this.options.dailyPosts;
    if (used >= total) return THREADS_ERRORS.dailyCap(reply ? 'replies' : 'posts', total);

    const username = this.username(token.accountId);
    const code = shortcode();
    const id = this.ids.take();
    const media =
      container.mediaType === 'CAROUSEL'
        ? container.children.map((c) => this.containers.get(c)?.media).filter((m): m is FetchedMedia => m !== undefined)
        : container.media
          ? [container.media]
          : [];
    this.published.push({
      id,
      accountId: token.accountId,
      username,
      containerId: container.id,
      mediaType: { TEXT: 'TEXT_POST', IMAGE: 'IMAGE', VIDEO: 'VIDEO', CAROUSEL: 'CAROUSEL_ALBUM' }[container.mediaType],
      text: container.text,
      replyToId: container.replyToId,
      media,
      shortcode: code,
      permalink: `https://www.threads.net/@${username}/post/${code}`,
      at: new Date(this.now()),
    });
    container.publishedMediaId = id;
    return json(200, { id });
  }

  /** Posts (or replies) the account published through the API in the last 24 hours. */
  private usage(accountId: string, replies: boolean): number {
    const since = this.now() - DAY_MS;
    return this.published.filter((m) => m.accountId === accountId && (m.replyToId !== undefined) === replies && m.at.getTime() > since)
      .length;
  }

  publishingLimit(request: SimRequest, token: ThreadsToken): SimResponse {
    const all: Record<string, unknown> = {
      quota_usage: this.usage(token.accountId, false),
      config: { quota_total: this.options.dailyPosts, quota_duration: 86_400 },
      reply_quota_usage: this.usage(token.accountId, true),
      reply_config: { quota_total: this.options.dailyReplies, quota_duration: 86_400 },
    };
    const fields = (request.query.fields ?? 'quota_usage,config').split(',').filter(Boolean);
    const unknown = fields.find((f) => !(f in all));
    if (unknown) return THREADS_ERRORS.parameter(`Tried accessing nonexisting field (${unknown})`);
    return json(200, { data: [Object.fromEntries(fields.map((f) => [f, all[f]]))] });
  }

  /** `GET /{id}`: a container (its status) or a media object of the token's user. */
  node(request: SimRequest, token: ThreadsToken): SimResponse {
    const id = request.params[0] ?? '';
    const container = this.containers.get(id);
    if (container && container.accountId === token.accountId) {
      const wanted = (request.query.fields ?? '').split(',');
      const status = wanted.includes('status') ? this.status(container) : undefined;
      return this.select(
        {
          type: 'ThreadsMediaContainer',
          defaults: ['id'],
          fields: { id, status, error_message: status === 'ERROR' ? container.error : undefined },
        },
        request,
      );
    }
    const media = this.published.find((m) => m.id === id);
    if (!media || media.accountId !== token.accountId) return THREADS_ERRORS.unsupported('GET', id);
    return this.select(this.mediaNode(media), request);
  }

  /** `GET /{user-id}/threads`: the user's posts (not their replies), newest first. */
  list(request: SimRequest, token: ThreadsToken): SimResponse {
    const q = request.query;
    const since = timeParam(q.since);
    const until = timeParam(q.until);
    if (since === null || until === null) return THREADS_ERRORS.parameter('since and until must be unix timestamps or dates');
    const limit = q.limit === undefined ? 25 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return THREADS_ERRORS.parameter('limit must be from 1 to 100');
    const posts = this.published
      .filter((m) => m.accountId === token.accountId && m.replyToId === undefined)
      .filter((m) => (since === undefined || m.at.getTime() >= since) && (until === undefined || m.at.getTime() <= until))
      .reverse();
    const start = q.after ? Number(Buffer.from(q.after, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0) return THREADS_ERRORS.parameter('Invalid cursor');
    const page = posts.slice(start, start + limit);
    const data: Record<string, unknown>[] = [];
    for (const media of page) {
      const selected = selectFields(this.mediaNode(media), q.fields);
      if (!selected.ok) return selected.response;
      data.push(selected.value);
    }
    const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
    const more = start + limit < posts.length;
    return json(200, {
      data,
      paging: {
        cursors: { before: cursor(start), after: cursor(start + page.length) },
        ...(more ? { next: `${request.path}?after=${cursor(start + page.length)}&limit=${limit}` } : {}),
      },
    });
  }

  chain(firstId: string): ThreadsPublished[] {
    const chain: ThreadsPublished[] = [];
    let next = this.published.find((m) => m.id === firstId);
    while (next) {
      const at: ThreadsPublished = next;
      chain.push(at);
      next = this.published.find((m) => m.replyToId === at.id);
    }
    return chain;
  }

  private mediaNode(media: ThreadsPublished): GraphNode {
    const values: Record<string, unknown> = {
      id: media.id,
      media_product_type: 'THREADS',
      media_type: media.mediaType,
      media_url: media.media[0]?.url,
      permalink: media.permalink,
      owner: { id: media.accountId },
      username: media.username,
      text: media.text,
      timestamp: graphTime(media.at),
      shortcode: media.shortcode,
      thumbnail_url: undefined,
      children:
        media.mediaType === 'CAROUSEL_ALBUM'
          ? { data: this.containers.get(media.containerId)?.children.map((id) => ({ id })) ?? [] }
          : undefined,
      is_quote_post: false,
      has_replies: this.published.some((m) => m.replyToId === media.id),
      is_reply: media.replyToId !== undefined,
      replied_to: media.replyToId !== undefined ? { id: media.replyToId } : undefined,
      root_post: { id: this.chainRoot(media).id },
    };
    return { type: 'ThreadsMedia', defaults: ['id'], fields: Object.fromEntries(MEDIA_FIELDS.map((f) => [f, values[f]])) };
  }

  private chainRoot(media: ThreadsPublished): ThreadsPublished {
    let at = media;
    for (;;) {
      const parent = at.replyToId !== undefined ? this.published.find((m) => m.id === at.replyToId) : undefined;
      if (!parent) return at;
      at = parent;
    }
  }

  private select(node: GraphNode, request: SimRequest): SimResponse {
    const selected = selectFields(node, request.query.fields);
    return selected.ok ? json(200, selected.value) : selected.response;
  }

  private username(accountId: string): string {
    return this.options.accounts.find((a) => a.id === accountId)?.username ?? accountId;
  }
}

/** `since`/`until`: a unix timestamp in seconds or a date; undefined when absent, null when unreadable. */
function timeParam(value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : null;
}
