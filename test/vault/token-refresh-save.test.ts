/**
 * Saving a freshly rotated token pair. The platform has already spent the old refresh token
 * when it answers, so the new pair is the only way back in: a save that fails must be tried
 * again, and if it cannot be done the account says plainly that it must be connected again.
 * A refresh whose lease ran out meanwhile (a stalled process) must not overwrite the pair the
 * next lease holder saved.
 */
import { randomBytes } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { TokenRefreshError, type Publisher, type TokenSet } from '../../src/publishers/publisher.js';
import { SecretStore } from '../../src/vault/secret-store.js';
import { AccountNeedsReconnectError, TokenStore, type TokenStoreOptions } from '../../src/vault/token-store.js';
import { Vault } from '../../src/vault/vault.js';
import { seedAccount, testDatabase, type TestDatabase } from '../helpers/db.js';

/** Fails the next `failures` writes to the `secrets` table, as a dropped connection would. */
class SecretWritesFail implements KyselyPlugin {
  constructor(public failures: number) {}

  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    const write = node.kind === 'UpdateQueryNode' || node.kind === 'InsertQueryNode';
    if (write && this.failures > 0 && JSON.stringify(node).includes('"secrets"')) {
      this.failures -= 1;
      throw new Error('Connection terminated unexpectedly');
    }
    return node;
  }

  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result;
  }
}

/**
 * A platform whose refresh tokens are single-use, like X: a refresh spends the live refresh
 * token and issues the next pair; a spent one is refused for good. `hold` keeps the answer
 * back (the request went through; the response is slow) until released.
 */
class RotatingPlatform {
  issued = 0;
  live = 'refresh-0';
  private held: Array<() => void> = [];
  hold = false;

  readonly publisher = {
    platform: 'x',
    displayName: 'X',
    canRefresh: true,
    refresh: (tokens: TokenSet) => this.refresh(tokens),
  } as Publisher;

  private async refresh(tokens: TokenSet): Promise<TokenSet> {
    if (tokens.refreshToken !== this.live)
      throw new TokenRefreshError('X refused the refresh token (invalid_grant); connect the account again', true);
    this.issued += 1;
    this.live = `refresh-${this.issued}`;
    const pair = { accessToken: `access-${this.issued}`, refreshToken: this.live, expiresAt: new Date(Date.now() + 7_200_000) };
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return pair;
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

let t: TestDatabase;
let vault: Vault;
let platform: RotatingPlatform;
let accountId: string;
beforeEach(async () => {
  t = await testDatabase();
  vault = new Vault(randomBytes(32));
  platform = new RotatingPlatform();
  ({ accountId } = await seedAccount(t.db, 'x'));
  // Stored tokens that expire within the refresh margin.
  await storeOn(t.db).save(accountId, { accessToken: 'access-0', refreshToken: 'refresh-0', expiresAt: new Date(Date.now() + 60_000) });
});
afterEach(async () => {
  await t.close();
});

function storeOn(db: Db, options: TokenStoreOptions = {}): TokenStore {
  return new TokenStore(db, new SecretStore(db, vault), () => platform.publisher, { saveRetryDelaysMs: [5, 5], ...options });
}

async function accountStatus(): Promise<{ status: string; status_reason: string | null }> {
  return t.db.selectFrom('social_accounts').select(['status', 'status_reason']).where('id', '=', accountId).executeTakeFirstOrThrow();
}

describe('saving a rotated token pair', () => {
  it('is tried again when it fails: the new pair is kept and the next refresh works', async () => {
    const fault = new SecretWritesFail(1);
    const tokens = storeOn(t.db.withPlugin(fault));
    const fresh = await tokens.validTokens(accountId);
    expect(fault.failures).toBe(0);
    expect(fresh).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(await storeOn(t.db).load(accountId)).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    // The chain goes on: the stored refresh token is the live one.
    expect(await storeOn(t.db).refresh(accountId, 'access-1')).toMatchObject({ accessToken: 'access-2' });
    expect((await accountStatus()).status).toBe('active');
  });

  it('that keeps failing marks the account to be connected again, saying why', async () => {
    const tokens = storeOn(t.db.withPlugin(new SecretWritesFail(Number.POSITIVE_INFINITY)));
    const failure = await tokens.validTokens(accountId).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AccountNeedsReconnectError);
    const reason = (failure as Error).message;
    expect(reason).toMatch(
      /^X gave IQSP new tokens, but they could not be stored \(Connection terminated unexpectedly\); connect the account again$/,
    );
    expect(await accountStatus()).toEqual({ status: 'needs_reconnect', status_reason: reason });
    // Nobody tries the spent refresh token again.
    await expect(storeOn(t.db).validTokens(accountId)).rejects.toThrow(reason);
    expect(platform.issued).toBe(1);
  });
});

describe('a refresh that lost its lease while waiting for the platform', () => {
  it('does not overwrite the pair the next holder saved, and answers with it', async () => {
    let now = Date.now();
    const clock = () => new Date(now);
    const stalled = storeOn(t.db, { now: clock, leaseMs: 1_000, refreshMarginMs: 5 * 60_000 });
    const next = storeOn(t.open(), { now: clock, leaseMs: 1_000, refreshMarginMs: 5 * 60_000 });

    // The first refresh reaches the platform, but its answer is slow...
    platform.hold = true;
    const first = stalled.refresh(accountId, 'access-0');
    await until(() => platform.issued === 1);
    // ...longer than its lease. The platform lets the refresh token be used again (as some
    // do for a grace period), so the next holder refreshes and saves a newer pair.
    now += 2_000;
    platform.hold = false;
    platform.live = 'refresh-0';
    const second = await next.refresh(accountId, 'access-0');
    expect(second).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });

    platform.release();
    const late = await first;
    expect(await storeOn(t.db).load(accountId)).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
    expect(late).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
  });

  it('still saves its pair when nobody saved another: the old refresh token is spent', async () => {
    let now = Date.now();
    const clock = () => new Date(now);
    const stalled = storeOn(t.db, { now: clock, leaseMs: 1_000 });
    platform.hold = true;
    const first = stalled.refresh(accountId, 'access-0');
    await until(() => platform.issued === 1);
    now += 2_000;
    platform.release();
    expect(await first).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(await storeOn(t.db).load(accountId)).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}
