/**
 * Publishing on the simulated Graph API (platform-apis.md §1.5, §2.5): Page feed posts,
 * photos (one, or several attached to a feed post) and videos, fetched from their URLs for
 * real; Instagram containers (image, Reel, carousel) that process as they are polled, and
 * media_publish. Refusals use Meta's codes and subcodes, so IQSP's error mapping meets the
 * answers it will meet in production.
 */
import { graphError, META_ERRORS, selectFields, type GraphNode } from './graph-shapes.js';
import {
  FACEBOOK_PHOTO_TYPES,
  MIB,
  CONTAINER_LIFETIME_MS,
  VIDEO_TYPES,
  WEB,
  type Caller,
  type Container,
  type FeedPost,
  type GraphWorld,
  type InstagramAccountSpec,
  type InstagramMedia,
  type PageSpec,
  type PhotoRecord,
  type TokenRecord,
  type VideoRecord,
} from './graph-model.js';
import type { GraphNodes } from './graph-nodes.js';
import { shortcode } from './ids.js';
import { sniffType, type FetchedMedia } from './media-fetch.js';
import { json, parameters, receivedFile, type SimRequest, type SimResponse } from './server.js';

export class GraphPublishing {
  constructor(
    private readonly world: GraphWorld,
    private readonly nodes: GraphNodes,
  ) {}

  /** The Page a token may publish to: a Page token of that Page, the posting permissions, CREATE_CONTENT. */
  publishingPage(pageId: string, caller: Caller): { page: PageSpec; token: TokenRecord } | SimResponse {
    if (caller.kind === 'app') return META_ERRORS.unsupported('POST', pageId);
    const page = this.world.findPage(pageId);
    if (!page || !this.world.pageVisible(page.id, caller.token)) return META_ERRORS.unsupported('POST', pageId);
    const { token } = caller;
    const scopes = token.grant.scopes;
    if (token.kind !== 'page' || !scopes.has('pages_manage_posts') || !scopes.has('pages_read_engagement'))
      return META_ERRORS.permission(
        'If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission',
      );
    if (page.tasks && !page.tasks.includes('CREATE_CONTENT'))
      return META_ERRORS.permission('The user needs the CREATE_CONTENT task on this Page to publish');
    return { page, token };
  }

