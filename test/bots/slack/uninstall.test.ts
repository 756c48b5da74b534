/**
 * Issue 13, finding 15 (second half) on Slack: `app_uninstalled` deletes the workspace's tokens
 * at once (in single-workspace mode too, where no installation is stored), and the cleanup job
 * deletes the rest of its data once the retention (30 days, README) has passed; a workspace that
 * uses the app again meanwhile keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoNow } from '../../../src/db/database.js';
import { REMOVED_WORKSPACE_RETENTION_DAYS } from '../../../src/core/data-rights.js';
import { SlackHarness } from './harness.js';

let h: SlackHarness;
beforeAll(async () => {
  h = await SlackHarness.start();
});
afterAll(async () => {
  await h?.close();
});

const UNINSTALL_T0001 = {
  team_id: 'T0001',
  event_id: 'Ev0UNINSTALLT1',
  authorizations: [{ enterprise_id: null, team_id: 'T0001', user_id: 'U0BOT', is_bot: true, is_enterprise_install: false }],
};

async function workspace() {
  return h.db.selectFrom('workspaces').selectAll().where('chat', '=', 'slack').where('external_id', '=', 'T0001').executeTakeFirst();
}

async function tokensOf(accountIds: string[]) {
  return h.db.selectFrom('secrets').select('name').where('account_id', 'in', accountIds).execute();
}

/** Moves the workspace's removal `days` into the past, as the clock passing would. */
async function removedDaysAgo(days: number): Promise<void> {
  await h.db
    .updateTable('workspaces')
    .set({ uninstalled_at: isoNow(new Date(Date.now() - days * 24 * 3600_000)) })
    .where('external_id', '=', 'T0001')
    .execute();
}

describe('app_uninstalled', () => {
  it('deletes every token of the workspace at once, keeps the rest until the retention has passed, then deletes it all', async () => {
    const { x, tiktok } = await h.seedAccounts();
    const ids = [x.id, tiktok.id];
    expect(await tokensOf(ids)).toHaveLength(2);
    // Some history: Bob's settings change, so the workspace holds people and audit entries.
    const { responseUrl } = await h.command('approvals 1', { user_id: 'U0ADMIN', user_name: 'ada' });
    await h.replyTo(responseUrl);

    const response = await h.event('event-app-uninstalled', UNINSTALL_T0001);
    expect(response.status).toBe(200);
    expect(await tokensOf(ids)).toEqual([]);
    const accounts = await h.db
      .selectFrom('social_accounts')
      .select(['id', 'status', 'status_reason'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    expect(accounts.map((a) => a.status)).toEqual(['needs_reconnect', 'needs_reconnect']);
    expect(accounts[0]!.status_reason).toMatch(/^IQSP was removed from this workspace/);
    const removed = await workspace();
    expect(removed?.uninstalled_at).toBeTruthy();
    const audit = await h.db.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'workspace.removed').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({
      reason: 'app_uninstalled',
      accounts: 2,
      retentionDays: REMOVED_WORKSPACE_RETENTION_DAYS,
    });

    // Within the retention the cleanup keeps the workspace's data.
    await removedDaysAgo(REMOVED_WORKSPACE_RETENTION_DAYS - 1);
    expect((await h.core.cleanup.run()).workspacesPurged).toBe(0);
    expect(await workspace()).toBeDefined();

    // Past it, everything the workspace held is deleted; one audit entry without ids remains.
    await removedDaysAgo(REMOVED_WORKSPACE_RETENTION_DAYS + 1);
    expect((await h.core.cleanup.run()).workspacesPurged).toBe(1);
    expect(await workspace()).toBeUndefined();
    expect(await h.db.selectFrom('social_accounts').select('id').execute()).toEqual([]);
    expect(await h.db.selectFrom('chat_users').select('id').execute()).toEqual([]);
    const left = await h.db.selectFrom('audit_log').select(['action', 'workspace_id', 'actor_id', 'subject_id']).execute();
    expect(left).toEqual([{ action: 'workspace.purged', workspace_id: null, actor_id: null, subject_id: null }]);
  });

  it('a workspace that uses the app again within the retention keeps its data', async () => {
    const { responseUrl } = await h.command('approvers');
    await h.replyTo(responseUrl);
    await h.event('event-app-uninstalled', { ...UNINSTALL_T0001, event_id: 'Ev0UNINSTALLT1B' });
    expect((await workspace())?.uninstalled_at).toBeTruthy();
    // Added back: its next command is the sign.
    const again = await h.command('approvers');
    await h.replyTo(again.responseUrl);
    expect((await workspace())?.uninstalled_at).toBeNull();
    expect((await h.core.cleanup.run()).workspacesPurged).toBe(0);
    expect(await workspace()).toBeDefined();
  });
});
