/**
 * The rows of Slack's multi-workspace installations (`slack_installations`): one per workspace,
 * or per organization for an org-wide install. The installation itself is sealed in a `secrets`
 * row the caller writes in the same transaction, so a row never exists without its secret.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../database.js';
import { isoNow } from '../database.js';

/** How an installation is found: org-wide installs by the enterprise alone, others by the team. */
export interface SlackInstallationKey {
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
}

export async function findSlackInstallationId(db: Db, key: SlackInstallationKey): Promise<string | undefined> {
  let query = db
    .selectFrom('slack_installations')
    .select('id')
    .where('is_enterprise_install', '=', key.isEnterpriseInstall ? 1 : 0);
  if (key.isEnterpriseInstall) query = query.where('enterprise_id', '=', key.enterpriseId ?? '');
  else query = query.where('team_id', '=', key.teamId ?? '');
  const row = await query.executeTakeFirst();
  return row?.id;
}

/**
 * Stores (or updates) the installation's row and, in the same transaction, its sealed secret
 * (`seal`, given the row's id).
 */
export async function saveSlackInstallation(
  db: Db,
  key: SlackInstallationKey,
  fields: { workspaceId: string | null; botUserId: string | null },
  seal: (id: string, trx: Db) => Promise<void>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = isoNow();
    let id = await findSlackInstallationId(trx, key);
    if (id)
      await trx
        .updateTable('slack_installations')
        .set({ workspace_id: fields.workspaceId, enterprise_id: key.enterpriseId, bot_user_id: fields.botUserId, updated_at: now })
        .where('id', '=', id)
        .execute();
    else {
      id = randomUUID();
      await trx
        .insertInto('slack_installations')
        .values({
          id,
          workspace_id: fields.workspaceId,
          team_id: key.teamId,
          enterprise_id: key.enterpriseId,
          is_enterprise_install: key.isEnterpriseInstall ? 1 : 0,
          bot_user_id: fields.botUserId,
          installed_at: now,
          updated_at: now,
        })
        .execute();
    }
    await seal(id, trx);
  });
}

/** Deletes the installation's row, after its secrets (`unseal`, in the same transaction); nothing when there is none. */
export async function deleteSlackInstallation(
  db: Db,
  key: SlackInstallationKey,
  unseal: (id: string, trx: Db) => Promise<void>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const id = await findSlackInstallationId(trx, key);
    if (!id) return;
    await unseal(id, trx);
    await trx.deleteFrom('slack_installations').where('id', '=', id).execute();
  });
}
