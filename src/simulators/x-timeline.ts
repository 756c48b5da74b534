/**
 * `GET /2/users/:id/tweets` (an account's own posts, newest first) over what the X simulator
 * published, as X shows them: each link replaced by a t.co link, a t.co link to the media
 * appended, `&`, `<` and `>` escaped as HTML entities; `created_at`, `attachments`,
 * `referenced_tweets`, `in_reply_to_user_id` and `author_id` only when `tweet.fields` asks.
 * `start_time`/`end_time` (RFC 3339), `since_id`/`until_id`, `max_results` (5–100, default 10),
 * `pagination_token` and `exclude=replies,retweets` as X reads them.
 */
import { createHash } from 'node:crypto';
import twitterText from 'twitter-text';
import { json, type SimRequest, type SimResponse } from './server.js';
import type { XPublished } from './x.js';
import { invalidRequest } from './x-shapes.js';

const TWEET_FIELDS = new Set(
  'article attachments author_id card_uri community_id context_annotations conversation_id created_at display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang media_metadata non_public_metrics note_tweet organic_metrics possibly_sensitive promoted_metrics public_metrics referenced_tweets reply_settings scopes source text withheld'.split(
    ' ',
  ),
);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export function userTimeline(request: SimRequest, published: readonly XPublished[]): SimResponse {
  const userId = request.params[0] ?? '';
  const q = request.query;
  const problems: Array<Record<string, unknown>> = [];
  const fields = (q['tweet.fields'] ?? '').split(',').filter(Boolean);
  const unknownField = fields.find((f) => !TWEET_FIELDS.has(f));
  if (unknownField)
    problems.push({
      parameters: { 'tweet.fields': [unknownField] },
      message: `The \`tweet.fields\` query parameter value [${unknownField}] is not one of [${[...TWEET_FIELDS].join(',')}]`,
    });
  const max = q.max_results === undefined ? 10 : Number(q.max_results);
  if (!Number.isInteger(max) || max < 5 || max > 100)
    problems.push({
      parameters: { max_results: [q.max_results] },
      message: `The \`max_results\` query parameter value [${q.max_results}] is not between 5 and 100`,
    });
  for (const name of ['start_time', 'end_time'] as const) {
    const value = q[name];
    if (value !== undefined && !RFC3339.test(value))
      problems.push({ parameters: { [name]: [value] }, message: `Invalid '${name}':'${value}'. '${name}' must be a valid RFC 3339 date.` });
  }
  const excluded = (q.exclude ?? '').split(',').filter(Boolean);
  if (excluded.some((e) => e !== 'replies' && e !== 'retweets'))
    problems.push({ parameters: { exclude: excluded }, message: 'The `exclude` query parameter value is not one of [replies,retweets]' });
  if (problems.length > 0) return invalidRequest(problems);

  const start = q.start_time ? Date.parse(q.start_time) : -Infinity;
  const end = q.end_time ? Date.parse(q.end_time) : Infinity;
  const matching = published
    .filter((t) => t.accountId === userId && !t.deleted)
    .filter((t) => t.at.getTime() >= start && t.at.getTime() < end)
    .filter((t) => q.since_id === undefined || BigInt(t.id) > BigInt(q.since_id))
    .filter((t) => q.until_id === undefined || BigInt(t.id) < BigInt(q.until_id))
    .filter((t) => !(excluded.includes('replies') && t.inReplyToId !== undefined))
    .reverse();
  const offset = q.pagination_token ? Number.parseInt(Buffer.from(q.pagination_token, 'base64url').toString('utf8'), 10) || 0 : 0;
  const page = matching.slice(offset, offset + max);
  const meta: Record<string, unknown> = { result_count: page.length };
  if (page.length > 0) {
    meta.newest_id = page[0]!.id;
    meta.oldest_id = page.at(-1)!.id;
  }
  if (offset + max < matching.length) meta.next_token = Buffer.from(String(offset + max)).toString('base64url');
  if (offset > 0) meta.previous_token = Buffer.from(String(Math.max(0, offset - max))).toString('base64url');
  if (page.length === 0) return json(200, { meta });
  return json(200, { data: page.map((t) => shown(t, published, fields)), meta });
}

/** One post as X's API shows it, with the fields asked for. */
function shown(tweet: XPublished, published: readonly XPublished[], fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: tweet.id, text: shownText(tweet), edit_history_tweet_ids: [tweet.id] };
  if (fields.includes('created_at')) out.created_at = tweet.at.toISOString();
  if (fields.includes('author_id')) out.author_id = tweet.accountId;
  if (fields.includes('attachments') && tweet.media.length > 0) out.attachments = { media_keys: tweet.media.map((m) => `3_${m.id}`) };
  if (tweet.inReplyToId !== undefined) {
    if (fields.includes('referenced_tweets')) out.referenced_tweets = [{ type: 'replied_to', id: tweet.inReplyToId }];
    const to = published.find((t) => t.id === tweet.inReplyToId);
    if (fields.includes('in_reply_to_user_id') && to) out.in_reply_to_user_id = to.accountId;
  }
  return out;
}

/** The text as X shows it: links as t.co links, the media's link appended, HTML entities escaped. */
export function shownText(tweet: XPublished): string {
  const text = tweet.text ?? '';
  let out = '';
  let at = 0;
  for (const url of twitterText.extractUrlsWithIndices(text)) {
    const [from, to] = url.indices;
    out += escape(text.slice(at, from)) + tco(`${tweet.id}:${url.url}`);
    at = to;
  }
  out += escape(text.slice(at));
  if (tweet.media.length > 0) out = `${out}${out ? ' ' : ''}${tco(`${tweet.id}:media`)}`;
  return out;
}

function tco(seed: string): string {
  return `https://t.co/${createHash('sha256').update(seed).digest('base64url').replace(/[-_]/g, 'x').slice(0, 10)}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
