/**
 * Whether an unconfirmed Meta post is live (issue 17), the same way for a Facebook Page and an
 * Instagram account: the account's own posts since just before the committing request (a Graph
 * edge listed newest first with `since`, cursor paging), matched by text and time. Meta keeps a
 * caption as it was sent (links are not shortened), so the texts are compared with their blanks
 * folded. Reads only.
 */
import { isJsonObject } from '../json.js';
import { NetworkError } from '../http.js';
import type { Failure, VerifyRequest, VerifyResult } from '../publisher.js';
import type { PublishStage } from './errors.js';
import { GraphResponseError, type GraphClient } from './graph-client.js';
import { arrayField, objectField, stringField, type JsonObject } from './graph-json.js';

/** How far before the committing request a post is looked for: the clocks of IQSP and Meta may differ. */
const CLOCK_SKEW_MS = 2 * 60_000;
/** Pages of 100 posts read at most. */
const MAX_PAGES = 5;

export interface RecentPosts {
  graph: GraphClient;
  map: (status: number, headers: Headers, body: unknown, stage: PublishStage) => Failure;
  /** 'Facebook' or 'Instagram', as people see it. */
  platform: string;
  /** The edge under the account: 'published_posts', 'media'. */
  edge: string;
  /** The fields of each post holding its text, its time and its link. */
  fields: { text: string; time: string; link: string };
  /** The link when the post has none (built from its id). */
  fallbackLink: (id: string) => string;
}

export async function verifyAmongRecent(recent: RecentPosts, request: VerifyRequest): Promise<VerifyResult> {
  const since = Math.floor((request.committedAt.getTime() - CLOCK_SKEW_MS) / 1000);
  const wanted = fold(request.text);
  const posts: JsonObject[] = [];
  let after: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const answer = await recent.graph.get(`${encodeURIComponent(request.account.platformAccountId)}/${recent.edge}`, {
        token: request.tokens.accessToken,
        params: {
          fields: `id,${recent.fields.text},${recent.fields.time},${recent.fields.link}`,
          since: String(since),
          limit: '100',
          after,
        },
        signal: request.signal,
      });
      posts.push(...arrayField(answer, 'data').filter(isJsonObject));
      const paging = objectField(answer, 'paging');
      after = stringField(paging, 'next') ? stringField(objectField(paging, 'cursors'), 'after') : undefined;
      if (!after) break;
    }
  } catch (error) {
    if (error instanceof GraphResponseError)
      return { kind: 'unknown', reason: recent.map(error.status, error.headers, error.body, 'prepare').message };
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `${recent.platform} could not be reached (${error.message})` };
    throw error;
  }
  const time = (post: JsonObject) => graphTime(stringField(post, recent.fields.time));
  const known = new Set(request.knownIds ?? []);
  const match = posts
    .filter(
      (p) => !known.has(stringField(p, 'id') ?? '') && time(p) >= since * 1000 && fold(stringField(p, recent.fields.text) ?? '') === wanted,
    )
    .sort((a, b) => time(a) - time(b))[0];
  const id = match ? stringField(match, 'id') : undefined;
  if (match && id)
    return { kind: 'live', platformPostId: id, permalink: absolute(stringField(match, recent.fields.link)) ?? recent.fallbackLink(id) };
  if (after) return { kind: 'unknown', reason: `${request.account.displayName} posted too much since then to read it all` };
  return {
    kind: 'absent',
    reason: `${recent.platform} shows no such post on ${request.account.handle ? `@${request.account.handle}` : request.account.displayName} since ${new Date(since * 1000).toISOString()}`,
  };
}

/** A Graph time ("2026-12-03T10:00:31+0000") in milliseconds; NaN when unreadable. */
function graphTime(value: string | undefined): number {
  return Date.parse((value ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function fold(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** Video nodes answer a path ("/page/videos/123/"); posts a full URL. */
function absolute(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.startsWith('/') ? `https://www.facebook.com${value}` : value;
}
