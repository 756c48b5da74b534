/**
 * Issue 20: Meta's data deletion and deauthorize callbacks. A person who removes IQSP in their
 * Facebook settings makes Meta POST a `signed_request` (HMAC-SHA256 of the base64url payload with
 * the app secret). A valid one deletes exactly that person's Facebook and Instagram accounts and
 * their tokens — in every workspace, nothing else — answers Meta's documented JSON, and a status
 * page shows the state with nothing personal; deauthorize disconnects them. A bad signature, another
 * algorithm, an expired or a malformed request gets 400, and nothing changes.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_META_USERS } from '../../src/simulators/graph-model.js';
import { everyRowAsText, onPostgres } from '../helpers/db.js';
import { rawStorageText, startHarness, type Harness } from '../helpers/harness.js';

const ADA = DEFAULT_META_USERS[0]!.id;
const GRACE = '10160000000000002';
const APP_SECRET = 'sim-meta-app-secret';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    sims: {
      graph: {
        users: [
          ...DEFAULT_META_USERS,
          { id: GRACE, name: 'Grace Hopper', pages: [{ id: '100000000000009', name: 'Hopper Labs', tasks: ['CREATE_CONTENT', 'MANAGE'] }] },
        ],
      },
    },
  });
}, 60_000);
afterAll(() => h?.close());

/** Meta's signed_request: base64url(HMAC-SHA256(payload_b64, secret)) + '.' + payload_b64. */
function signedRequest(payload: Record<string, unknown>, secret = APP_SECRET): string {
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${createHmac('sha256', secret).update(encoded).digest('base64url')}.${encoded}`;
}

const now = () => Math.floor(Date.now() / 1000);
const valid = (userId: string) => ({ algorithm: 'HMAC-SHA256', issued_at: now(), user_id: userId });

function post(name: string, body: string): Promise<Response> {
  return fetch(`${h.base}/oauth/facebook/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

async function accounts(): Promise<Array<{ platform: string; platform_user_id: string | null; display_name: string | null }>> {
  return h.app.services.db
    .selectFrom('social_accounts')
    .select(['platform', 'platform_user_id', 'display_name'])
    .orderBy('platform')
    .orderBy('display_name')
    .execute();
}

/** Every account connected again: Ada's two Pages and her Instagram, Grace's Page, and an X account. */
async function connectEveryone(): Promise<void> {
  await h.app.services.db.deleteFrom('social_accounts').execute();
  expect((await h.connect('facebook', 'U_ADA', { account: ADA })).status).toBe(200);
  expect((await h.connect('instagram', 'U_ADA', { account: ADA })).status).toBe(200);
  expect((await h.connect('facebook', 'U_GRACE', { account: GRACE })).status).toBe(200);
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
}

describe('POST /oauth/facebook/data-deletion', () => {
  beforeEach(connectEveryone, 30_000);

  it('deletes exactly that person’s Facebook and Instagram accounts and tokens, answers the URL and code, and tells the connector', async () => {
    const adaIds = (await h.app.services.db.selectFrom('social_accounts').select('id').where('platform_user_id', '=', ADA).execute()).map(
      (a) => a.id,
    );
    expect(adaIds).toHaveLength(3);
    const adaTokens = await Promise.all(adaIds.map((id) => h.app.core.tokens.load(id)));
    const adaSealed = (await h.app.services.db.selectFrom('secrets').select('sealed').where('account_id', 'in', adaIds).execute()).map(
      (row) => row.sealed,
    );
    expect(adaSealed.length).toBeGreaterThan(0);
    const dmsBefore = h.chat.privateMessages.length;

    const answer = await post('data-deletion', `signed_request=${encodeURIComponent(signedRequest(valid(ADA)))}`);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { url: string; confirmation_code: string };
    expect(body.confirmation_code).toMatch(/^[0-9a-f]{24}$/);
    expect(body.url).toBe(`${h.base}/data-deletion/${body.confirmation_code}`);

    expect(await accounts()).toEqual([
      { platform: 'facebook', platform_user_id: GRACE, display_name: 'Hopper Labs' },
      { platform: 'x', platform_user_id: expect.any(String), display_name: expect.any(String) },
    ]);
    expect(await h.app.services.db.selectFrom('secrets').select('account_id').where('account_id', 'in', adaIds).execute()).toEqual([]);
    // Nothing of the tokens is left in the database files (SQLite: no checkpoint by the test, what the
    // service left on disk is what someone with the disk reads) or any row (PostgreSQL): neither the
    // sealed values nor, of course, the tokens.
    const raw = rawStorageText(h.dir) + (onPostgres ? await everyRowAsText(h.app.services.db) : '');
    for (const sealed of adaSealed) expect(raw.includes(sealed), 'a sealed token is still stored').toBe(false);
    for (const tokens of adaTokens) expect(raw).not.toContain(tokens.accessToken);
    // Meta already removed the app: nothing is revoked there.
    expect(h.sims.graph.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith('/permissions'))).toEqual([]);

    const told = h.chat.privateMessages.slice(dmsBefore).map((d) => d.message.text);
    expect(told).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^deleted: Facebook Acme Inc, at Facebook's request .*its tokens are deleted\./),
        expect.stringMatching(/^deleted: Facebook Acme Shop, at Facebook's request/),
        expect.stringMatching(/^deleted: Instagram @acme, at Facebook's request/),
      ]),
    );

    const status = await fetch(body.url);
    expect(status.status).toBe(200);
    const html = await status.text();
    expect(html).toContain(`Data deletion request ${body.confirmation_code}: done`);
    expect(html).toMatch(/Received from Facebook on \d{4}-\d\d-\d\dT/);
    expect(html).toMatch(/Done on \d{4}-\d\d-\d\dT/);
    for (const personal of [ADA, 'Ada', 'Acme', 'acme', 'U_ADA']) expect(html, personal).not.toContain(personal);

    const audit = await h.app.services.db.selectFrom('audit_log').selectAll().where('action', '=', 'platform.data_deletion').execute();
    expect(audit.map((a) => JSON.parse(a.detail) as unknown)).toEqual([
      { platform: 'facebook', confirmationCode: body.confirmation_code, accounts: 3 },
    ]);
    expect(JSON.stringify(audit)).not.toContain(ADA);
  });

  it('refuses a wrong signature, another algorithm, an expired or a malformed request with 400, and changes nothing', async () => {
    const before = await accounts();
    const requests: Array<[string, string]> = [
      ['no signed_request', ''],
      ['signed with another secret', `signed_request=${signedRequest(valid(ADA), 'not-the-app-secret')}`],
      ['another algorithm', `signed_request=${signedRequest({ ...valid(ADA), algorithm: 'HMAC-SHA1' })}`],
      ['issued two days ago', `signed_request=${signedRequest({ ...valid(ADA), issued_at: now() - 2 * 86_400 })}`],
      ['past its expiry', `signed_request=${signedRequest({ ...valid(ADA), expires: now() - 60 })}`],
      ['no user', `signed_request=${signedRequest({ algorithm: 'HMAC-SHA256', issued_at: now() })}`],
      ['one part', `signed_request=${Buffer.from(JSON.stringify(valid(ADA))).toString('base64url')}`],
      ['not base64url', 'signed_request=%%%.%%%'],
      [
        'a payload that is not JSON',
        `signed_request=${(() => {
          const encoded = Buffer.from('not json').toString('base64url');
          return `${createHmac('sha256', APP_SECRET).update(encoded).digest('base64url')}.${encoded}`;
        })()}`,
      ],
    ];
    for (const [what, body] of requests) {
      const answer = await post('data-deletion', body);
      expect(answer.status, what).toBe(400);
      expect(((await answer.json()) as { error: string }).error, what).toMatch(/^refused: .*; nothing was done$/);
    }
    expect(await accounts()).toEqual(before);
    expect(await h.app.services.db.selectFrom('deletion_requests').selectAll().where('status', '=', 'received').execute()).toEqual([]);
  });

  it('an unknown code, or another platform’s callback, is 404', async () => {
    expect((await fetch(`${h.base}/data-deletion/${'0'.repeat(24)}`)).status).toBe(404);
    expect((await fetch(`${h.base}/data-deletion/not-a-code`)).status).toBe(404);
    const other = await fetch(`${h.base}/oauth/x/data-deletion`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `signed_request=${signedRequest(valid(ADA))}`,
    });
    expect(other.status).toBe(404);
    expect((await post('something-else', `signed_request=${signedRequest(valid(ADA))}`)).status).toBe(404);
  });
});

