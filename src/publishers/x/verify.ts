/**
 * Whether an unconfirmed post is live on X (issue 17): the account's own posts since just before
 * the committing request (`GET /2/users/:id/tweets`), matched by text, attachments and, for a
 * thread's next part, the post it replies to. Reads only.
 *
 * X answers a post's text as it shows it: every link replaced by a t.co link, a t.co link to the
 * media appended, `&`, `<` and `>` escaped as HTML entities. Both texts are compared with every
 * link as one placeholder, the entities decoded and the trailing media link dropped.
 */
import { twitterText } from './twitter-text.js';
import { threadParts } from '../../core/thread-parts.js';
import { httpRequest, NetworkError } from '../http.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { mapXError } from './errors.js';
import { arrayField, field, isRecord, stringField, type JsonRecord } from './json.js';

/** How far before the committing request a post is looked for: the clocks of IQSP and X may differ. */
const CLOCK_SKEW_MS = 2 * 60_000;
/** Pages of 100 posts read at most: an account posting more than that since the commit is unusual. */
const MAX_PAGES = 5;
const LINK = '\u0001';

export async function verifyOnX(apiUrl: string, request: VerifyRequest): Promise<VerifyResult> {
  const parts = threadParts(request.text);
  const live = request.liveParts ?? [];
  if (live.length >= Math.max(1, parts.length)) return { kind: 'unknown', reason: 'every part of this thread is already recorded live' };
  const wanted = {
    text: parts[live.length] ?? '',
    // The media go on the first part.
    media: live.length === 0 ? request.mediaCount : 0,
    inReplyTo: live.at(-1),
  };
  const since = new Date(Math.floor((request.committedAt.getTime() - CLOCK_SKEW_MS) / 1000) * 1000);
  const found: JsonRecord[] = [];
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const read = await readPage(apiUrl, request, since, next);
    if (read.kind === 'unknown') return read;
    found.push(...read.posts);
    next = read.next;
    if (!next) break;
  }
  const known = new Set(request.knownIds ?? []);
  const matches = found
    .filter((post) => !known.has(stringField(post, 'id') ?? '') && matchesPost(post, wanted, since))
    .sort((a, b) => Date.parse(stringField(a, 'created_at') ?? '') - Date.parse(stringField(b, 'created_at') ?? ''));
  const match = matches[0];
  const id = match ? stringField(match, 'id') : undefined;
  if (id) return { kind: 'live', platformPostId: id, permalink: permalink(request.account.handle, id) };
  if (next) return { kind: 'unknown', reason: `@${request.account.handle ?? ''} posted too much since then on X to read it all` };
  return {
    kind: 'absent',
    reason: `X shows no such post of ${request.account.handle ? `@${request.account.handle}` : 'this account'} since ${since.toISOString()}`,
  };
}

type Page = { kind: 'page'; posts: JsonRecord[]; next: string | undefined } | { kind: 'unknown'; reason: string };

async function readPage(apiUrl: string, request: VerifyRequest, since: Date, next: string | undefined): Promise<Page> {
  const query = new URLSearchParams({
    start_time: since.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    max_results: '100',
    exclude: 'retweets',
    'tweet.fields': 'created_at,attachments,referenced_tweets',
  });
  if (next) query.set('pagination_token', next);
  try {
    const answer = await httpRequest(`${apiUrl}/2/users/${encodeURIComponent(request.account.platformAccountId)}/tweets?${query}`, {
      headers: { Authorization: `Bearer ${request.tokens.accessToken}` },
      signal: request.signal,
      timeoutMs: 30_000,
    });
    if (answer.status !== 200) return { kind: 'unknown', reason: mapXError(answer, 'upload').message };
    const posts = arrayField(answer.json, 'data').filter(isRecord);
    return { kind: 'page', posts, next: stringField(field(answer.json, 'meta'), 'next_token') };
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `X could not be reached (${error.message})` };
    throw error;
  }
}

function matchesPost(post: JsonRecord, wanted: { text: string; media: number; inReplyTo: string | undefined }, since: Date): boolean {
  const created = Date.parse(stringField(post, 'created_at') ?? '');
  if (!Number.isFinite(created) || created < since.getTime()) return false;
  const media = arrayField(field(post, 'attachments'), 'media_keys').length;
  if (media !== wanted.media) return false;
  const repliedTo = arrayField(post, 'referenced_tweets').find((r) => stringField(r, 'type') === 'replied_to');
  // A later part replies to the part before it; a post or a thread's first part replies to nothing.
  if (wanted.inReplyTo !== undefined ? stringField(repliedTo, 'id') !== wanted.inReplyTo : repliedTo !== undefined) return false;
  return sameText(wanted.text, stringField(post, 'text') ?? '', wanted.media > 0);
}

/** Whether X's text of a post is `sent`: links compared as links (X shortens them), the media link X appends ignored. */
export function sameText(sent: string, shown: string, hasMedia: boolean): boolean {
  const mine = normalize(withLinksMarked(sent));
  let theirs = normalize(decodeEntities(shown).replace(/https?:\/\/t\.co\/[A-Za-z0-9]+/g, LINK));
  if (hasMedia) theirs = theirs.replace(new RegExp(`\\s*${LINK}$`), '');
  return mine === theirs;
}

/** The links X would shorten, each replaced by the placeholder. */
function withLinksMarked(text: string): string {
  const urls = twitterText().extractUrlsWithIndices(text);
  let out = '';
  let at = 0;
  for (const url of urls) {
    const [start, end] = url.indices;
    out += text.slice(at, start) + LINK;
    at = end;
  }
  return out + text.slice(at);
}

function normalize(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function permalink(handle: string | undefined, id: string): string {
  return handle ? `https://x.com/${handle}/status/${id}` : `https://x.com/i/web/status/${id}`;
}
