/**
 * Whether an unconfirmed Facebook post is live (issue 17): the Page's own posts since just before
 * the committing request (`GET /{page-id}/published_posts?fields=id,message,created_time,
 * permalink_url&since=`, with the Page token), matched by message and time. Facebook keeps a
 * message as it was sent (links are not shortened), so the texts are compared with their blanks
 * folded. A photo's or a video's post is the Page's post too. Reads only.
 */
import { NetworkError } from '../http.js';
import type { Failure, VerifyRequest, VerifyResult } from '../publisher.js';
import type { PublishStage } from '../meta/errors.js';
import { GraphResponseError, type GraphClient } from '../meta/graph-client.js';
import { arrayField, objectField, stringField, type JsonObject } from '../meta/graph-json.js';
import { isJsonObject } from '../json.js';

/** How far before the committing request a post is looked for: the clocks of IQSP and Meta may differ. */
const CLOCK_SKEW_MS = 2 * 60_000;
/** Pages of 100 posts read at most. */
const MAX_PAGES = 5;
const FACEBOOK_WEB = 'https://www.facebook.com';

export interface FacebookVerifyDeps {
  graph: GraphClient;
  map: (status: number, headers: Headers, body: unknown, stage: PublishStage) => Failure;
}

export async function verifyOnFacebook(deps: FacebookVerifyDeps, request: VerifyRequest): Promise<VerifyResult> {
  const since = Math.floor((request.committedAt.getTime() - CLOCK_SKEW_MS) / 1000);
  const wanted = fold(request.text);
  const posts: JsonObject[] = [];
  let after: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const answer = await deps.graph.get(`${encodeURIComponent(request.account.platformAccountId)}/published_posts`, {
        token: request.tokens.accessToken,
        params: { fields: 'id,message,created_time,permalink_url', since: String(since), limit: '100', after },
        signal: request.signal,
      });
      posts.push(...arrayField(answer, 'data').filter(isJsonObject));
      after = stringField(objectField(objectField(answer, 'paging'), 'cursors'), 'after');
      if (!stringField(objectField(answer, 'paging'), 'next')) after = undefined;
      if (!after) break;
    }
  } catch (error) {
    if (error instanceof GraphResponseError)
      return { kind: 'unknown', reason: deps.map(error.status, error.headers, error.body, 'prepare').message };
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `Facebook could not be reached (${error.message})` };
    throw error;
  }
  const match = posts
    .filter((p) => createdAt(p) >= since * 1000 && fold(stringField(p, 'message') ?? '') === wanted)
    .sort((a, b) => createdAt(a) - createdAt(b))[0];
  const id = match ? stringField(match, 'id') : undefined;
  if (match && id)
    return { kind: 'live', platformPostId: id, permalink: absolute(stringField(match, 'permalink_url')) ?? `${FACEBOOK_WEB}/${id}` };
  if (after) return { kind: 'unknown', reason: 'the Page posted too much since then to read it all' };
  return {
    kind: 'absent',
    reason: `Facebook shows no such post on ${request.account.displayName} since ${new Date(since * 1000).toISOString()}`,
  };
}

/** Graph's `created_time` ("2026-12-03T10:00:31+0000") in milliseconds; NaN when unreadable. */
function createdAt(post: JsonObject): number {
  return Date.parse((stringField(post, 'created_time') ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function fold(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

function absolute(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.startsWith('/') ? `${FACEBOOK_WEB}${value}` : value;
}
