/**
 * Review 20: /privacy says "Removing IQSP in your Facebook settings ... deletes the accounts you
 * connected through that login and their tokens here at once", and removing the app is what
 * makes Meta call the deauthorize callback. That path deletes the rows but, unlike the data
 * deletion path, never calls `eraseResidue`: the sealed tokens (the Page tokens and the
 * long-lived Meta user token kept to revoke) stay readable in the SQLite write-ahead log until it
 * happens to be checkpointed and overwritten — next to the vault key on the same disk.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_META_USERS } from '../../src/simulators/graph-model.js';
import { everyRowAsText, onPostgres } from '../helpers/db.js';
import { rawStorageText, startHarness, type Harness } from '../helpers/harness.js';

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

describe('POST /oauth/facebook/deauthorize', () => {
  it('leaves nothing of the sealed tokens in the database files', async () => {
    expect((await h.connect('facebook', 'U_ADA', { account: ADA })).status).toBe(200);
    expect((await h.connect('instagram', 'U_ADA', { account: ADA })).status).toBe(200);
    const sealed = (await h.app.services.db.selectFrom('secrets').select('sealed').execute()).map((s) => s.sealed);
    expect(sealed.length).toBeGreaterThan(0);

    const answer = await fetch(`${h.base}/oauth/facebook/deauthorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `signed_request=${encodeURIComponent(
        signedRequest({ algorithm: 'HMAC-SHA256', issued_at: Math.floor(Date.now() / 1000), user_id: ADA }),
      )}`,
    });
    expect(answer.status).toBe(200);
    expect(await h.app.services.db.selectFrom('secrets').select('id').execute()).toEqual([]);

    // No checkpoint by the test: what the service left on disk is what an attacker with the disk reads.
    const raw = rawStorageText(h.dir) + (onPostgres ? await everyRowAsText(h.app.services.db) : '');
    for (const value of sealed) expect(raw.includes(value), 'a sealed token is still in the database files').toBe(false);
  });
});
