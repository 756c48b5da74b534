import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../src/db/database.js';
import { isoNow, openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import type { Platform } from '../../src/db/schema.js';

export interface TestDatabase {
  db: Db;
  file: string;
  dir: string;
  close(): Promise<void>;
}

/** A migrated SQLite database in a fresh temp folder. */
export async function testDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-db-'));
  const file = path.join(dir, 'iqsp.sqlite');
  const db = openDatabase({ kind: 'sqlite', path: file });
  await migrateToLatest(db);
  return {
    db,
    file,
    dir,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SeededAccount {
  workspaceId: string;
  userId: string;
  accountId: string;
}

/** A workspace, a chat user and one connected account on `platform` (no tokens yet). */
export async function seedAccount(db: Db, platform: Platform, handle = 'acme'): Promise<SeededAccount> {
  const now = isoNow();
  const workspaceId = randomUUID();
  const userId = randomUUID();
  const accountId = randomUUID();
  await db.insertInto('workspaces').values({ id: workspaceId, chat: 'slack', external_id: `T${randomUUID().slice(0, 8)}`, name: 'Acme', approvals_required: null, created_at: now, updated_at: now }).execute();
  await db.insertInto('chat_users').values({ id: userId, workspace_id: workspaceId, external_id: 'U123', display_name: 'Ada', created_at: now, updated_at: now }).execute();
  await db
    .insertInto('social_accounts')
    .values({
      id: accountId,
      workspace_id: workspaceId,
      connected_by_id: userId,
      platform,
      platform_account_id: `${platform}-1`,
      platform_user_id: null,
      handle,
      display_name: 'Acme Inc',
      avatar_url: null,
      scopes: null,
      status: 'active',
      status_reason: null,
      connected_at: now,
      updated_at: now,
    })
    .execute();
  return { workspaceId, userId, accountId };
}
