/**
 * The tokens of connected accounts: sealed at rest, refreshed before they expire, and refreshed
 * by one caller at a time. X and TikTok refresh tokens are single-use and rotate, so two
 * concurrent refreshes would break the chain (platform-apis.md §5.3). Single flight is
 * two-layered, as in Nango: an in-process promise map, then a database lease (for other
 * processes), then a re-read of the stored tokens before refreshing.
 */
import { redactText } from '../observability/redact.js';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import { Leases } from '../db/leases.js';
import type { Platform } from '../core/ports/platforms.js';
import type { SecretStore } from './secret-store.js';
import { TokenRefreshError, type TokenRefresher, type TokenSet } from './tokens.js';

const ACCESS = 'access_token';
const REFRESH = 'refresh_token';
const EXTRA_PREFIX = 'extra:';

export class AccountNeedsReconnectError extends Error {
  constructor(
    readonly accountId: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'AccountNeedsReconnectError';
  }
}

export interface TokenStoreOptions {
  /** Refresh when the access token expires within this many ms (default 5 minutes). */
  refreshMarginMs?: number;
  /** How long a refresh lease is held at most before others may take it (default 60 s). */
  leaseMs?: number;
  /** How often a waiting process checks whether the lease was released (default 100 ms). */
  pollMs?: number;
  /** Pauses before each new try of a failed save of a rotated pair (default 250 ms, 1 s, 4 s). */
  saveRetryDelaysMs?: readonly number[];
  now?: () => Date;
  /** Told the outcome of each refresh request sent to a platform (metrics): refreshed, rejected for good, or failed for now. */
  onRefresh?: (platform: Platform, outcome: 'refreshed' | 'rejected' | 'failed') => void;
  /** Told when an account is marked as needing reconnecting (webhooks, issue 17); a failure here is logged by the caller's hook, never thrown. */
  onNeedsReconnect?: (accountId: string, reason: string) => Promise<void>;
}

/** What saving a refreshed pair under the refresh lease did. */
type RefreshSave = { kind: 'saved' } | { kind: 'superseded'; current: TokenSet };

