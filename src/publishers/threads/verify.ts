/**
 * Whether an unconfirmed Threads post is live (issue 17; more-platforms.md §3.8). Reads only.
 *
 * 1. The container, when the attempt recorded it (`platformId`, given to `onPlatformRef` before
 *    each commit): `GET {container}?fields=status,error_message`. FINISHED, IN_PROGRESS, ERROR or
 *    EXPIRED: it was never published (absent). PUBLISHED: it is live, and its id and link are
 *    looked for in the account's threads (a container does not name the post it became).
 * 2. The account's threads since just before the committing request:
 *    `GET {api}/{user-id}/threads?fields=id,permalink,text,timestamp&since=…`, matched by text,
 *    never one IQSP already knows as another post (`knownIds`, the chain's live parts).
 *
 * The parts after the first of a `---` chain are replies, which Threads lists only to apps
 * holding `threads_read_replies` (IQSP does not ask for it): for them only the container can tell.
 */
import { threadParts } from '../../core/thread-parts.js';
import { NetworkError } from '../http.js';
import { arrayField, isJsonObject, objectField, stringField, type JsonObject } from '../json.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { threadsGet, ThreadsResponseError } from './api.js';
import { mapThreadsError } from './errors.js';
import type { ThreadsSettings } from './options.js';
import { profileUrl } from './publish.js';

/** How far before the committing request a post is looked for: the clocks of IQSP and Threads may differ. */
const CLOCK_SKEW_MS = 2 * 60_000;
/** Pages of 100 threads read at most. */
const MAX_PAGES = 5;

type Read<T> = { kind: 'ok'; value: T } | { kind: 'unknown'; reason: string };

export async function verifyOnThreads(settings: ThreadsSettings, request: VerifyRequest): Promise<VerifyResult> {
  const parts = threadParts(request.text);
  const live = request.liveParts ?? [];
  if (live.length >= Math.max(1, parts.length)) return { kind: 'unknown', reason: 'every part of this chain is already recorded live' };
  const isReply = live.length > 0;
  const text = parts[live.length] ?? '';

  let containerPublished = false;
  if (request.platformId) {
    const read = await readContainer(settings, request, request.platformId);
    if (read.kind === 'ok') {
      const status = stringField(read.value, 'status');
      if (status === 'FINISHED' || status === 'IN_PROGRESS')
        return { kind: 'absent', reason: 'Threads says the prepared post was never published' };
      if (status === 'ERROR' || status === 'EXPIRED')
        return {
          kind: 'absent',
          reason: `Threads says the prepared post was not published (${status}${stringField(read.value, 'error_message') ? `: ${stringField(read.value, 'error_message')}` : ''})`,
        };
      containerPublished = status === 'PUBLISHED';
    }
  }
  if (isReply)
    return {
      kind: 'unknown',
      reason: containerPublished
        ? `Threads says part ${live.length + 1} was published, but lists replies only to apps allowed to read them; look at the chain on Threads before retrying`
        : `Threads lists replies only to apps allowed to read them, so part ${live.length + 1} cannot be looked for`,
    };

  const since = Math.floor((request.committedAt.getTime() - CLOCK_SKEW_MS) / 1000);
  const listed = await recentThreads(settings, request, since);
  if (listed.kind === 'unknown') return listed;
  const known = new Set([...(request.knownIds ?? []), ...live]);
  const wanted = fold(text);
  const match = listed.value.posts
    .filter((p) => !known.has(stringField(p, 'id') ?? '') && time(p) >= since * 1000 && fold(stringField(p, 'text') ?? '') === wanted)
    .sort((a, b) => time(a) - time(b))[0];
  const id = match ? stringField(match, 'id') : undefined;
  if (match && id)
    return { kind: 'live', platformPostId: id, permalink: stringField(match, 'permalink') ?? profileUrl(request.account.handle) };
  if (containerPublished)
    return { kind: 'unknown', reason: 'Threads says the post was published, but does not list it yet; verify again in a minute' };
  if (listed.value.more)
    return { kind: 'unknown', reason: `@${request.account.handle ?? ''} posted too much since then on Threads to read it all` };
  return {
    kind: 'absent',
    reason: `Threads shows no such post of ${request.account.handle ? `@${request.account.handle}` : 'this account'} since ${new Date(since * 1000).toISOString()}`,
  };
}

async function readContainer(settings: ThreadsSettings, request: VerifyRequest, container: string): Promise<Read<JsonObject>> {
  return read(() =>
    threadsGet(`${settings.apiUrl}/${encodeURIComponent(container)}`, {
      params: { fields: 'status,error_message' },
      token: request.tokens.accessToken,
      signal: request.signal,
      timeoutMs: 30_000,
    }),
  );
}

async function recentThreads(
  settings: ThreadsSettings,
  request: VerifyRequest,
  since: number,
): Promise<Read<{ posts: JsonObject[]; more: boolean }>> {
  const posts: JsonObject[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await read(() =>
      threadsGet(`${settings.apiUrl}/${encodeURIComponent(request.account.platformAccountId)}/threads`, {
        params: { fields: 'id,permalink,text,timestamp', since: String(since), limit: '100', after },
        token: request.tokens.accessToken,
        signal: request.signal,
        timeoutMs: 30_000,
      }),
    );
    if (answer.kind === 'unknown') return answer;
    posts.push(...arrayField(answer.value, 'data').filter(isJsonObject));
    const paging = objectField(answer.value, 'paging');
    after = stringField(paging, 'next') ? stringField(objectField(paging, 'cursors'), 'after') : undefined;
    if (!after) return { kind: 'ok', value: { posts, more: false } };
  }
  return { kind: 'ok', value: { posts, more: true } };
}

async function read<T>(work: () => Promise<T>): Promise<Read<T>> {
  try {
    return { kind: 'ok', value: await work() };
  } catch (error) {
    if (error instanceof ThreadsResponseError) return { kind: 'unknown', reason: mapThreadsError(error.answer, 'prepare').message };
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `Threads could not be reached (${error.message})` };
    throw error;
  }
}

/** A Graph time ("2026-12-03T10:00:31+0000") in milliseconds; NaN when unreadable. */
function time(post: JsonObject): number {
  return Date.parse((stringField(post, 'timestamp') ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function fold(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}
