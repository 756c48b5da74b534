/**
 * LinkedIn's Posts API as the simulator keeps it (more-platforms.md §1.5, §1.9): POST
 * /rest/posts checks every documented field, the author's right to post, the commentary as
 * little text (3,000 characters, reserved characters escaped), and the attached media (ready,
 * owned by the author, 1 video or 1–20 images); it answers 201 with an empty body and the URN in
 * `x-restli-id`. The author finder serves a Page's posts to `verify`.
 */
import type { LinkedinMedia } from './linkedin-media.js';
import { accessDenied, apiError, asRecord, inputError, liHeaders, littleTextPlain, objectBody } from './linkedin-shapes.js';
import { header, json, type SimRequest, type SimResponse } from './server.js';

export const MAX_COMMENTARY = 3_000;

export interface LinkedinPublished {
  urn: string;
  author: string;
  authorName: string;
  /** As sent, escaped. */
  commentary: string;
  /** As LinkedIn shows it. */
  text: string;
  visibility: string;
  content?: Record<string, unknown> | undefined;
  media: Array<{ urn: string; kind: 'image' | 'video'; bytes: number; sha256?: string | undefined; partSha256?: string[] | undefined }>;
  permalink: string;
  at: Date;
}

export interface PostingCaller {
  /** The member's person URN. */
  person: string;
  /** May this caller post as `author` (scope and Page role)? */
  mayPostAs(author: string): boolean;
  /** May it read `author`'s posts (r_organization_social and a role on the Page)? */
  mayReadAs(author: string): boolean;
}

export class LinkedinPosts {
  readonly published: LinkedinPublished[] = [];
  private readonly daily = new Map<string, { day: string; count: number }>();
  private nextId = 7_300_000_000_000_000_000n;

  constructor(
    private readonly media: LinkedinMedia,
    private readonly rules: { dailyPostCap: number; nameOf(author: string): string },
  ) {}

  create(request: SimRequest, caller: PostingCaller): SimResponse {
    const body = objectBody(request);
    if (!body) return apiError(400, 'BAD_REQUEST', 'The body must be a JSON object.');
    const author = body.author;
    if (typeof author !== 'string' || !/^urn:li:(person|organization):[^:]+$/.test(author))
      return inputError(422, '/author', 'INVALID_URN_TYPE', 'author must be a person or organization URN');
    if (!caller.mayPostAs(author)) return accessDenied(`partnerApiPostsExternal.CREATE (author ${author})`);
    const problem = fieldProblem(body, author);
    if (problem) return problem;
    const commentary = typeof body.commentary === 'string' ? body.commentary : '';
    const text = littleTextPlain(commentary);
    if (text === undefined)
      return inputError(
        422,
        '/commentary',
        'INVALID_VALUE',
        'commentary has an unescaped reserved character; escape \\ | { } @ [ ] ( ) < > # * _ ~',
      );
    if (text.length > MAX_COMMENTARY)
      return inputError(
        400,
        '/commentary',
        'FIELD_LENGTH_TOO_LONG',
        `Length of commentary ${text.length} exceeds the maximum of ${MAX_COMMENTARY}`,
      );
    const content = asRecord(body.content);
    const attached = this.attachments(content, author);
    if ('status' in attached) return attached;
    if (text.trim() === '' && attached.length === 0)
      return inputError(422, '/commentary', 'INVALID_VALUE_BLANK_FIELD', 'commentary must not be blank on a post without content');

    // Daily quotas reset at 00:00 UTC and come without rate-limit headers (§1.7).
    const day = new Date().toISOString().slice(0, 10);
    const quota = this.daily.get(caller.person);
    const count = quota?.day === day ? quota.count : 0;
    if (count >= this.rules.dailyPostCap)
      return apiError(429, undefined, 'Resource level throttle APPLICATION DAY limit for calls to this resource is reached.');
    this.daily.set(caller.person, { day, count: count + 1 });

    this.nextId += 1n;
    const urn = `urn:li:share:${this.nextId}`;
    this.published.push({
      urn,
      author,
      authorName: this.rules.nameOf(author),
      commentary,
      text,
      visibility: String(body.visibility),
      content,
      media: attached,
      permalink: `https://www.linkedin.com/feed/update/${urn}/`,
      at: new Date(),
    });
    return { status: 201, headers: liHeaders({ 'x-restli-id': urn, location: `/rest/posts/${encodeURIComponent(urn)}` }), body: '' };
  }

  /** GET /rest/posts?author=…&q=author: a Page's posts, last changed first (members' are closed to apps). */
  findByAuthor(request: SimRequest, caller: PostingCaller): SimResponse {
    if (header(request, 'x-restli-method')?.toUpperCase() !== 'FINDER')
      return apiError(400, 'BAD_REQUEST', 'A finder request needs the header X-RestLi-Method: FINDER.');
    if (request.query.q !== 'author') return apiError(400, 'BAD_REQUEST', `Unknown finder ${request.query.q ?? '(none)'}.`);
    const author = request.query.author ?? '';
    if (!/^urn:li:(person|organization):[^:]+$/.test(author)) return inputError(400, '/author', 'INVALID_URN_TYPE', 'author must be a URN');
    if (!caller.mayReadAs(author)) return accessDenied(`partnerApiPostsExternal.FINDER-author (${author})`);
    const start = Number(request.query.start ?? '0');
    const count = Math.min(Number(request.query.count ?? '10'), 100);
    const mine = this.published.filter((p) => p.author === author).reverse();
    const page = mine.slice(start, start + count);
    return json(
      200,
      {
        paging: { start, count, links: [], total: mine.length },
        elements: page.map((p) => ({
          id: p.urn,
          author: p.author,
          commentary: p.commentary,
          visibility: p.visibility,
          lifecycleState: 'PUBLISHED',
          distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
          ...(p.content ? { content: p.content } : {}),
          createdAt: p.at.getTime(),
          publishedAt: p.at.getTime(),
          lastModifiedAt: p.at.getTime(),
          isReshareDisabledByAuthor: false,
        })),
      },
      liHeaders(),
    );
  }

