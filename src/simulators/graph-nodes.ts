/**
 * Reading Graph objects: each object the simulator holds as a `GraphNode` (the fields its
 * type has), visible only to tokens that may see it. Videos and Instagram containers move
 * through processing as their status is read, one step per read, which makes polling
 * deterministic in tests.
 */
import { graphTime, type GraphNode } from './graph-shapes.js';
import {
  CONTAINER_LIFETIME_MS,
  WEB,
  type Container,
  type FeedPost,
  type GraphWorld,
  type InstagramAccountSpec,
  type InstagramMedia,
  type MetaUserSpec,
  type PageSpec,
  type PhotoRecord,
  type TokenRecord,
  type VideoRecord,
} from './graph-model.js';

export class GraphNodes {
  constructor(private readonly world: GraphWorld) {}

  /**
   * The node with this id as `token` may see it, or undefined (missing or not visible).
   * `requested` matters for videos and containers: reading their status is what moves
   * processing on, one step per read.
   */
  node(id: string, token: TokenRecord, requested: readonly string[] = []): GraphNode | undefined {
    const user = this.world.options.users.find((u) => u.id === id);
    if (user) return token.kind === 'user' && token.grant.userId === id ? this.userNode(user) : undefined;
    const page = this.world.findPage(id);
    if (page) return this.world.pageVisible(page.id, token) ? this.pageNode(page, token) : undefined;
    const ig = this.world.findInstagram(id);
    if (ig) return this.world.instagramVisible(ig.account.id, token) ? this.instagramNode(ig.account) : undefined;
    const post = this.world.posts.get(id);
    if (post) return this.world.pageVisible(post.pageId, token) ? this.postNode(post) : undefined;
    const photo = this.world.photos.get(id);
    if (photo) return this.world.pageVisible(photo.pageId, token) ? this.photoNode(photo) : undefined;
    const video = this.world.videos.get(id);
    if (video) return this.world.pageVisible(video.pageId, token) ? this.videoNode(video, requested.includes('status')) : undefined;
    const container = this.world.containers.get(id);
    if (container)
      return this.world.instagramVisible(container.igId, token)
        ? this.containerNode(container, requested.includes('status_code') || requested.includes('status'))
        : undefined;
    const media = this.world.igMedia.get(id);
    if (media) return this.world.instagramVisible(media.igId, token) ? this.igMediaNode(media) : undefined;
    return undefined;
  }

  private picture(url: string | undefined): Record<string, unknown> | undefined {
    return url ? { data: { height: 200, width: 200, is_silhouette: false, url } } : undefined;
  }

  private userNode(user: MetaUserSpec): GraphNode {
    return {
      type: 'User',
      defaults: ['name'],
      fields: { id: user.id, name: user.name, short_name: user.name.split(' ')[0], picture: this.picture(user.pictureUrl) },
    };
  }

  private pageNode(page: PageSpec, token: TokenRecord): GraphNode {
    return {
      type: 'Page',
      defaults: ['name'],
      fields: {
        id: page.id,
        name: page.name,
        username: page.username,
        category: page.category,
        category_list: page.category ? [{ id: '2200', name: page.category }] : undefined,
        link: `${WEB}/${page.username ?? page.id}`,
        picture: this.picture(page.pictureUrl),
        tasks: page.tasks,
        // A user token sees the Page token; a Page token sees itself.
        access_token: token.kind === 'user' ? this.world.pageToken(token, page.id) : token.value,
        instagram_business_account: page.instagram ? { id: page.instagram.id } : undefined,
      },
    };
  }

  private instagramNode(account: InstagramAccountSpec): GraphNode {
    return {
      type: 'IGUser',
      defaults: ['id'],
      fields: {
        id: account.id,
        ig_id: Number(account.id.slice(-10)),
        username: account.username,
        name: account.name,
        profile_picture_url: account.profilePictureUrl,
        biography: '',
        website: undefined,
        followers_count: 1200,
        follows_count: 80,
        media_count: [...this.world.igMedia.values()].filter((m) => m.igId === account.id).length,
      },
    };
  }

  postNode(post: FeedPost): GraphNode {
    const page = this.world.findPage(post.pageId);
    return {
      type: 'Post',
      defaults: ['created_time', 'message'],
      fields: {
        id: post.id,
        message: post.message,
        created_time: graphTime(post.createdAt),
        permalink_url: this.postPermalink(post),
        is_published: true,
        status_type: post.statusType,
        from: page ? { name: page.name, id: page.id } : undefined,
      },
    };
  }

