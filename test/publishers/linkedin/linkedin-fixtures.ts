/** Shared pieces of the LinkedIn tests: the publisher under test, its accounts, test media and nock helpers. */
import nock from 'nock';
import type { MediaInfo } from '../../../src/media/media.js';
import { createLinkedinPublisher, type LinkedinPublisherOptions } from '../../../src/publishers/linkedin/index.js';
import type { AccountRef, Publisher, PublishRequest } from '../../../src/publishers/publisher.js';
import type { FileMediaAccess } from '../../helpers/file-media.js';
import { addImage, addVideoBytes } from '../../helpers/media.js';
import { publishRequest as sharedPublishRequest, type PublishLog } from '../../helpers/publish-request.js';

export const API = 'https://api.linkedin.com';
export const WWW = 'https://www.linkedin.com';
export const AUTHORIZE = `${WWW}/oauth/v2/authorization`;
export const TOKEN_URL = `${WWW}/oauth/v2/accessToken`;
export const CLIENT_ID = 'li-client-id';
export const CLIENT_SECRET = 'li-client-secret';
export const VERSION = '202607';
export const ACCESS = 'li-access-token';
export const SCOPES = 'openid profile w_member_social w_organization_social r_organization_social rw_organization_admin';
export const LINKEDIN_SCOPE_LIST = SCOPES.replaceAll(' ', ',');
export const SUB = 'yrZCpj2ZYQ';
export const PERSON = `urn:li:person:${SUB}`;
export const ORG = 'urn:li:organization:2414183';

export function linkedinPublisher(overrides: Partial<LinkedinPublisherOptions> = {}): Publisher {
  return createLinkedinPublisher({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    apiUrl: API,
    authorizeUrl: AUTHORIZE,
    tokenUrl: TOKEN_URL,
    apiVersion: VERSION,
    pollIntervalMs: 1,
    maxWaitMs: 5_000,
    ...overrides,
  });
}

export const MEMBER: AccountRef = { platformAccountId: PERSON, platformUserId: SUB, displayName: 'Ada Okafor' };
export const PAGE: AccountRef = { platformAccountId: ORG, platformUserId: SUB, handle: 'acme', displayName: 'Acme Inc' };

export function publishRequest(
  media: FileMediaAccess,
  caption: string,
  files: MediaInfo[],
  options: { account?: AccountRef; log?: PublishLog } & Partial<PublishRequest> = {},
): PublishRequest {
  const { account = MEMBER, log, ...extra } = options;
  const tokens = { accessToken: ACCESS, scopes: SCOPES };
  return { ...sharedPublishRequest({ account, tokens, draft: { caption, media: files }, media, log }), ...extra };
}

/** The headers of every versioned /rest/* call. */
export const REST_HEADERS = {
  authorization: `Bearer ${ACCESS}`,
  'linkedin-version': VERSION,
  'x-restli-protocol-version': '2.0.0',
};

export function rest(): nock.Scope {
  return nock(API, { reqheaders: REST_HEADERS });
}

export function pngFile(media: FileMediaAccess, workDir: string, id = 'img-1'): Promise<MediaInfo> {
  return addImage(
    { media, workDir },
    { id, format: 'png', width: 64, height: 48, background: { r: 200, g: 40, b: 90 }, originalName: `${id}.png` },
  );
}

export function jpegFile(media: FileMediaAccess, workDir: string, id = 'img-2'): Promise<MediaInfo> {
  return addImage(
    { media, workDir },
    { id, format: 'jpeg', extension: 'jpg', width: 80, height: 80, background: { r: 10, g: 120, b: 200 }, originalName: `${id}.jpg` },
  );
}

/** An MP4-looking file of `size` bytes (publishers trust MediaInfo, not the container). */
export function videoFile(media: FileMediaAccess, workDir: string, size = 150_000, id = 'vid-1'): Promise<MediaInfo> {
  const bytes = Buffer.alloc(size);
  Buffer.from('\0\0\0\x18ftypmp42', 'latin1').copy(bytes);
  for (let i = 12; i < size; i += 1) bytes[i] = (i * 31) % 251;
  return addVideoBytes({ media, workDir }, id, bytes, { width: 1280, height: 720, durationMs: 12_000, originalName: `${id}.mp4` });
}

/** Whether a body nock hands a matcher (UTF-8 text, or hex when not valid UTF-8) is exactly `expected`. */
export function sameBytes(body: unknown, expected: Buffer): boolean {
  if (typeof body !== 'string') return Buffer.isBuffer(body) && body.equals(expected);
  return body === expected.toString('hex') || Buffer.from(body, 'utf8').equals(expected);
}

/** The documented post body around `commentary` and `content`. */
export function postBody(author: string, commentary: string, content?: nock.DataMatcherMap): nock.DataMatcherMap {
  return {
    author,
    commentary,
    visibility: 'PUBLIC',
    distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
    ...(content ? { content } : {}),
    lifecycleState: 'PUBLISHED',
    isReshareDisabledByAuthor: false,
  };
}

export const SHARE = 'urn:li:share:7300000000000000001';
export const PERMALINK = `https://www.linkedin.com/feed/update/${SHARE}/`;

/** POST /rest/posts with exactly `body`, answered 201 with the URN in x-restli-id (or `reply`). */
export function arrangePost(body: nock.DataMatcherMap, reply?: { status: number; body?: unknown; headers?: Record<string, string> }): void {
  const interceptor = rest().post('/rest/posts', body).matchHeader('content-type', 'application/json');
  if (reply) interceptor.reply(reply.status, reply.body as nock.Body, reply.headers);
  else interceptor.reply(201, '', { 'x-restli-id': SHARE, 'x-li-uuid': 'uuid-1' });
}