  /** The media a post attaches, ready and owned by its author; an error answer otherwise. */
  private attachments(content: Record<string, unknown> | undefined, author: string): LinkedinPublished['media'] | SimResponse {
    if (!content) return [];
    const single = asRecord(content.media);
    const multi = asRecord(content.multiImage);
    if (single && multi) return inputError(422, '/content', 'INVALID_VALUE', 'content takes one of media or multiImage');
    if (single) {
      const id = typeof single.id === 'string' ? single.id : '';
      const item = this.ready(id, author, '/content/media/id');
      return 'status' in item ? item : [item];
    }
    if (multi) {
      const images = Array.isArray(multi.images) ? multi.images : [];
      if (images.length < 2 || images.length > 20)
        return inputError(422, '/content/multiImage/images', 'INVALID_VALUE', 'multiImage takes 2 to 20 images');
      const items: LinkedinPublished['media'] = [];
      for (const [index, image] of images.entries()) {
        const id = asRecord(image)?.id;
        const item = this.ready(typeof id === 'string' ? id : '', author, `/content/multiImage/images/${index}/id`);
        if ('status' in item) return item;
        if (item.kind !== 'image')
          return inputError(422, `/content/multiImage/images/${index}/id`, 'INVALID_URN_TYPE', 'multiImage takes images only');
        items.push(item);
      }
      return items;
    }
    return inputError(422, '/content', 'INVALID_VALUE', 'content must have media or multiImage');
  }

  private ready(id: string, author: string, path: string): LinkedinPublished['media'][number] | SimResponse {
    const image = this.media.images.get(id);
    if (image) {
      if (image.owner !== author) return inputError(422, path, 'INVALID_VALUE', `${id} belongs to another owner`);
      if (image.status === 'WAITING_UPLOAD' || image.status === 'PROCESSING_FAILED')
        return inputError(422, path, 'INVALID_VALUE', `${id} is ${image.status}`);
      image.status = 'AVAILABLE';
      return { urn: id, kind: 'image', bytes: image.bytes, sha256: image.sha256 };
    }
    const video = this.media.videos.get(id);
    if (video) {
      if (video.owner !== author) return inputError(422, path, 'INVALID_VALUE', `${id} belongs to another owner`);
      // Posting before processing ends fails (§1.5 step 4).
      if (video.status !== 'AVAILABLE') return inputError(422, path, 'INVALID_VALUE', `${id} is ${video.status}, not AVAILABLE`);
      return { urn: id, kind: 'video', bytes: video.fileSizeBytes, partSha256: video.parts.map((p) => p.sha256 ?? '') };
    }
    return inputError(422, path, 'INVALID_URN_TYPE', `${id || '(none)'} is not an image or video URN known here`);
  }
}

/** The documented fields every post must carry. */
function fieldProblem(body: Record<string, unknown>, author: string): SimResponse | undefined {
  if (typeof body.commentary !== 'string') return inputError(422, '/commentary', 'MISSING_FIELD', 'commentary is required');
  const visibility = body.visibility;
  if (visibility !== 'PUBLIC' && visibility !== 'CONNECTIONS' && visibility !== 'LOGGED_IN')
    return inputError(422, '/visibility', 'INVALID_VALUE', 'visibility must be PUBLIC, CONNECTIONS or LOGGED_IN');
  if (visibility === 'CONNECTIONS' && !author.startsWith('urn:li:person:'))
    return inputError(422, '/visibility', 'INVALID_VALUE', 'CONNECTIONS visibility is for members only');
  const distribution = asRecord(body.distribution);
  if (!distribution || (distribution.feedDistribution !== 'MAIN_FEED' && distribution.feedDistribution !== 'NONE'))
    return inputError(422, '/distribution/feedDistribution', 'MISSING_FIELD', 'distribution.feedDistribution is required');
  if (!Array.isArray(distribution.targetEntities) || !Array.isArray(distribution.thirdPartyDistributionChannels))
    return inputError(422, '/distribution', 'MISSING_FIELD', 'distribution.targetEntities and thirdPartyDistributionChannels are required');
  if (body.lifecycleState !== 'PUBLISHED') return inputError(422, '/lifecycleState', 'INVALID_VALUE', 'lifecycleState must be PUBLISHED');
  if (typeof body.isReshareDisabledByAuthor !== 'boolean')
    return inputError(422, '/isReshareDisabledByAuthor', 'MISSING_FIELD', 'isReshareDisabledByAuthor is required');
  return undefined;
}
