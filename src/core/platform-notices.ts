/**
 * Requests a platform sends IQSP by itself about a person who removed the app there (issue 20:
 * Meta's data deletion and deauthorize callbacks). The platform's publisher checks the request
 * (`Publisher.readNotice`: Meta's signed_request) before anything is read from it; then every
 * account that person connected through that grant, in any workspace, goes at once with its
 * tokens, and its connector is told in chat.
 *
 * - `erase` (data deletion): the accounts and their tokens are deleted, as `delete-my-data`
 *   deletes the accounts it covers, and the space they used in the database is scrubbed; the
 *   platform gets a confirmation code and the address of a status page that shows only the
 *   state and its dates.
 * - `deauthorize`: the accounts are disconnected, as `disconnect` does (tokens deleted at once).
 *
 * Neither calls the platform to revoke: the person already removed the app there. The audit
 * entries say what happened and how many accounts, never who.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import { eraseResidue, isoNow } from '../db/database.js';
import type { SocialAccount } from '../db/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Publisher } from '../publishers/publisher.js';
import { toAccountRef, type AccountsService } from './accounts.js';
import { appendAudit, type AuditAction } from './audit.js';
import type { Page } from './ports/pages.js';
import type { Platform } from './ports/platforms.js';

export interface PlatformNoticeDependencies {
  db: Db;
  publishers: ReadonlyMap<Platform, Publisher>;
  accounts: AccountsService;
  /** Tells a person privately in their chat (ConnectService.tellUser). */
  tellUser(workspaceId: string, userId: string, text: string): Promise<boolean>;
  publicUrl: string;
  logger: Logger;
  now?: () => Date;
}

/** What the HTTP route answers the platform. */
export type NoticeOutcome =
  | { kind: 'not-found' }
  | { kind: 'refused'; reason: string }
  /** Meta's documented answer to a data deletion request. */
  | { kind: 'erased'; url: string; confirmationCode: string }
  | { kind: 'deauthorized' };

export class PlatformNotices {
  private readonly now: () => Date;

