/**
 * Review 20: Meta's callbacks are `/oauth/facebook/data-deletion` and `/oauth/facebook/deauthorize`,
 * and nothing else under `/oauth/facebook/` is one. `readMetaNotice` looks the route's last part up
 * in a plain object literal (`NOTICES[name]`), so inherited names — `constructor`, `toString`,
 * `hasOwnProperty`, `__proto__` — are found too: an unsigned POST there is answered 400 "refused"
 * (as if it were a callback) instead of 404, and a validly signed one is taken as a data deletion
 * request (its kind is neither 'refused' nor 'deauthorize', so `PlatformNotices.receive` erases).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_META_USERS } from '../../src/simulators/graph-model.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const ADA = DEFAULT_META_USERS[0]!.id;
const APP_SECRET = 'sim-meta-app-secret';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(() => h?.close());

function signedRequest(payload: Record<string, unknown>): string {
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${createHmac('sha256', APP_SECRET).update(encoded).digest('base64url')}.${encoded}`;
}

function post(name: string, body: string): Promise<Response> {
  return fetch(`${h.base}/oauth/facebook/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

describe('names that are not Meta callbacks', () => {
  it('an inherited property name (constructor, toString, hasOwnProperty, __proto__) is 404 like any other', async () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) expect((await post(name, '')).status, name).toBe(404);
  });

  it('a validly signed request to /oauth/facebook/toString deletes nothing and gives no confirmation code', async () => {
    expect((await h.connect('facebook', 'U_ADA', { account: ADA })).status).toBe(200);
    const before = await h.app.services.db.selectFrom('social_accounts').select('id').where('platform_user_id', '=', ADA).execute();
    expect(before.length).toBeGreaterThan(0);

    const body = `signed_request=${encodeURIComponent(
      signedRequest({ algorithm: 'HMAC-SHA256', issued_at: Math.floor(Date.now() / 1000), user_id: ADA }),
    )}`;
    const answer = await post('toString', body);
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toContain('confirmation_code');
    const after = await h.app.services.db.selectFrom('social_accounts').select('id').where('platform_user_id', '=', ADA).execute();
    expect(after).toEqual(before);
    expect(await h.app.services.db.selectFrom('deletion_requests').selectAll().execute()).toEqual([]);
  });
});
