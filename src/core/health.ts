/**
 * The connection health check (issue 17, contract.md §5 "Connection health"), run on HEALTH_CRON
 * by one instance per tick. For every connected account:
 *
 * 1. Tokens due within the refresh margin are refreshed (the token store; a refusal marks the
 *    account `needs_reconnect` with the platform's reason).
 * 2. The platform's cheapest authenticated read (`Publisher.checkAuthorization`) proves the
 *    token still works; a refusal marks the account `needs_reconnect`. An answer that tells
 *    nothing (network, 5xx, rate limit) changes nothing.
 * 3. When the authorization lapses: a token that cannot be refreshed lapses with it (Facebook's
 *    60-day token and the Page tokens derived from it), a refreshable one with its refresh token
 *    (TikTok's 365 days). Within RECONNECT_WARN_DAYS the account needs reconnecting soon.
 *
 * An account in trouble (refused, or lapsing soon) gets its connector a private message with a
 * fresh connect link, at most once a day (`health_warned_at`), none once it is connected again
 * (connecting clears it). Reconnecting updates the same account in place (connect.ts).
 */
import { accountById } from '../db/repositories/accounts.js';
import { redactText } from '../observability/redact.js';
import type { Db } from '../db/database.js';
import { isoNow } from '../db/database.js';
import type { SocialAccount } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Publisher } from '../publishers/publisher.js';
import { AccountNeedsReconnectError, type TokenStore } from '../vault/token-store.js';
import type { AccountsService } from './accounts.js';
import { toAccountRef } from './accounts.js';
import type { ConnectService } from './connect.js';
import type { Platform } from './ports/platforms.js';

/** How often at most a connector is reminded of the same account. */
const REMINDER_EVERY_MS = 24 * 3600_000;
/** How long one account's check may take. */
const CHECK_TIMEOUT_MS = 20_000;

export interface HealthDependencies {
  db: Db;
  tokens: TokenStore;
  publishers: ReadonlyMap<Platform, Publisher>;
  accounts: AccountsService;
  connect: ConnectService;
  logger: Logger;
  /** RECONNECT_WARN_DAYS. */
  warnDays: number;
  now?: () => Date;
}

/** What one run found. */
export interface HealthReport {
  checked: number;
  /** Accounts whose authorization was refused (now `needs_reconnect`). */
  refused: number;
  /** Accounts whose authorization lapses within RECONNECT_WARN_DAYS. */
  lapsing: number;
  /** Connectors reminded with a fresh link. */
  reminded: number;
}

/** Why an account is in trouble, as its connector is told. */
type Trouble = { kind: 'refused'; reason: string } | { kind: 'lapsing'; at: Date };

export class HealthService {
  private readonly now: () => Date;

