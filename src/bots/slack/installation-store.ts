/**
 * The Slack installation store of the multi-workspace mode: one `slack_installations` row per
 * workspace, and the installation itself (bot token, refresh token, scopes, ids) sealed by the
 * vault in a `secrets` row owned by it. `app_uninstalled` and `tokens_revoked` delete both.
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import type { Db } from '../../db/database.js';
import {
  deleteSlackInstallation,
  findSlackInstallationId,
  saveSlackInstallation,
  type SlackInstallationKey,
} from '../../db/repositories/slack-installations.js';
import type { SecretStore } from '../../vault/secret-store.js';
import { ensureWorkspace } from '../../core/directory.js';

const INSTALLATION_SECRET = 'installation';

export class InstallationNotFoundError extends Error {
  constructor(what: string) {
    super(`IQSP is not installed in Slack ${what}`);
    this.name = 'InstallationNotFoundError';
  }
}

type Key = SlackInstallationKey;

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

  async storeInstallation<AuthVersion extends 'v1' | 'v2'>(installation: Installation<AuthVersion, boolean>): Promise<void> {
    const key = keyOf({
      teamId: installation.team?.id,
      enterpriseId: installation.enterprise?.id,
      isEnterpriseInstall: installation.isEnterpriseInstall,
    });
    if (!key.isEnterpriseInstall && !key.teamId) throw new Error('a Slack installation without a team id cannot be stored');
    const workspaceId = key.teamId ? await ensureWorkspace(this.db, 'slack', key.teamId, installation.team?.name) : null;
    const expiresAt = installation.bot?.expiresAt ? new Date(installation.bot.expiresAt * 1000).toISOString() : null;
    await saveSlackInstallation(this.db, key, { workspaceId, botUserId: installation.bot?.userId ?? null }, (id, trx) =>
      this.secrets.put({ slackInstallationId: id }, INSTALLATION_SECRET, JSON.stringify(installation), expiresAt, trx),
    );
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> {
    const key = keyOf(query);
    const id = await findSlackInstallationId(this.db, key);
    const secret = id ? await this.secrets.get({ slackInstallationId: id }, INSTALLATION_SECRET) : undefined;
    if (!secret) throw new InstallationNotFoundError(describe(key));
    return JSON.parse(secret.value) as Installation<'v1' | 'v2', boolean>;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await deleteSlackInstallation(this.db, keyOf(query), async (id, trx) => {
      await this.secrets.deleteAll({ slackInstallationId: id }, trx);
    });
  }
}
