/**
 * Review 18: Instagram Login's token renewal treats every refusal that is not a 5xx, a 429 or
 * `is_transient: true` as permanent ("connect the account again"), so the token store marks the
 * account needs_reconnect and every post to it waits for a person. Meta reports throttling as
 * HTTP 400/403 with codes 4, 17, 32 or 613 (the codebase's own publishing mapping and Graph
 * simulator use code 32 without `is_transient`), and Threads' renewal of the same kind of token
 * keeps the token and tries again. A rate-limited renewal of a token that still works for weeks
 * must not disconnect the account.
 */
import { describe, expect, it } from 'vitest';
import { createInstagramPublisher } from '../../src/publishers/instagram/index.js';
import { TokenRefreshError } from '../../src/publishers/publisher.js';
import { useNock } from '../helpers/nock.js';
import { IG_LOGIN_OPTIONS, IG_LOGIN_TOKENS, IG_TOKEN, igApi } from '../publishers/instagram/instagram-login.contract.js';

useNock();
const igOnly = createInstagramPublisher(undefined, IG_LOGIN_OPTIONS);
const DAY = 86_400_000;
// Renewal is due (8 days before the end), the token itself still works for a week.
const TOKENS = { ...IG_LOGIN_TOKENS, expiresAt: new Date(Date.now() - 60_000), refreshExpiresAt: new Date(Date.now() + 7 * DAY) };

describe('Review 18: Instagram Login renewal refused for a rate limit', () => {
  for (const [status, code, message] of [
    [400, 4, '(#4) Application request limit reached'],
    [400, 17, '(#17) User request limit reached'],
    [403, 32, '(#32) Page request limit reached'],
    [400, 613, '(#613) Calls to this api have exceeded the rate limit.'],
  ] as const)
    it(`HTTP ${status} code ${code} is not a permanent refusal (the account stays connected)`, async () => {
      igApi()
        .get('/refresh_access_token')
        .query({ grant_type: 'ig_refresh_token', access_token: IG_TOKEN })
        .reply(status, { error: { message, type: 'OAuthException', code } });
      const outcome = await igOnly.refresh(TOKENS).catch((e: unknown) => e);
      if (outcome instanceof TokenRefreshError) expect(outcome.permanent).toBe(false);
      else expect(outcome).toMatchObject({ accessToken: IG_TOKEN });
    });
});