  async postFeed(request: SimRequest, caller: Caller): Promise<SimResponse> {
    const target = this.publishingPage(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const p = parameters(request);
    if (p.published === 'false' || p.scheduled_publish_time !== undefined)
      return META_ERRORS.parameter('Unpublished and scheduled posts are not simulated; IQSP publishes at once');
    const attached = attachedMedia(p);
    if (typeof attached === 'string') return META_ERRORS.parameter(attached);
    const message = nonEmpty(p.message);
    if (message === undefined && p.link === undefined && attached.length === 0)
      return META_ERRORS.parameter('Missing message or attachment');
    const pageId = target.page.id;
    const photos: PhotoRecord[] = [];
    for (const [index, id] of attached.entries()) {
      const photo = this.world.photos.get(id);
      if (!photo || photo.pageId !== pageId || photo.published || photo.attachedTo)
        return META_ERRORS.parameter(
          `param attached_media[${index}] has an invalid media_fbid (it must be an unpublished photo of this Page, used once)`,
        );
      photos.push(photo);
    }
    if (attached.length === 0 && message !== undefined && this.lastTextPost(pageId)?.message === message)
      return graphError(400, { message: '(#506) Duplicate status message', code: 506 });
    const post = this.createPost(pageId, message, p.link, photos, photos.length > 0 ? 'added_photos' : 'mobile_status_update');
    this.world.record(
      'facebook',
      pageId,
      post.id,
      photos.length > 1 ? 'photos' : photos.length === 1 ? 'photo' : 'text',
      message,
      photos.map((ph) => ph.media),
      this.nodes.postPermalink(post),
    );
    return this.answerWithFields({ id: post.id }, p.fields, this.nodes.postNode(post));
  }

  async postPhoto(request: SimRequest, caller: Caller): Promise<SimResponse> {
    const target = this.publishingPage(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const p = parameters(request);
    const media = await this.mediaFromRequest(request, p.url, 'source');
    if (!media) return graphError(400, { message: '(#324) Missing or invalid image file', code: 324 });
    if (!media.type || !FACEBOOK_PHOTO_TYPES.has(media.type) || media.bytes > 10 * MIB)
      return META_ERRORS.parameter(
        "Your photos couldn't be uploaded. Photos should be saved as JPG, PNG, GIF, BMP or TIFF files under 10 MB.",
        1366046,
        {
          title: 'Photo upload failed',
          msg: 'Photos should be JPG, PNG, GIF, BMP or TIFF files under 10 MB.',
        },
      );
    const pageId = target.page.id;
    const caption = nonEmpty(p.caption ?? p.message);
    const published = p.published !== 'false';
    const photo: PhotoRecord = { id: this.world.objectIds.take(), pageId, caption, published, media, createdAt: new Date() };
    this.world.photos.set(photo.id, photo);
    if (!published) return json(200, { id: photo.id });
    const post = this.createPost(pageId, caption, undefined, [photo], 'added_photos');
    photo.postId = post.id;
    this.world.record('facebook', pageId, post.id, 'photo', caption, [media], this.nodes.postPermalink(post));
    return json(200, { id: photo.id, post_id: post.id });
  }

  async postVideo(request: SimRequest, caller: Caller): Promise<SimResponse> {
    const target = this.publishingPage(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const p = parameters(request);
    if (p.upload_phase !== undefined || p.fbuploader_video_file_chunk !== undefined)
      return META_ERRORS.parameter('The chunked and resumable video uploads are not simulated; use file_url or source');
    if (p.file_url === undefined && receivedFile(request.body, 'source') === undefined)
      return META_ERRORS.parameter('The parameter file_url or source is required');
    const pageId = target.page.id;
    // At Meta the download happens after this answer, so a failed one shows in the video's status, not here.
    const media = await this.mediaFromRequest(request, p.file_url, 'source');
    const failure = !media
      ? 'There was a problem downloading your video from file_url. Make sure the URL is publicly reachable.'
      : !media.type || !VIDEO_TYPES.has(media.type)
        ? "The video file you selected is in a format that we don't support."
        : undefined;
    const video: VideoRecord = {
      id: this.world.objectIds.take(),
      pageId,
      description: nonEmpty(p.description),
      title: nonEmpty(p.title),
      pollsLeft: this.world.options.videoPolls,
      failure,
      media,
      createdAt: new Date(),
    };
    this.world.videos.set(video.id, video);
    if (!failure && media)
      this.world.record('facebook', pageId, video.id, 'video', video.description, [media], `${WEB}/${pageId}/videos/${video.id}/`);
    return json(200, { id: video.id });
  }

  private createPost(
    pageId: string,
    message: string | undefined,
    link: string | undefined,
    photos: PhotoRecord[],
    statusType: string,
  ): FeedPost {
    const post: FeedPost = {
      id: `${pageId}_${this.world.objectIds.take()}`,
      pageId,
      message,
      link,
      photoIds: photos.map((ph) => ph.id),
      createdAt: new Date(),
      statusType,
    };
    for (const photo of photos) photo.attachedTo = post.id;
    this.world.posts.set(post.id, post);
    return post;
  }

  private lastTextPost(pageId: string): FeedPost | undefined {
    return [...this.world.posts.values()].filter((post) => post.pageId === pageId && post.photoIds.length === 0).at(-1);
  }

  /** Read-after-write: a POST with `fields` gets those fields of the new object back (§1.5). */
  private answerWithFields(base: Record<string, unknown>, fields: string | undefined, node: GraphNode): SimResponse {
    if (!fields) return json(200, base);
    const selected = selectFields(node, fields);
    return selected.ok ? json(200, { ...selected.value, ...base }) : selected.response;
  }

  /** The media of a publish: downloaded from `url`, or the uploaded multipart file `field`. */
  private async mediaFromRequest(request: SimRequest, url: string | undefined, field: string): Promise<FetchedMedia | undefined> {
    if (url !== undefined) return this.world.download(url);
    const file = receivedFile(request.body, field);
    if (request.body.kind !== 'multipart' || !file) return undefined;
    return { url: `upload:${field}`, bytes: file.bytes, sha256: file.sha256, type: sniffType(file.head) };
  }

  /** The Instagram account a token may publish to: linked to a visible Page, with the IG permissions. */
  private instagramPublisher(igId: string, caller: Caller): { account: InstagramAccountSpec; token: TokenRecord } | SimResponse {
    if (caller.kind === 'app') return META_ERRORS.unsupported('POST', igId);
    const ig = this.world.findInstagram(igId);
    if (!ig || !this.world.instagramVisible(ig.account.id, caller.token)) return META_ERRORS.unsupported('POST', igId);
    const scopes = caller.token.grant.scopes;
    // Facebook Login and Instagram Login name the same permissions differently.
    const [basic, publish] =
      caller.token.kind === 'instagram'
        ? ['instagram_business_basic', 'instagram_business_content_publish']
        : ['instagram_basic', 'instagram_content_publish'];
    if (!scopes.has(basic) || !scopes.has(publish)) return META_ERRORS.appPermission();
    return { account: ig.account, token: caller.token };
  }

  async createContainer(request: SimRequest, caller: Caller): Promise<SimResponse> {
    const target = this.instagramPublisher(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const igId = target.account.id;
    const p = parameters(request);
    const caption = nonEmpty(p.caption);
    const captionProblem = caption === undefined ? undefined : instagramCaptionProblem(caption);
    if (captionProblem) return graphError(400, { message: `(#100) ${captionProblem}`, code: 100, error_subcode: 2207010 });
    const isCarouselItem = p.is_carousel_item === 'true';
    const mediaType = p.media_type?.toUpperCase();
    if (mediaType === 'CAROUSEL') return this.createCarousel(igId, p, caption);

    const isVideo = mediaType === 'REELS' || mediaType === 'VIDEO' || (mediaType === 'STORIES' && p.video_url !== undefined);
    if (mediaType !== undefined && !['REELS', 'VIDEO', 'STORIES', 'IMAGE'].includes(mediaType))
      return META_ERRORS.parameter(`media_type ${mediaType} is not supported`);
    if (mediaType === 'VIDEO' && !isCarouselItem)
      return META_ERRORS.parameter('media_type=VIDEO is only for carousel items; publish single videos with media_type=REELS');
    if (mediaType === 'REELS' && isCarouselItem) return META_ERRORS.parameter('Reels cannot be carousel items');
    const url = isVideo ? p.video_url : p.image_url;
    if (url === undefined) return META_ERRORS.parameter(`The parameter ${isVideo ? 'video_url' : 'image_url'} is required.`);

    const media = await this.world.download(url);
    if (!media)
      return graphError(400, {
        message: 'Only photo or video can be accepted as media type.',
        code: 9004,
        error_subcode: 2207052,
        is_transient: false,
        error_user_title: 'Media download has failed.',
        error_user_msg: `The media could not be fetched from this URI: ${url}. Please check the following and try again: The URI is publicly accessible; the media is a photo or video.`,
      });
    let failure: Container['failure'];
    if (isVideo) {
      // Video is checked while processing: a wrong format ends in status ERROR, as on Instagram.
      if (!media.type || !VIDEO_TYPES.has(media.type))
        failure = { subcode: 2207026, text: 'Error: Unsupported video format. error code 2207026' };
    } else {
      if (media.type !== 'image/jpeg')
        return graphError(400, {
          message: 'The image format is not supported.',
          code: 36001,
          error_subcode: 2207005,
          error_user_title: 'Unsupported format',
          error_user_msg: 'The image format is not supported. Supported formats are: JPEG',
        });
      if (media.bytes > 8 * MIB)
        return graphError(400, {
          message: 'The image is too large to download. It should be less than 8 MiB.',
          code: 36000,
          error_subcode: 2207004,
          error_user_title: 'Image is too large',
          error_user_msg: 'The image is too large to download. It should be less than 8 MiB.',
        });
    }
    const container = this.addContainer({
      igId,
      kind: isVideo ? 'video' : 'image',
      mediaType: mediaType ?? 'IMAGE',
      isCarouselItem,
      caption: isCarouselItem ? undefined : caption,
      media,
      children: [],
      pollsLeft: isVideo ? this.world.options.containerPolls.video : this.world.options.containerPolls.image,
      failure,
    });
    return json(200, { id: container.id });
  }

  private createCarousel(igId: string, p: Record<string, string>, caption: string | undefined): SimResponse {
    const children = (p.children ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    const invalid = (detail: string): SimResponse =>
      graphError(400, {
        message: `(#100) ${detail}`,
        code: 100,
        error_subcode: 2207028,
        error_user_title: 'Carousel validation failed',
        error_user_msg: detail,
      });
    if (children.length < 2 || children.length > 10) return invalid(`A carousel needs 2 to 10 children; this one has ${children.length}.`);
    for (const id of children) {
      const child = this.world.containers.get(id);
      if (!child || child.igId !== igId || !child.isCarouselItem) return invalid(`${id} is not a carousel item container of this account.`);
      if (child.usedBy) return invalid(`${id} is already used in another carousel.`);
      if (child.failure || child.pollsLeft > 0) return invalid(`${id} has not finished processing.`);
    }
    const container = this.addContainer({
      igId,
      kind: 'carousel',
      mediaType: 'CAROUSEL',
      isCarouselItem: false,
      caption,
      children,
      pollsLeft: this.world.options.containerPolls.carousel,
    });
    for (const id of children) {
      const child = this.world.containers.get(id);
      if (child) child.usedBy = container.id;
    }
    return json(200, { id: container.id });
  }

  private addContainer(fields: Omit<Container, 'id' | 'createdAt'>): Container {
    const container: Container = { ...fields, id: this.world.igIds.take(), createdAt: Date.now() };
    this.world.containers.set(container.id, container);
    return container;
  }

  mediaPublish(request: SimRequest, caller: Caller): SimResponse {
    const target = this.instagramPublisher(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const igId = target.account.id;
    const creationId = parameters(request).creation_id;
    const container = creationId ? this.world.containers.get(creationId) : undefined;
    if (!container || container.igId !== igId)
      return META_ERRORS.parameter('The parameter creation_id must be a media container of this account');
    if (container.isCarouselItem)
      return META_ERRORS.parameter('A carousel item cannot be published on its own; publish its CAROUSEL container');
    if (container.publishedMediaId) return META_ERRORS.parameter('This media container has already been published');
    if (Date.now() - container.createdAt > CONTAINER_LIFETIME_MS)
      return graphError(400, { message: '(#100) The media container has expired; create a new one.', code: 100, error_subcode: 2207020 });
    if (container.failure) return META_ERRORS.parameter(`The media container failed processing (${container.failure.text})`);
    const notReady = (): SimResponse =>
      graphError(400, {
        message: 'Media ID is not available',
        code: 9007,
        error_subcode: 2207027,
        is_transient: false,
        error_user_title: 'Media not ready',
        error_user_msg: 'The media is not ready for publishing, please wait for a moment',
      });
    if (container.pollsLeft > 0) return notReady();
    if (this.world.notReadyLeft > 0) {
      this.world.notReadyLeft -= 1;
      return notReady();
    }
    const dayAgo = Date.now() - 24 * 3600_000;
    const recent = [...this.world.igMedia.values()].filter((m) => m.igId === igId && m.createdAt.getTime() > dayAgo).length;
    if (recent >= this.world.options.instagramDailyLimit)
      return graphError(400, {
        message: 'Application request limit reached',
        code: 9,
        error_subcode: 2207042,
        error_user_title: 'Reached maximum number of posts',
        error_user_msg: 'You reached the maximum number of posts that is allowed to be published by Content Publishing API.',
      });

    const isReel = container.mediaType === 'REELS';
    const code = shortcode();
    const childMedia = container.children
      .map((id) => this.world.containers.get(id)?.media)
      .filter((m): m is FetchedMedia => m !== undefined);
    const media: InstagramMedia = {
      id: this.world.igIds.take(),
      igId,
      caption: container.caption,
      mediaType: container.kind === 'carousel' ? 'CAROUSEL_ALBUM' : container.kind === 'video' ? 'VIDEO' : 'IMAGE',
      productType: isReel ? 'REELS' : 'FEED',
      shortcode: code,
      permalink: `https://www.instagram.com/${isReel ? 'reel' : 'p'}/${code}/`,
      childIds: container.children,
      createdAt: new Date(),
    };
    this.world.igMedia.set(media.id, media);
    container.publishedMediaId = media.id;
    this.world.record(
      'instagram',
      igId,
      media.id,
      container.kind === 'carousel' ? 'carousel' : isReel ? 'reel' : 'image',
      media.caption,
      container.kind === 'carousel' ? childMedia : container.media ? [container.media] : [],
      media.permalink,
    );
    return json(200, { id: media.id });
  }

  publishingLimit(request: SimRequest, caller: Caller): SimResponse {
    const target = this.instagramPublisher(request.params[0] ?? '', caller);
    if ('status' in target) return target;
    const dayAgo = Date.now() - 24 * 3600_000;
    const usage = [...this.world.igMedia.values()].filter((m) => m.igId === target.account.id && m.createdAt.getTime() > dayAgo).length;
    return json(200, {
      data: [{ config: { quota_total: this.world.options.instagramDailyLimit, quota_duration: 86_400 }, quota_usage: usage }],
    });
  }
}

/** `attached_media[0]={"media_fbid":"…"}` form fields, or an `attached_media` JSON array; a string is the error. */
function attachedMedia(p: Record<string, string>): string[] | string {
  const entries: Array<[number, string]> = [];
  for (const [key, value] of Object.entries(p)) {
    const index = /^attached_media\[(\d+)\]$/.exec(key)?.[1];
    if (index !== undefined) entries.push([Number(index), value]);
  }
  let raw: unknown[] = entries.sort((a, b) => a[0] - b[0]).map(([, value]) => parseJson(value));
  if (p.attached_media !== undefined) {
    const list = parseJson(p.attached_media);
    if (!Array.isArray(list)) return 'param attached_media must be an array';
    raw = list;
  }
  const ids: string[] = [];
  for (const [index, item] of raw.entries()) {
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).media_fbid : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') return `param attached_media[${index}] must be an object with media_fbid`;
    ids.push(String(id));
  }
  return ids;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Instagram's documented caption limits: 2,200 characters, 30 hashtags, 20 @-tags (§2.7). */
function instagramCaptionProblem(caption: string): string | undefined {
  const characters = [...caption].length;
  if (characters > 2_200) return `The caption is ${characters} characters; the limit is 2,200.`;
  const hashtags = caption.match(/(^|\s)#[^\s#]+/g)?.length ?? 0;
  if (hashtags > 30) return `The caption has ${hashtags} hashtags; the limit is 30.`;
  const mentions = caption.match(/(^|\s)@[\w.]+/g)?.length ?? 0;
  if (mentions > 20) return `The caption has ${mentions} @-tags; the limit is 20.`;
  return undefined;
}
