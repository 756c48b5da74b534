/**
 * Token refresh stays single-flight across instances. X's refresh tokens are single-use and
 * rotate: two refreshes with the same refresh token would break the chain (the simulator,
 * like X, then refuses the second, and here also revokes the whole grant). Two instances (two
 * pools on one PostgreSQL database, as two processes have) ask for valid tokens at the same
 * moment: one refreshes under the database lease, the other waits for it, re-reads, and uses
 * the new token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildCore, openServices } from '../../src/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { onPostgres, POSTGRES_ONLY } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.skipIf(!onPostgres)(`token refresh on two instances (${POSTGRES_ONLY})`, () => {
  it('refreshes once; both instances get the rotated tokens and the grant stays alive', async () => {
    h = await startHarness({ sims: { x: { revokeFamilyOnReuse: true } } });
    expect((await h.connect('x')).status).toBe(200);
    const [account] = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').execute();
    const accountId = account!.id;

    // A second instance: its own pool on the same database, its own token store.
    const other = await openServices(h.app.services.config, createLogger('silent'));
    try {
      const otherTokens = buildCore(other).tokens;
      const first = await h.app.core.tokens.load(accountId);
      // The stored access token is about to expire: both instances will want to refresh it.
      await h.app.core.tokens.save(accountId, { ...first, expiresAt: new Date(Date.now() + 60_000) });
      // Slow answers, so the second instance surely arrives while the first is refreshing.
      h.sims.x.latencyMs = 200;
      const refreshes = () =>
        h!.sims.x.requests.filter(
          (r) => r.path === '/2/oauth2/token' && r.body.kind === 'form' && r.body.fields.grant_type === 'refresh_token',
        );
      const before = refreshes().length;

      const [a, b] = await Promise.all([h.app.core.tokens.validTokens(accountId), otherTokens.validTokens(accountId)]);

      expect(refreshes().length - before).toBe(1);
      expect(refreshes().at(-1)!.status).toBe(200);
      expect(a.accessToken).not.toBe(first.accessToken);
      expect(b.accessToken).toBe(a.accessToken);
      expect(b.refreshToken).toBe(a.refreshToken);
      // The rotated refresh token still works: nobody spent the old one twice.
      h.sims.x.latencyMs = 0;
      const again = await otherTokens.refresh(accountId, a.accessToken);
      expect(again.accessToken).not.toBe(a.accessToken);
      const accountNow = await h.app.services.db
        .selectFrom('social_accounts')
        .select('status')
        .where('id', '=', accountId)
        .executeTakeFirstOrThrow();
      expect(accountNow.status).toBe('active');
    } finally {
      await other.db.destroy();
    }
  });
});
