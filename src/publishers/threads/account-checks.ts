/**
 * Checks before approval that need the account's current state at Threads (more-platforms.md
 * §3.6): `GET {api}/{user-id}/threads_publishing_limit` says how many of its 250 posts and 1,000
 * replies a rolling day allows are used. A post that would go over is refused now, naming the
 * numbers, rather than failing after approval. A read that fails refuses nothing.
 */
import { NetworkError } from '../http.js';
import { arrayField, isJsonObject, numberField, objectField } from '../json.js';
import type { AccountRef, PostDraft, TokenSet, ValidationProblem } from '../publisher.js';
import { threadParts } from '../../core/thread-parts.js';
import { threadsGet, ThreadsResponseError } from './api.js';
import type { ThreadsSettings } from './options.js';

export async function validateForThreadsAccount(
  settings: ThreadsSettings,
  draft: PostDraft,
  account: AccountRef,
  tokens: TokenSet,
): Promise<ValidationProblem[]> {
  let answer;
  try {
    answer = await threadsGet(`${settings.apiUrl}/${encodeURIComponent(account.platformAccountId)}/threads_publishing_limit`, {
      params: { fields: 'quota_usage,config,reply_quota_usage,reply_config' },
      token: tokens.accessToken,
      timeoutMs: 15_000,
    });
  } catch (error) {
    if (error instanceof ThreadsResponseError || error instanceof NetworkError) return [];
    throw error;
  }
  const limit = arrayField(answer, 'data').find(isJsonObject);
  const who = account.handle ? `@${account.handle}` : account.displayName;
  const problems: ValidationProblem[] = [];
  const posts = quota(numberField(limit, 'quota_usage'), numberField(objectField(limit, 'config'), 'quota_total'));
  if (posts && posts.used + 1 > posts.total)
    problems.push({
      code: 'daily_limit',
      message: `Threads allows ${posts.total} posts a day through its API; ${who} has published ${posts.used} in the last 24 hours.`,
    });
  const replies = threadParts(draft.caption).length - 1;
  const replyQuota = quota(numberField(limit, 'reply_quota_usage'), numberField(objectField(limit, 'reply_config'), 'quota_total'));
  if (replies > 0 && replyQuota && replyQuota.used + replies > replyQuota.total)
    problems.push({
      code: 'daily_reply_limit',
      message: `Threads allows ${replyQuota.total} replies a day through its API; ${who} has ${replyQuota.total - replyQuota.used} left and this chain needs ${replies}.`,
    });
  return problems;
}

function quota(used: number | undefined, total: number | undefined): { used: number; total: number } | undefined {
  return used !== undefined && total !== undefined ? { used, total } : undefined;
}