  private photoNode(photo: PhotoRecord): GraphNode {
    return {
      type: 'Photo',
      defaults: ['created_time'],
      fields: {
        id: photo.id,
        name: photo.caption,
        created_time: graphTime(photo.createdAt),
        link: `${WEB}/photo.php?fbid=${photo.id}`,
        page_story_id: photo.postId,
      },
    };
  }

  private videoNode(video: VideoRecord, readStatus: boolean): GraphNode {
    return {
      type: 'Video',
      defaults: ['updated_time', 'description'],
      fields: {
        id: video.id,
        title: video.title,
        description: video.description,
        created_time: graphTime(video.createdAt),
        updated_time: graphTime(video.createdAt),
        // Video nodes answer a path, not a URL (IQSP makes it absolute).
        permalink_url: `/${video.pageId}/videos/${video.id}/`,
        published: video.failure === undefined && video.pollsLeft === 0,
        status: readStatus ? this.videoStatus(video) : undefined,
      },
    };
  }

  /** `status` of a video: processing for `videoPolls` reads, then ready (or error when the download failed). */
  private videoStatus(video: VideoRecord): Record<string, unknown> {
    const bytes = video.media?.bytes ?? 0;
    if (video.failure !== undefined)
      return {
        video_status: 'error',
        uploading_phase: { status: 'error', bytes_transferred: 0, errors: [{ code: 6000, message: video.failure }] },
        processing_phase: { status: 'not_started' },
        publishing_phase: { status: 'not_started' },
      };
    if (video.pollsLeft > 0) {
      video.pollsLeft -= 1;
      return {
        video_status: 'processing',
        uploading_phase: { status: 'complete', bytes_transferred: bytes },
        processing_phase: { status: 'in_progress', estimated_time_remaining: video.pollsLeft + 1 },
        publishing_phase: { status: 'not_started' },
      };
    }
    return {
      video_status: 'ready',
      uploading_phase: { status: 'complete', bytes_transferred: bytes },
      processing_phase: { status: 'complete' },
      publishing_phase: { status: 'complete', publish_status: 'published', publish_time: Math.floor(video.createdAt.getTime() / 1000) },
    };
  }

  private containerNode(container: Container, readStatus: boolean): GraphNode {
    const status = readStatus ? this.containerStatus(container) : undefined;
    return {
      type: 'ShadowIGMediaBuilder',
      defaults: ['id'],
      fields: { id: container.id, status_code: status?.code, status: status?.text, copyright_check_status: undefined },
    };
  }

  /** IN_PROGRESS for the configured number of reads, then FINISHED; ERROR, EXPIRED and PUBLISHED as they happen. */
  private containerStatus(container: Container): { code: string; text: string } {
    if (container.publishedMediaId) return { code: 'PUBLISHED', text: 'Published: Media has been successfully published.' };
    if (container.failure) return { code: 'ERROR', text: container.failure.text };
    if (Date.now() - container.createdAt > CONTAINER_LIFETIME_MS) return { code: 'EXPIRED', text: 'Expired: Media container has expired.' };
    if (container.pollsLeft > 0) {
      container.pollsLeft -= 1;
      return { code: 'IN_PROGRESS', text: 'In Progress: Media is still being processed.' };
    }
    return { code: 'FINISHED', text: 'Finished: Media has been uploaded and it is ready to be published.' };
  }

  igMediaNode(media: InstagramMedia): GraphNode {
    return {
      type: 'IGMedia',
      defaults: ['id'],
      fields: {
        id: media.id,
        caption: media.caption,
        media_type: media.mediaType,
        media_product_type: media.productType,
        permalink: media.permalink,
        shortcode: media.shortcode,
        timestamp: graphTime(media.createdAt),
        username: this.world.findInstagram(media.igId)?.account.username,
        is_comment_enabled: true,
        like_count: 0,
        comments_count: 0,
        children: media.childIds.length > 0 ? { data: media.childIds.map((id) => ({ id })) } : undefined,
      },
    };
  }

  postPermalink(post: FeedPost): string {
    const page = this.world.findPage(post.pageId);
    const postPart = post.id.split('_')[1] ?? post.id;
    return `${WEB}/${page?.username ?? post.pageId}/posts/${postPart}`;
  }
}