describe('POST /oauth/facebook/deauthorize', () => {
  beforeEach(connectEveryone, 30_000);

  it('disconnects that person’s Facebook and Instagram accounts at once, tokens deleted, and tells the connector', async () => {
    const dmsBefore = h.chat.privateMessages.length;
    const answer = await post('deauthorize', `signed_request=${signedRequest(valid(ADA))}`);
    expect(answer.status).toBe(200);
    expect(await accounts()).toEqual([
      { platform: 'facebook', platform_user_id: GRACE, display_name: 'Hopper Labs' },
      { platform: 'x', platform_user_id: expect.any(String), display_name: expect.any(String) },
    ]);
    expect(h.chat.privateMessages.slice(dmsBefore).map((d) => d.message.text)).toContainEqual(
      expect.stringMatching(/^disconnected: Instagram @acme, at Facebook's request .*Connect it again to publish there\.$/),
    );
    expect((await h.run('U_ADA', 'accounts')).message.text).not.toContain('Acme Inc');
    const audit = await h.app.services.db.selectFrom('audit_log').selectAll().where('action', '=', 'platform.deauthorized').execute();
    expect(audit.map((a) => JSON.parse(a.detail) as unknown)).toContainEqual({ platform: 'facebook', accounts: 3 });
  });

  it('a bad signature is 400 and disconnects nothing', async () => {
    const before = await accounts();
    expect((await post('deauthorize', `signed_request=${signedRequest(valid(ADA), 'wrong')}`)).status).toBe(400);
    expect(await accounts()).toEqual(before);
  });
});