  constructor(private readonly deps: PlatformNoticeDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** `POST /oauth/<platform>/<name>` with the platform's form. */
  async receive(platformParam: string, name: string, form: Readonly<Record<string, string>>): Promise<NoticeOutcome> {
    const publisher = this.deps.publishers.get(platformParam as Platform);
    const notice = publisher?.readNotice?.(name, form, this.now());
    if (!publisher || !notice) return { kind: 'not-found' };
    if (notice.kind === 'refused') return notice;

    const accounts = await this.accountsOf(publisher, notice.platformUserId);
    const at = isoNow(this.now());
    if (notice.kind === 'deauthorize') {
      await this.deps.db.transaction().execute(async (trx) => {
        for (const account of accounts) await this.deps.accounts.deleteAccount(account, null, trx);
        await auditPerWorkspace(trx, accounts, 'platform.deauthorized', { platform: publisher.platform });
      });
      // "Deleted at once" includes the bytes the rows leave in free pages and the log.
      await eraseResidue(this.deps.db, ['social_accounts', 'secrets']);
      await this.tellConnectors(
        accounts,
        (label) =>
          `disconnected: ${label}, at ${publisher.displayName}'s request (IQSP was removed in that person's ${publisher.displayName} settings); its tokens are deleted. Connect it again to publish there.`,
      );
      return { kind: 'deauthorized' };
    }

    const code = randomBytes(12).toString('hex');
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('deletion_requests')
        .values({ code, platform: publisher.platform, status: 'received', received_at: at, completed_at: null })
        .execute();
      await forgetWhatThePlatformGave(trx, accounts, publisher.displayName);
      for (const account of accounts) await this.deps.accounts.deleteAccount(account, null, trx);
      await trx
        .updateTable('deletion_requests')
        .set({ status: 'done', completed_at: isoNow(this.now()) })
        .where('code', '=', code)
        .execute();
      await auditPerWorkspace(trx, accounts, 'platform.data_deletion', { platform: publisher.platform, confirmationCode: code });
    });
    // Deleted rows leave their bytes in free pages until the space is reused: scrub them now.
    await eraseResidue(this.deps.db, ['social_accounts', 'secrets', 'post_targets']);
    await this.tellConnectors(
      accounts,
      (label) =>
        `deleted: ${label}, at ${publisher.displayName}'s request (the person who granted it asked ${publisher.displayName} to delete their data); its tokens are deleted. Connect it again to publish there.`,
    );
    return { kind: 'erased', confirmationCode: code, url: `${this.deps.publicUrl}/data-deletion/${code}` };
  }

  /** `GET /data-deletion/:code`: the request's state and dates, nothing personal; undefined for an unknown code. */
  async statusPage(code: string): Promise<Page | undefined> {
    if (!/^[0-9a-f]{24}$/.test(code)) return undefined;
    const row = await this.deps.db.selectFrom('deletion_requests').selectAll().where('code', '=', code).executeTakeFirst();
    if (!row) return undefined;
    const name = this.deps.publishers.get(row.platform as Platform)?.displayName ?? row.platform;
    return {
      status: 200,
      title: `Data deletion request ${row.code}: ${row.status === 'done' ? 'done' : 'received'}`,
      paragraphs: [
        `Received from ${name} on ${row.received_at}.`,
        row.completed_at
          ? `Done on ${row.completed_at}: the accounts connected through that ${name} login and their tokens are deleted from this IQSP install.`
          : 'Not done yet: the deletion is under way.',
      ],
    };
  }

  /** Every account, in any workspace, connected through this person's grant at the platform. */
  private async accountsOf(publisher: Publisher, platformUserId: string): Promise<SocialAccount[]> {
    const candidates = await this.deps.db
      .selectFrom('social_accounts')
      .selectAll()
      .where('platform_user_id', '=', platformUserId)
      .execute();
    const grant = publisher.revocationGroup?.({ platformAccountId: '', platformUserId, displayName: '' });
    return candidates.filter((account) => {
      const other = this.deps.publishers.get(account.platform);
      // Without grant groups, only the notifying platform's own accounts of that person.
      return grant === undefined ? account.platform === publisher.platform : other?.revocationGroup?.(toAccountRef(account)) === grant;
    });
  }

  private async tellConnectors(accounts: readonly SocialAccount[], text: (label: string) => string): Promise<void> {
    for (const account of accounts)
      await this.deps
        .tellUser(account.workspace_id, account.connected_by_id, text(this.deps.accounts.label(account)))
        .catch((error: unknown) => {
          this.deps.logger.warn({ err: error }, 'could not tell a connector that the platform removed their account');
          return false;
        });
  }
}

/** One audit entry per workspace that lost accounts (its admins see it in `audit`), with the count; one without a workspace when none did. */
async function auditPerWorkspace(
  db: Db,
  accounts: readonly SocialAccount[],
  action: AuditAction,
  detail: Record<string, string>,
): Promise<void> {
  const counts = new Map<string | null, number>();
  for (const account of accounts) counts.set(account.workspace_id, (counts.get(account.workspace_id) ?? 0) + 1);
  if (counts.size === 0) counts.set(null, 0);
  for (const [workspaceId, count] of counts)
    await appendAudit(db, { action, workspaceId, actorId: null, detail: { ...detail, accounts: count } });
}

/**
 * What the platform gave about those accounts stays nowhere: the posts' targets on them keep their
 * outcome (for their requesters' `status`) but lose the account's name, the platform's post ids and
 * links, and the platform's own words in a failure.
 */
async function forgetWhatThePlatformGave(db: Db, accounts: readonly SocialAccount[], platformName: string): Promise<void> {
  if (accounts.length === 0) return;
  await db
    .updateTable('post_targets')
    .set({
      account_label: `${platformName} account (deleted at its owner's request)`,
      platform_post_id: null,
      permalink: null,
      platform_ref: null,
      live_parts: null,
      failure_message: null,
    })
    .where(
      'account_id',
      'in',
      accounts.map((a) => a.id),
    )
    .execute();
}