  constructor(private readonly deps: HealthDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** One health run over every connected account. */
  async run(): Promise<HealthReport> {
    const report: HealthReport = { checked: 0, refused: 0, lapsing: 0, reminded: 0 };
    // Not those of a workspace that removed the app (their tokens are gone; nobody there can be told).
    const ids = await this.deps.db
      .selectFrom('social_accounts')
      .innerJoin('workspaces', 'workspaces.id', 'social_accounts.workspace_id')
      .select('social_accounts.id')
      .where('workspaces.uninstalled_at', 'is', null)
      .orderBy('social_accounts.connected_at')
      .execute();
    for (const { id } of ids) {
      // Each account as it is now (one connected again since the run began is not in trouble).
      const account = await accountById(this.deps.db, id);
      if (!account) continue;
      report.checked += 1;
      try {
        const trouble = await this.check(account);
        if (trouble?.kind === 'refused') report.refused += 1;
        if (trouble?.kind === 'lapsing') report.lapsing += 1;
        if (trouble && (await this.remind(account, trouble))) report.reminded += 1;
      } catch (error) {
        this.deps.logger.warn({ err: error, accountId: account.id, platform: account.platform }, 'the health check of an account failed');
      }
    }
    return report;
  }

  /** The account's trouble, if it has one (after refreshing and asking the platform). */
  private async check(account: SocialAccount): Promise<Trouble | undefined> {
    if (account.status === 'needs_reconnect') return { kind: 'refused', reason: account.status_reason ?? 'its access ended' };
    const publisher = this.deps.publishers.get(account.platform);
    if (!publisher) return undefined;
    let tokens;
    try {
      tokens = await this.deps.tokens.validTokens(account.id);
    } catch (error) {
      if (error instanceof AccountNeedsReconnectError) return { kind: 'refused', reason: error.message };
      throw error;
    }
    const answer = await publisher.checkAuthorization(toAccountRef(account), tokens, AbortSignal.timeout(CHECK_TIMEOUT_MS));
    if (answer.kind === 'refused') {
      // Connected again while the platform was being asked: those tokens were not the ones refused.
      if (await this.changedSince(account)) return undefined;
      const reason = redactText(answer.reason).replace(/\.+$/, '');
      await this.deps.tokens.markNeedsReconnect(account.id, reason);
      return { kind: 'refused', reason };
    }
    if (answer.kind === 'unknown')
      this.deps.logger.info(
        { accountId: account.id, platform: account.platform, reason: answer.reason },
        'the health check learnt nothing',
      );
    if (answer.kind === 'ok' && answer.lapsesAt) {
      account.authorization_lapses_at = isoNow(answer.lapsesAt);
      await this.deps.db
        .updateTable('social_accounts')
        .set({ authorization_lapses_at: account.authorization_lapses_at })
        .where('id', '=', account.id)
        .execute();
    }
    const lapses = await this.deps.accounts.lapsesAt(account);
    if (lapses && lapses.getTime() - this.now().getTime() <= this.deps.warnDays * 86_400_000) return { kind: 'lapsing', at: lapses };
    return undefined;
  }

  /** Whether the account was connected again (or disconnected) since `seen` was read of it. */
  private async changedSince(seen: SocialAccount): Promise<boolean> {
    const now = await accountById(this.deps.db, seen.id);
    if (!now || now.connected_by_id !== seen.connected_by_id) return true;
    // Active again, or active with a newer row (a connect writes updated_at; the check's own marks do not make it active).
    return now.status === 'active' && (seen.status !== 'active' || now.updated_at !== seen.updated_at);
  }

  /**
   * A private message to the account's connector with a fresh connect link, unless one was sent
   * in the last day (recorded by a compare-and-set, so two instances never both send it).
   */
  private async remind(account: SocialAccount, trouble: Trouble): Promise<boolean> {
    // Not about an account connected again since it was looked at.
    if (await this.changedSince(account)) return false;
    const now = this.now();
    const since = isoNow(new Date(now.getTime() - REMINDER_EVERY_MS));
    const claimed = await this.deps.db
      .updateTable('social_accounts')
      .set({ health_warned_at: isoNow(now) })
      .where('id', '=', account.id)
      .where((eb) => eb.or([eb('health_warned_at', 'is', null), eb('health_warned_at', '<=', since)]))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return false;
    const label = this.deps.accounts.label(account);
    const link = await this.deps.connect.linkFor(account.workspace_id, account.connected_by_id, account.platform);
    const why =
      trouble.kind === 'refused'
        ? `${label} needs reconnect: ${redactText(trouble.reason).replace(/\.+$/, '')}. Posts to it wait until it is connected again.`
        : `${label} needs reconnect soon: its authorization lapses on ${trouble.at.toISOString().slice(0, 10)}, and posts to it would wait from then.`;
    const said = await this.deps.connect.tellUser(
      account.workspace_id,
      account.connected_by_id,
      `${why}\nConnect it again: ${link}\nThis link is only for you, works once, and expires in 15 minutes. You connected this account, so this reminder comes to you (at most once a day).`,
    );
    if (!said)
      // Not said: the next run tries again rather than waiting a day.
      await this.deps.db
        .updateTable('social_accounts')
        .set({ health_warned_at: account.health_warned_at })
        .where('id', '=', account.id)
        .execute();
    return said;
  }
}
