/**
 * The Slack installation store of the multi-workspace mode: one `slack_installations` row per
 * workspace, and the installation itself (bot token, refresh token, scopes, ids) sealed by the
 * vault in a `secrets` row owned by it. `app_uninstalled` and `tokens_revoked` delete both.
 */
import { randomUUID } from 'node:crypto';
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import type { Db } from '../../db/database.js';
import { isoNow } from '../../db/database.js';
import type { SecretStore } from '../../vault/secret-store.js';
import { ensureWorkspace } from '../../core/directory.js';

const INSTALLATION_SECRET = 'installation';

export class InstallationNotFoundError extends Error {
  constructor(what: string) {
    super(`IQSP is not installed in Slack ${what}`);
    this.name = 'InstallationNotFoundError';
  }
}

interface Key {
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
}

function keyOf(query: { teamId?: string | undefined; enterpriseId?: string | undefined; isEnterpriseInstall?: boolean | undefined }): Key {
  const isEnterpriseInstall = query.isEnterpriseInstall === true;
  return {
    // Org-wide installs are keyed by the enterprise alone.
    teamId: isEnterpriseInstall ? null : (query.teamId ?? null),
    enterpriseId: query.enterpriseId ?? null,
    isEnterpriseInstall,
  };
}

function describe(key: Key): string {
  return key.isEnterpriseInstall ? `organization ${key.enterpriseId ?? '?'}` : `workspace ${key.teamId ?? '?'}`;
}

export class DbInstallationStore implements InstallationStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretStore,
  ) {}

  private async findId(key: Key, trx: Db = this.db): Promise<string | undefined> {
    let query = trx
      .selectFrom('slack_installations')
      .select('id')
      .where('is_enterprise_install', '=', key.isEnterpriseInstall ? 1 : 0);
    if (key.isEnterpriseInstall) query = query.where('enterprise_id', '=', key.enterpriseId ?? '');
    else query = query.where('team_id', '=', key.teamId ?? '');
    const row = await query.executeTakeFirst();
    return row?.id;
  }

  async storeInstallation<AuthVersion extends 'v1' | 'v2'>(installation: Installation<AuthVersion, boolean>): Promise<void> {
    const key = keyOf({
      teamId: installation.team?.id,
      enterpriseId: installation.enterprise?.id,
      isEnterpriseInstall: installation.isEnterpriseInstall,
    });
    if (!key.isEnterpriseInstall && !key.teamId) throw new Error('a Slack installation without a team id cannot be stored');
    const workspaceId = key.teamId ? await ensureWorkspace(this.db, 'slack', key.teamId, installation.team?.name) : null;
    const expiresAt = installation.bot?.expiresAt ? new Date(installation.bot.expiresAt * 1000).toISOString() : null;
    await this.db.transaction().execute(async (trx) => {
      const now = isoNow();
      let id = await this.findId(key, trx);
      if (id)
        await trx
          .updateTable('slack_installations')
          .set({
            workspace_id: workspaceId,
            enterprise_id: key.enterpriseId,
            bot_user_id: installation.bot?.userId ?? null,
            updated_at: now,
          })
          .where('id', '=', id)
          .execute();
      else {
        id = randomUUID();
        await trx
          .insertInto('slack_installations')
          .values({
            id,
            workspace_id: workspaceId,
            team_id: key.teamId,
            enterprise_id: key.enterpriseId,
            is_enterprise_install: key.isEnterpriseInstall ? 1 : 0,
            bot_user_id: installation.bot?.userId ?? null,
            installed_at: now,
            updated_at: now,
          })
          .execute();
      }
      await this.secrets.put({ slackInstallationId: id }, INSTALLATION_SECRET, JSON.stringify(installation), expiresAt, trx);
    });
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> {
    const key = keyOf(query);
    const id = await this.findId(key);
    const secret = id ? await this.secrets.get({ slackInstallationId: id }, INSTALLATION_SECRET) : undefined;
    if (!secret) throw new InstallationNotFoundError(describe(key));
    return JSON.parse(secret.value) as Installation<'v1' | 'v2', boolean>;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    const key = keyOf(query);
    await this.db.transaction().execute(async (trx) => {
      const id = await this.findId(key, trx);
      if (!id) return;
      await this.secrets.deleteAll({ slackInstallationId: id }, trx);
      await trx.deleteFrom('slack_installations').where('id', '=', id).execute();
    });
  }
}