export class TokenStore {
  private readonly inflight = new Map<string, Promise<TokenSet>>();
  private readonly owner = randomUUID();
  private readonly refreshMarginMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly saveRetryDelaysMs: readonly number[];
  private readonly now: () => Date;
  private readonly onRefresh: TokenStoreOptions['onRefresh'];
  private readonly onNeedsReconnect: TokenStoreOptions['onNeedsReconnect'];
  private readonly leases: Leases;

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretStore,
    /** How each platform renews tokens (a publisher fits); the store never sees the rest of it. */
    private readonly refresherFor: (platform: Platform) => TokenRefresher,
    options: TokenStoreOptions = {},
  ) {
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    // Longer than a refresh request may take (60 s timeout) plus saving: a lease that ran out
    // mid-refresh would let another instance spend the same single-use refresh token.
    this.leaseMs = options.leaseMs ?? 180_000;
    this.pollMs = options.pollMs ?? 100;
    this.saveRetryDelaysMs = options.saveRetryDelaysMs ?? [250, 1_000, 4_000];
    this.now = options.now ?? (() => new Date());
    this.onRefresh = options.onRefresh;
    this.onNeedsReconnect = options.onNeedsReconnect;
    this.leases = new Leases(db, this.now);
  }

  /**
   * An account connected again: its new token set replaces the whole stored one, so nothing of an
   * earlier connection stays (a refresh token, a named extra the new way of connecting has not).
   */
  async replace(accountId: string, tokens: TokenSet, trx: Db = this.db): Promise<void> {
    await this.secrets.deleteAll({ accountId }, trx);
    await this.save(accountId, tokens, trx);
  }

  /**
   * Stores a token set (after connect or refresh), in `trx` when given. A missing or empty
   * refresh token never replaces a stored one.
   */
  async save(accountId: string, tokens: TokenSet, trx: Db = this.db): Promise<void> {
    const owner = { accountId };
    await this.secrets.put(owner, ACCESS, tokens.accessToken, tokens.expiresAt?.toISOString() ?? null, trx);
    if (tokens.refreshToken)
      await this.secrets.put(owner, REFRESH, tokens.refreshToken, tokens.refreshExpiresAt?.toISOString() ?? null, trx);
    for (const [name, value] of Object.entries(tokens.extra ?? {}))
      if (value) await this.secrets.put(owner, EXTRA_PREFIX + name, value, null, trx);
    const accountUpdate: { updated_at: string; scopes?: string } = { updated_at: isoNow(this.now()) };
    if (tokens.scopes !== undefined) accountUpdate.scopes = tokens.scopes;
    await trx.updateTable('social_accounts').set(accountUpdate).where('id', '=', accountId).execute();
  }

  /** The stored token set, as it is (possibly expired). */
  async load(accountId: string, trx: Db = this.db): Promise<TokenSet> {
    const rows = await trx.selectFrom('secrets').select(['name']).where('account_id', '=', accountId).execute();
    const owner = { accountId };
    const access = await this.secrets.get(owner, ACCESS, trx);
    if (!access) throw new AccountNeedsReconnectError(accountId, 'no access token is stored for this account; connect it again');
    const refresh = await this.secrets.get(owner, REFRESH, trx);
    const extra: Record<string, string> = {};
    for (const { name } of rows)
      if (name.startsWith(EXTRA_PREFIX)) {
        const secret = await this.secrets.get(owner, name, trx);
        if (secret) extra[name.slice(EXTRA_PREFIX.length)] = secret.value;
      }
    const account = await trx.selectFrom('social_accounts').select('scopes').where('id', '=', accountId).executeTakeFirst();
    return {
      accessToken: access.value,
      refreshToken: refresh?.value,
      expiresAt: access.expiresAt ? new Date(access.expiresAt) : undefined,
      refreshExpiresAt: refresh?.expiresAt ? new Date(refresh.expiresAt) : undefined,
      scopes: account?.scopes ?? undefined,
      extra: Object.keys(extra).length > 0 ? extra : undefined,
    };
  }

  /** Tokens that are valid now: refreshed first when they expire within the margin. */
  async validTokens(accountId: string): Promise<TokenSet> {
    const tokens = await this.load(accountId);
    if (!this.expiresSoon(tokens)) return tokens;
    return this.refresh(accountId, tokens.accessToken);
  }

  /**
   * Refreshes now (the platform said the token expired). `rejectedAccessToken` is the token
   * that failed: if another caller already replaced it, the stored one is returned instead.
   */
  refresh(accountId: string, rejectedAccessToken?: string): Promise<TokenSet> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const flight = this.refreshUnderLease(accountId, rejectedAccessToken).finally(() => this.inflight.delete(accountId));
    this.inflight.set(accountId, flight);
    return flight;
  }

  private expiresSoon(tokens: TokenSet): boolean {
    return tokens.expiresAt !== undefined && tokens.expiresAt.getTime() - this.now().getTime() <= this.refreshMarginMs;
  }

  private async refreshUnderLease(accountId: string, rejectedAccessToken: string | undefined): Promise<TokenSet> {
    const account = await this.db
      .selectFrom('social_accounts')
      .select(['platform', 'status', 'status_reason'])
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (!account) throw new AccountNeedsReconnectError(accountId, 'the account is no longer connected');
    if (account.status === 'needs_reconnect')
      throw new AccountNeedsReconnectError(accountId, account.status_reason ?? 'the account must be connected again');
    const refresher = this.refresherFor(account.platform);

    const lease = `token-refresh:${accountId}`;
    await this.acquireLease(lease);
    try {
      // Re-read: another process may have refreshed while we waited for the lease.
      const current = await this.load(accountId);
      const replaced = rejectedAccessToken !== undefined && current.accessToken !== rejectedAccessToken;
      if (replaced && !this.expiresSoon(current)) return current;
      if (!refresher.canRefresh || !current.refreshToken) {
        const reason = `${refresher.displayName} access has expired; connect the account again`;
        await this.markNeedsReconnect(accountId, reason);
        throw new AccountNeedsReconnectError(accountId, reason);
      }
      let fresh: TokenSet;
      try {
        fresh = await refresher.refresh(current);
        this.onRefresh?.(account.platform, 'refreshed');
      } catch (error) {
        this.onRefresh?.(account.platform, error instanceof TokenRefreshError && error.permanent ? 'rejected' : 'failed');
        if (error instanceof TokenRefreshError && error.permanent) {
          // Connected again while this refresh was refused: the new tokens stand (review finding).
          const stored = await this.load(accountId).catch(() => undefined);
          if (stored && (stored.accessToken !== current.accessToken || stored.refreshToken !== current.refreshToken)) return stored;
          await this.markNeedsReconnect(accountId, error.message);
          throw new AccountNeedsReconnectError(accountId, error.message);
        }
        throw error;
      }
      const saved = await this.saveRefreshed(accountId, lease, current, fresh, refresher.displayName);
      return saved.kind === 'superseded' ? saved.current : await this.load(accountId);
    } finally {
      await this.releaseLease(lease);
    }
  }

  /**
   * Persists a refreshed pair before anyone uses it: the platform has spent the old refresh
   * token, so this pair is the only way back in. A failed save (a dropped connection, a busy
   * database) is tried again; when it still fails, the account is marked to be connected
   * again with that reason, rather than left holding a spent token that fails later for no
   * visible cause.
   */
  private async saveRefreshed(
    accountId: string,
    lease: string,
    refreshedFrom: TokenSet,
    fresh: TokenSet,
    platformName: string,
  ): Promise<RefreshSave> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.db.transaction().execute((trx) => this.saveUnderLease(trx, accountId, lease, refreshedFrom, fresh));
      } catch (error) {
        const delay = this.saveRetryDelaysMs[attempt];
        if (delay !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        const cause = error instanceof Error ? error.message : String(error);
        const reason = `${platformName} gave IQSP new tokens, but they could not be stored (${cause}); connect the account again`;
        // Best effort: the database may be what failed. The error still carries the reason.
        await this.markNeedsReconnect(accountId, reason).catch(() => undefined);
        throw new AccountNeedsReconnectError(accountId, reason);
      }
    }
  }

  /**
   * Saves `fresh` in `trx` only if the stored pair is still the one this refresh started from
   * (compare-and-set), renewing the refresh lease in the same transaction. Something else may
   * have written meanwhile: the next lease holder, if this one stalled past its lease, or a
   * reconnect, which replaces the tokens without the lease (a new grant, another way of
   * connecting, a new Bluesky session). That newer pair stays and is returned. If it is
   * unchanged, nobody else saved, and ours is saved: the token it replaces is spent.
   */
  private async saveUnderLease(trx: Db, accountId: string, lease: string, refreshedFrom: TokenSet, fresh: TokenSet): Promise<RefreshSave> {
    await new Leases(trx, this.now).renew(lease, this.owner, this.leaseMs);
    const current = await this.load(accountId, trx);
    if (current.accessToken !== refreshedFrom.accessToken || current.refreshToken !== refreshedFrom.refreshToken)
      return { kind: 'superseded', current };
    await this.save(accountId, fresh, trx);
    return { kind: 'saved' };
  }

  /** Marks the account as needing a reconnect with `reason` (a refused refresh, or the health check). */
  async markNeedsReconnect(accountId: string, why: string): Promise<void> {
    // A platform's own words may quote a credential: shown in `accounts` and in chat, so redacted.
    const reason = redactText(why);
    const before = await this.db.selectFrom('social_accounts').select('status').where('id', '=', accountId).executeTakeFirst();
    await this.db
      .updateTable('social_accounts')
      .set({ status: 'needs_reconnect', status_reason: reason, updated_at: isoNow(this.now()) })
      .where('id', '=', accountId)
      .execute();
    // Told once per change of health: an account already waiting for its reconnect is not news.
    if (before && before.status !== 'needs_reconnect') await this.onNeedsReconnect?.(accountId, reason).catch(() => undefined);
  }

  /** Waits for the refresh lease of one account (another process may be refreshing it). */
  private async acquireLease(name: string): Promise<void> {
    const deadline = Date.now() + this.leaseMs * 2;
    while (!(await this.leases.tryAcquire(name, this.owner, this.leaseMs))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}`);
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  private async releaseLease(name: string): Promise<void> {
    await this.leases.release(name, this.owner);
  }
}
