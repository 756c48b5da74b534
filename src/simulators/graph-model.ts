/**
 * The Graph simulator's model: the accounts a test configures (people, Pages, linked Instagram
 * accounts), the options, and the state every part of the simulator shares — grants, tokens,
 * posts, photos, videos, containers, published media — with the lookups that decide who may
 * see what. graph.ts (OAuth and routes), graph-nodes.ts (reading objects) and
 * graph-publishing.ts (Facebook and Instagram publishing) all work on one `GraphWorld`.
 */
import { NumericIds, randomToken } from './ids.js';
import { fetchMedia, type FetchedMedia } from './media-fetch.js';

export interface InstagramAccountSpec {
  id: string;
  username: string;
  /** What Instagram Login's /me says (default BUSINESS); a PERSONAL account cannot publish. */
  accountType?: 'BUSINESS' | 'MEDIA_CREATOR' | 'PERSONAL' | undefined;
  name?: string | undefined;
  profilePictureUrl?: string | undefined;
}

export interface PageSpec {
  id: string;
  name: string;
  username?: string | undefined;
  pictureUrl?: string | undefined;
  /** The user's tasks on the Page; without CREATE_CONTENT the Page token cannot post. */
  tasks?: readonly string[] | undefined;
  category?: string | undefined;
  /** The Instagram professional account linked to this Page. */
  instagram?: InstagramAccountSpec | undefined;
}

export interface MetaUserSpec {
  id: string;
  name: string;
  pictureUrl?: string | undefined;
  pages: readonly PageSpec[];
}

export interface GraphSimulatorOptions {
  appId: string;
  appSecret: string;
  /** The Instagram app of Instagram Login (INSTAGRAM_APP_ID, INSTAGRAM_APP_SECRET). */
  instagramAppId: string;
  instagramAppSecret: string;
  /** The version prefix every path is served under, e.g. 'v26.0'. */
  version: string;
  /** The people who can log in on the dialog; the first is the default. */
  users: readonly MetaUserSpec[];
  /** Valid OAuth Redirect URIs; when absent any absolute http(s) URI is accepted. */
  redirectUris?: readonly string[] | undefined;
  /** "Require App Secret" switched on: user and Page token calls must carry appsecret_proof. */
  requireAppSecretProof: boolean;
  /** Token lifetimes in seconds (short-lived ~1.5 h, long-lived ~60 days). */
  shortTokenLifetimeSec: number;
  longTokenLifetimeSec: number;
  /** Instagram containers answer IN_PROGRESS this many times before FINISHED. */
  containerPolls: { image: number; video: number; carousel: number };
  /** Facebook videos answer video_status "processing" this many times before "ready". */
  videoPolls: number;
  /** media_publish answers 9007 "media not ready" this many times even after FINISHED (a known quirk). */
  mediaNotReadyAnswers: number;
  /** Instagram's Content Publishing quota per account per 24 h. */
  instagramDailyLimit: number;
  /** Reels a Page may publish through the API per rolling 24 h (Meta: 30). */
  reelsDailyLimit: number;
  latencyMs: number;
}

export const DEFAULT_META_USERS: readonly MetaUserSpec[] = [
  {
    id: '10160000000000001',
    name: 'Ada Lovelace',
    pictureUrl: 'https://scontent.simulator.test/ada.jpg',
    pages: [
      {
        id: '100000000000001',
        name: 'Acme Inc',
        username: 'acmeinc',
        pictureUrl: 'https://scontent.simulator.test/acme.jpg',
        tasks: ['ANALYZE', 'ADVERTISE', 'MODERATE', 'CREATE_CONTENT', 'MANAGE'],
        category: 'Company',
        instagram: {
          id: '17841400000000001',
          username: 'acme',
          name: 'Acme Inc',
          profilePictureUrl: 'https://scontent.simulator.test/acme-ig.jpg',
        },
      },
      {
        id: '100000000000002',
        name: 'Acme Shop',
        pictureUrl: 'https://scontent.simulator.test/shop.jpg',
        tasks: ['CREATE_CONTENT', 'MODERATE'],
        category: 'Shopping & retail',
      },
    ],
  },
];

export function defaultGraphOptions(): GraphSimulatorOptions {
  return {
    appId: 'sim-meta-app',
    appSecret: 'sim-meta-app-secret',
    instagramAppId: 'sim-instagram-app',
    instagramAppSecret: 'sim-instagram-app-secret',
    version: 'v26.0',
    users: DEFAULT_META_USERS,
    requireAppSecretProof: true,
    shortTokenLifetimeSec: 5_400,
    longTokenLifetimeSec: 5_183_944,
    containerPolls: { image: 1, video: 2, carousel: 1 },
    videoPolls: 1,
    mediaNotReadyAnswers: 0,
    instagramDailyLimit: 100,
    reelsDailyLimit: 30,
    latencyMs: 0,
  };
}

