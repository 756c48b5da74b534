/**
 * The workspace's connected accounts: listing them with token health, and disconnecting one
 * (revoke at the platform where it can, then delete the tokens at once).
 */
import type { Invocation, Reply } from './ports/chat.js';
import { privateReply } from './ports/chat.js';
import type { Segment } from './ports/rich-text.js';
import { joinRich, mention, rich } from './ports/rich-text.js';
import { isoNow, type Db } from '../db/database.js';
import type { SocialAccount } from '../db/schema.js';
import type { Platform } from './ports/platforms.js';
import type { Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import type { AccountRef, Publisher } from '../publishers/publisher.js';
import type { TokenStore } from '../vault/token-store.js';
import { appendAudit } from './audit.js';
import { ensureMember } from './directory.js';
import { accountLabel, targetMention, targetNames } from './labels.js';

export type TokenHealth = { kind: 'ok' } | { kind: 'expiring'; at: string } | { kind: 'needs_reconnect'; reason: string };

export interface AccountsDependencies {
  db: Db;
  tokens: TokenStore;
  publishers: ReadonlyMap<Platform, Publisher>;
  logger: Logger;
  /** RECONNECT_WARN_DAYS: an authorization lapsing within this many days needs reconnecting (default 7). */
  reconnectWarnDays?: number;
  now?: () => Date;
}

export function toAccountRef(account: SocialAccount): AccountRef {
  return {
    platformAccountId: account.platform_account_id,
    platformUserId: account.platform_user_id ?? undefined,
    handle: account.handle ?? undefined,
    displayName: account.display_name ?? account.platform_account_id,
  };
}

export function platformName(publishers: ReadonlyMap<Platform, Publisher>, platform: Platform): string {
  return publishers.get(platform)?.displayName ?? platform;
}

export class AccountsService {
  private readonly now: () => Date;

  constructor(private readonly deps: AccountsDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  label(account: SocialAccount): string {
    return accountLabel(platformName(this.deps.publishers, account.platform), account);
  }

  async health(account: SocialAccount): Promise<TokenHealth> {
    if (account.status === 'needs_reconnect') return { kind: 'needs_reconnect', reason: account.status_reason ?? 'connect it again' };
    const lapse = await this.lapse(account);
    if (lapse.kind === 'none') return { kind: 'needs_reconnect', reason: 'no token is stored' };
    if (lapse.kind === 'never') return { kind: 'ok' };
    const left = lapse.at.getTime() - this.now().getTime();
    if (left <= 0) return { kind: 'needs_reconnect', reason: 'access has expired' };
    return left <= (this.deps.reconnectWarnDays ?? 7) * 86_400_000 ? { kind: 'expiring', at: isoNow(lapse.at) } : { kind: 'ok' };
  }

  /** When the account's authorization lapses (undefined: it does not, or no token is stored). */
  async lapsesAt(account: SocialAccount): Promise<Date | undefined> {
    const lapse = await this.lapse(account);
    return lapse.kind === 'at' ? lapse.at : undefined;
  }

  /**
   * When the authorization lapses: a refreshable token's own expiry does not matter, its refresh
   * token's does; a token that cannot be refreshed lapses with itself.
   */
  private async lapse(account: SocialAccount): Promise<{ kind: 'none' } | { kind: 'never' } | { kind: 'at'; at: Date }> {
    const secrets = await this.deps.db.selectFrom('secrets').select(['name', 'expires_at']).where('account_id', '=', account.id).execute();
    const access = secrets.find((s) => s.name === 'access_token');
    const refresh = secrets.find((s) => s.name === 'refresh_token');
    if (!access) return { kind: 'none' };
    const canRefresh = (this.deps.publishers.get(account.platform)?.canRefresh ?? false) && refresh !== undefined;
    // The platform's own word on the authorization (health check) counts where it is sooner.
    const limits = [canRefresh ? refresh?.expires_at : access.expires_at, account.authorization_lapses_at]
      .filter((at): at is string => typeof at === 'string')
      .map((at) => Date.parse(at));
    return limits.length > 0 ? { kind: 'at', at: new Date(Math.min(...limits)) } : { kind: 'never' };
  }

  /** Every account of the workspace, by platform, oldest first (what a post form offers). */
  async inWorkspace(workspaceId: string): Promise<SocialAccount[]> {
    return this.deps.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('platform')
      .orderBy('connected_at')
      .execute();
  }

  /** The accounts among `ids` that belong to the workspace (an id of another workspace finds nothing). */
  async chosenIn(workspaceId: string, ids: readonly string[]): Promise<SocialAccount[]> {
    if (ids.length === 0) return [];
    return this.deps.db.selectFrom('social_accounts').selectAll().where('workspace_id', '=', workspaceId).where('id', 'in', ids).execute();
  }

  /** `accounts`: every account of the workspace, who connected it, and its token health. */
  async list(invocation: Invocation): Promise<Reply> {
    const { workspaceId } = await ensureMember(this.deps.db, invocation);
    const rows = await this.deps.db
      .selectFrom('social_accounts')
      .innerJoin('chat_users', 'chat_users.id', 'social_accounts.connected_by_id')
      .selectAll('social_accounts')
      .select('chat_users.external_id as connectorExternalId')
      .where('social_accounts.workspace_id', '=', workspaceId)
      .orderBy('social_accounts.platform')
      .orderBy('social_accounts.connected_at')
      .execute();
    if (rows.length === 0) return privateReply('No account is connected in this workspace yet. Run `connect <platform>` to connect one.');
    const lines: Segment[][] = [];
    for (const row of rows) {
      const health = await this.health(row);
      const healthText =
        health.kind === 'ok'
          ? 'token ok'
          : health.kind === 'expiring'
            ? `needs reconnect: its authorization lapses on ${health.at.slice(0, 10)}; run \`connect ${row.platform}\``
            : `needs reconnect: ${health.reason}; run \`connect ${row.platform}\``;
      // An account named by its name (a Facebook Page) is told how to name it in `post`.
      const naming = row.handle ? '' : ` — post to it with ${targetMention(row, rows)}`;
      lines.push(rich`• ${this.label(row)}${naming} — connected by ${mention(row.connectorExternalId)} — ${healthText}`);
    }
    return privateReply(joinRich(['*Connected accounts*', ...lines], '\n'));
  }

  /** `disconnect <platform>[ @handle]`: only the connector or an admin. */
  async disconnect(invocation: Invocation, platform: Platform, handle?: string): Promise<Reply> {
    const { workspaceId, userId } = await ensureMember(this.deps.db, invocation);
    const name = platformName(this.deps.publishers, platform);
    const candidates = await this.deps.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('platform', '=', platform)
      .execute();
    const wanted = handle?.toLowerCase();
    const matches = wanted ? candidates.filter((a) => targetNames(a).some((n) => n.toLowerCase() === wanted)) : candidates;
    if (matches.length === 0)
      return privateReply(
        wanted ? `${name} @${handle} is not connected in this workspace.` : `${name} is not connected in this workspace.`,
      );
    if (matches.length > 1)
      return privateReply(
        `Several ${name} accounts are connected: ${matches.map((a) => this.label(a)).join(', ')}. Say which one: \`disconnect ${platform} @handle\`.`,
      );
    const account = matches[0]!;
    if (account.connected_by_id !== userId && !invocation.isAdmin)
      return privateReply(`Only the person who connected ${this.label(account)} or a workspace admin can disconnect it.`);

    const revokeNote = await this.revokeAtPlatform(account);
    await this.deleteAccount(account, userId);
    return {
      visibility: 'channel',
      message: { text: `disconnected: ${this.label(account)} (its tokens are deleted)${revokeNote ? `. ${revokeNote}` : ''}` },
    };
  }

  /**
   * Best effort: asks the platform to revoke access. Returns a sentence for the user when it
   * did not (the local deletion happens regardless).
   *
   * Where one consent covers several accounts (`revocationGroup`), the grant is revoked only
   * when none of its accounts stays connected: `leaving` are the accounts being removed now,
   * and `revokedGroups` collects grants already revoked in this same operation.
   */
  async revokeAtPlatform(
    account: SocialAccount,
    leaving: ReadonlySet<string> = new Set([account.id]),
    revokedGroups: Set<string> = new Set(),
  ): Promise<string | undefined> {
    const publisher = this.deps.publishers.get(account.platform);
    const label = this.label(account);
    if (!publisher)
      return `${label} could not be revoked at the platform because it is no longer configured here; remove IQSP in the platform's app settings.`;
    const group = publisher.revocationGroup?.(toAccountRef(account));
    if (group) {
      if (revokedGroups.has(group)) return undefined;
      const staying = await this.accountsInGroup(group, account, leaving);
      if (staying.length > 0) return this.stillGranted(publisher.displayName, account.workspace_id, staying);
    }
    try {
      // A fresh access token where the platform can refresh (TikTok refuses to revoke with an expired one).
      const tokens = await this.deps.tokens.validTokens(account.id).catch(() => this.deps.tokens.load(account.id));
      await publisher.revoke(toAccountRef(account), tokens);
      if (group) revokedGroups.add(group);
      return undefined;
    } catch (error) {
      this.deps.logger.warn({ err: error, platform: account.platform, accountId: account.id }, 'revoke failed');
      await appendAudit(this.deps.db, {
        action: 'account.revoke_failed',
        workspaceId: account.workspace_id,
        actorId: null,
        subjectType: 'account',
        subjectId: account.id,
        detail: { platform: account.platform },
      });
      const reason = error instanceof Error ? redactText(error.message) : 'unknown error';
      return `${publisher.displayName} did not confirm the revocation (${reason}); to be sure, remove IQSP in your ${publisher.displayName} app settings.`;
    }
  }

  /**
   * Why a grant stays: the accounts of this workspace that still use it, by name, and those of
   * other workspaces only as a count. The reply is said in the channel, and another workspace's
   * accounts (a Page, a handle) are not this workspace's business.
   */
  private stillGranted(platformName: string, workspaceId: string, staying: readonly SocialAccount[]): string {
    const here = staying.filter((a) => a.workspace_id === workspaceId).map((a) => this.label(a));
    const elsewhere = staying.length - here.length;
    if (elsewhere > 0) here.push(elsewhere === 1 ? 'an account in another workspace' : `${elsewhere} accounts in other workspaces`);
    const users = staying.length === 1 ? 'uses' : 'use';
    return `${platformName} access stays granted because ${here.join(', ')} ${users} the same login; it is revoked when the last of them is disconnected.`;
  }

  /** Other connected accounts (any workspace) that share `account`'s grant and are not leaving. */
  private async accountsInGroup(group: string, account: SocialAccount, leaving: ReadonlySet<string>): Promise<SocialAccount[]> {
    if (!account.platform_user_id) return [];
    const candidates = await this.deps.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('platform_user_id', '=', account.platform_user_id)
      .execute();
    return candidates.filter(
      (other) => !leaving.has(other.id) && this.deps.publishers.get(other.platform)?.revocationGroup?.(toAccountRef(other)) === group,
    );
  }

  /** Deletes the account row; its secrets go with it (ON DELETE CASCADE). */
  async deleteAccount(account: SocialAccount, actorId: string | null, trx: Db = this.deps.db): Promise<void> {
    await trx.deleteFrom('secrets').where('account_id', '=', account.id).execute();
    await trx.deleteFrom('social_accounts').where('id', '=', account.id).execute();
    await appendAudit(trx, {
      action: 'account.disconnected',
      workspaceId: account.workspace_id,
      actorId,
      subjectType: 'account',
      subjectId: account.id,
      detail: { platform: account.platform },
    });
  }
}