/** A post that went live (or, for a Facebook video, was accepted and is processing). */
export interface GraphPublished {
  platform: 'facebook' | 'instagram';
  /** The Page id or the Instagram account id. */
  accountId: string;
  id: string;
  kind: 'text' | 'photo' | 'photos' | 'video' | 'image' | 'reel' | 'carousel';
  caption?: string | undefined;
  media: FetchedMedia[];
  permalink: string;
  at: Date;
}

/** Permissions Meta knows; a scope outside this list is an "Invalid Scopes" dialog error. */
export const KNOWN_PERMISSIONS = new Set([
  'public_profile',
  'email',
  'pages_show_list',
  'pages_read_engagement',
  'pages_manage_posts',
  'pages_manage_engagement',
  'pages_manage_metadata',
  'pages_read_user_content',
  'pages_read_user_engagement',
  'publish_video',
  'business_management',
  'read_insights',
  'instagram_basic',
  'instagram_content_publish',
  'instagram_manage_comments',
  'instagram_manage_insights',
  'ads_management',
  'ads_read',
]);

export const MIB = 1024 * 1024;
export const FACEBOOK_PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/bmp', 'image/tiff']);
export const VIDEO_TYPES = new Set(['video/mp4', 'video/quicktime']);
export const CODE_LIFETIME_MS = 10 * 60_000;
export const CONTAINER_LIFETIME_MS = 24 * 3600_000;
export const WEB = 'https://www.facebook.com';

/** One person's authorisation of the app. Revoking bumps `generation`, killing every earlier token. */
export interface Grant {
  userId: string;
  scopes: Set<string>;
  declined: Set<string>;
  pageIds: string[];
  generation: number;
  revoked: boolean;
  /** When the app's access to this person's data lapses (debug_token `data_access_expires_at`): 90 days from the latest login. */
  dataAccessExpiresAt?: number | undefined;
}

export interface TokenRecord {
  value: string;
  /** 'instagram': an Instagram Login token, valid on graph.instagram.com only, for the account `igId`. */
  kind: 'user' | 'page' | 'instagram';
  igId?: string | undefined;
  /** Instagram Login: a 60-day token (vs the 1-hour one of the code exchange), and when it was issued. */
  longLived?: boolean | undefined;
  issuedAt?: number | undefined;
  grant: Grant;
  generation: number;
  pageId?: string | undefined;
  expiresAt?: number | undefined;
  invalidatedSubcode?: number | undefined;
}

export interface CodeRecord {
  userId: string;
  redirectUri: string;
  expiresAt: number;
  used: boolean;
}

export interface ConsentParams {
  redirectUri: string;
  state?: string | undefined;
  scopes: string[];
}

export interface FeedPost {
  id: string;
  pageId: string;
  message?: string | undefined;
  link?: string | undefined;
  photoIds: string[];
  createdAt: Date;
  statusType: string;
}

export interface PhotoRecord {
  id: string;
  pageId: string;
  caption?: string | undefined;
  published: boolean;
  attachedTo?: string | undefined;
  postId?: string | undefined;
  media: FetchedMedia;
  createdAt: Date;
}

export interface VideoRecord {
  id: string;
  pageId: string;
  description?: string | undefined;
  title?: string | undefined;
  pollsLeft: number;
  /** Why processing failed (download or format); the status then says "error". */
  failure?: string | undefined;
  media?: FetchedMedia | undefined;
  createdAt: Date;
}

/** A Page reel through the Reels Publishing API: started, its bytes uploaded to rupload, finished. */
export interface ReelRecord {
  id: string;
  pageId: string;
  phase: 'started' | 'uploaded' | 'finished';
  media?: FetchedMedia | undefined;
  description?: string | undefined;
  /** Status reads left before the reel is published. */
  pollsLeft: number;
  /** Why processing failed; the status then shows the processing phase in error. */
  failure?: string | undefined;
  createdAt: Date;
  finishedAt?: Date | undefined;
}

export interface Container {
  id: string;
  igId: string;
  kind: 'image' | 'video' | 'carousel';
  mediaType?: string | undefined;
  isCarouselItem: boolean;
  caption?: string | undefined;
  media?: FetchedMedia | undefined;
  children: string[];
  pollsLeft: number;
  /** ERROR status: Instagram's subcode and text. */
  failure?: { subcode: number; text: string } | undefined;
  usedBy?: string | undefined;
  createdAt: number;
  publishedMediaId?: string | undefined;
}

export interface InstagramMedia {
  id: string;
  igId: string;
  caption?: string | undefined;
  mediaType: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM';
  productType: 'FEED' | 'REELS';
  shortcode: string;
  permalink: string;
  childIds: string[];
  createdAt: Date;
}

export type Caller = { kind: 'app' } | { kind: 'token'; token: TokenRecord };

/** One download the simulator made for a publish. */
export interface FetchedMediaLog {
  url: string;
  ok: boolean;
  bytes?: number | undefined;
  reason?: string | undefined;
}

export class GraphWorld {
  /** Every post that went live, in order. */
  readonly published: GraphPublished[] = [];
  /** Every media download the simulator made, successful or not. */
  readonly mediaFetches: FetchedMediaLog[] = [];
  readonly tokens = new Map<string, TokenRecord>();
  readonly grants = new Map<string, Grant>();
  /** Page tokens derived from a user token, so the same user token yields the same Page token. */
  readonly pageTokens = new Map<string, string>();
  readonly posts = new Map<string, FeedPost>();
  readonly photos = new Map<string, PhotoRecord>();
  readonly videos = new Map<string, VideoRecord>();
  readonly containers = new Map<string, Container>();
  readonly igMedia = new Map<string, InstagramMedia>();
  readonly reels = new Map<string, ReelRecord>();
  readonly objectIds = new NumericIds('122100000000000001');
  readonly igIds = new NumericIds('17900000000000001');
  /** media_publish answers "not ready" while this is above zero (options.mediaNotReadyAnswers). */
  notReadyLeft: number;

  constructor(
    readonly options: GraphSimulatorOptions,
    /** Aborted when the simulator closes, ending downloads in flight. */
    private readonly signal: AbortSignal,
  ) {
    this.notReadyLeft = options.mediaNotReadyAnswers;
  }

  findPage(id: string): PageSpec | undefined {
    for (const user of this.options.users) for (const page of user.pages) if (page.id === id) return page;
    return undefined;
  }

  findInstagram(id: string): { account: InstagramAccountSpec; page: PageSpec } | undefined {
    for (const user of this.options.users)
      for (const page of user.pages) if (page.instagram?.id === id) return { account: page.instagram, page };
    return undefined;
  }

  pageVisible(pageId: string, token: TokenRecord): boolean {
    // A Page token also stops reaching its Page when a later login leaves that Page unticked.
    return token.grant.pageIds.includes(pageId) && (token.kind === 'user' || token.pageId === pageId);
  }

  instagramVisible(igId: string, token: TokenRecord): boolean {
    // An Instagram Login token reaches its own account, and nothing else.
    if (token.kind === 'instagram') return token.igId === igId && this.findInstagram(igId) !== undefined;
    const ig = this.findInstagram(igId);
    return ig !== undefined && this.pageVisible(ig.page.id, token);
  }

  /** The Page token a user token yields for a Page (/me/accounts), the same one each time it is asked. */
  pageToken(userToken: TokenRecord, pageId: string): string {
    const key = `${userToken.value}:${pageId}`;
    const existing = this.pageTokens.get(key);
    if (existing) return existing;
    // From a long-lived user token a Page token does not expire; from a short-lived one it lasts an hour.
    const long = userToken.expiresAt !== undefined && userToken.expiresAt - Date.now() > this.options.shortTokenLifetimeSec * 1000;
    const token: TokenRecord = {
      value: randomToken('EAA', 64),
      kind: 'page',
      grant: userToken.grant,
      generation: userToken.generation,
      pageId,
      expiresAt: long ? undefined : Date.now() + 3600_000,
    };
    this.tokens.set(token.value, token);
    this.pageTokens.set(key, token.value);
    return token.value;
  }

  /** Downloads a publish's media from its URL, as Meta does; undefined when it cannot be fetched. */
  async download(url: string): Promise<FetchedMedia | undefined> {
    const result = await fetchMedia(url, this.signal);
    if (result.ok) {
      this.mediaFetches.push({ url, ok: true, bytes: result.media.bytes });
      return result.media;
    }
    this.mediaFetches.push({ url, ok: false, reason: result.reason });
    return undefined;
  }

  record(
    platform: GraphPublished['platform'],
    accountId: string,
    id: string,
    kind: GraphPublished['kind'],
    caption: string | undefined,
    media: FetchedMedia[],
    permalink: string,
  ): void {
    this.published.push({ platform, accountId, id, kind, caption, media, permalink, at: new Date() });
  }
}
