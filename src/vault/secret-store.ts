import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isoNow, lockRows } from '../db/database.js';
import type { Vault } from './vault.js';
import { type SealedFor } from './vault.js';

export type SecretOwner = { accountId: string } | { slackInstallationId: string };

export interface StoredSecret {
  value: string;
  expiresAt: string | null;
  updatedAt: string;
}

/**
 * Sealed secrets in the `secrets` table. Values go in and come out as plaintext; only the
 * sealed form ever touches the database.
 */
export class SecretStore {
  constructor(
    private readonly db: Db,
    private readonly vault: Vault,
  ) {}

  /** Writes (or replaces) one named secret of an owner. Runs inside `trx` when given. */
  async put(owner: SecretOwner, name: string, value: string, expiresAt: string | null, trx: Db = this.db): Promise<void> {
    if (value === '') throw new Error(`refusing to store an empty ${name}`);
    const now = isoNow();
    const sealed = this.vault.seal(value, sealedFor(owner, name));
    const ownerColumns = ownerRow(owner);
    const [column, id] = ownerKey(owner);
    const updated = await trx
      .updateTable('secrets')
      .where(column, '=', id)
      .set({ sealed, key_id: this.vault.currentKeyId, expires_at: expiresAt, updated_at: now })
      .where('name', '=', name)
      .executeTakeFirst();
    if (updated.numUpdatedRows > 0n) return;
    await trx
      .insertInto('secrets')
      .values({
        id: randomUUID(),
        ...ownerColumns,
        name,
        sealed,
        key_id: this.vault.currentKeyId,
        expires_at: expiresAt,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  async get(owner: SecretOwner, name: string, trx: Db = this.db): Promise<StoredSecret | undefined> {
    const [column, id] = ownerKey(owner);
    const row = await trx
      .selectFrom('secrets')
      .where(column, '=', id)
      .select(['sealed', 'expires_at', 'updated_at'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    return { value: this.vault.open(row.sealed, sealedFor(owner, name)), expiresAt: row.expires_at, updatedAt: row.updated_at };
  }

  /** Deletes every secret of an owner; returns how many rows went. */
  async deleteAll(owner: SecretOwner, trx: Db = this.db): Promise<number> {
    const [column, id] = ownerKey(owner);
    const result = await trx.deleteFrom('secrets').where(column, '=', id).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function ownerRow(owner: SecretOwner): { account_id: string | null; slack_installation_id: string | null } {
  return 'accountId' in owner
    ? { account_id: owner.accountId, slack_installation_id: null }
    : { account_id: null, slack_installation_id: owner.slackInstallationId };
}

/**
 * The row a secret is sealed for. The owner's kind is part of it: an account and a Slack
 * installation that happened to share an id still do not share values.
 */
function sealedFor(owner: SecretOwner, name: string): SealedFor {
  return { owner: 'accountId' in owner ? `account:${owner.accountId}` : `slack_installation:${owner.slackInstallationId}`, name };
}

/**
 * The row a PKCE code verifier is sealed for: its OAuth state, named by the state's hash (the
 * state itself is never stored).
 */
export function codeVerifierSealedFor(stateHash: string): SealedFor {
  return { owner: `oauth_state:${stateHash}`, name: 'code_verifier' };
}

/** The owner column and id a secret row is found by. */
function ownerKey(owner: SecretOwner): ['account_id' | 'slack_installation_id', string] {
  return 'accountId' in owner ? ['account_id', owner.accountId] : ['slack_installation_id', owner.slackInstallationId];
}

/** Rows re-sealed per transaction by `rotateAllSecrets`. */
export const ROTATE_BATCH_SIZE = 100;

/** One transaction's work: how many values it re-sealed, and the last id it looked at (none: the table is done). */
interface RotatedBatch {
  resealed: number;
  lastId: string | undefined;
}

/**
 * Re-seals every stored value that is not under the current key or not in the current format
 * (v1 values are re-sealed as v2, bound to their row); returns how many it re-sealed.
 *
 * The service keeps running meanwhile, so each batch of rows is read locked (PostgreSQL:
 * `FOR UPDATE`; SQLite: the transaction holds the write lock from its start) and rewritten in
 * the same transaction: a token refresh that stores a new refresh token waits for the batch
 * instead of being overwritten by the older value rotate read. Batches commit one by one, so
 * a large rotate never holds up the service's own writes for long; one that stops half way
 * leaves values under the previous key, which VAULT_PREVIOUS_KEYS still opens, and running it
 * again finishes the work.
 *
 * Sealed values live in `secrets.sealed` and `oauth_states.code_verifier_sealed`; a new sealed
 * column must be added here.
 */
export async function rotateAllSecrets(db: Db, vault: Vault, options: { batchSize?: number } = {}): Promise<number> {
  const batchSize = options.batchSize ?? ROTATE_BATCH_SIZE;
  let count = 0;
  for (const rotateBatch of [resealSecrets, resealCodeVerifiers]) {
    let after = '';
    for (;;) {
      const batch = await retriedOnDeadlock(() => db.transaction().execute((trx) => rotateBatch(trx, vault, after, batchSize)));
      count += batch.resealed;
      if (batch.lastId === undefined) break;
      after = batch.lastId;
    }
  }
  return count;
}

/**
 * PostgreSQL may end a batch as a deadlock victim: it locks its rows in id order while a token
 * save locks an account's rows in name order. The batch then changed nothing and is run again.
 */
async function retriedOnDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const deadlock = (error as { code?: unknown }).code === '40P01';
      if (!deadlock || attempt >= 5) throw error;
    }
  }
}

async function resealSecrets(trx: Db, vault: Vault, afterId: string, limit: number): Promise<RotatedBatch> {
  const rows = await lockRows(
    trx,
    trx
      .selectFrom('secrets')
      .select(['id', 'account_id', 'slack_installation_id', 'name', 'sealed'])
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit),
  ).execute();
  let resealed = 0;
  for (const row of rows) {
    if (!vault.needsRotation(row.sealed)) continue;
    const boundTo = sealedFor(ownerOf(row), row.name);
    await trx
      .updateTable('secrets')
      .set({ sealed: vault.seal(vault.open(row.sealed, boundTo), boundTo), key_id: vault.currentKeyId })
      .where('id', '=', row.id)
      .execute();
    resealed += 1;
  }
  return { resealed, lastId: rows.length === limit ? rows.at(-1)?.id : undefined };
}

async function resealCodeVerifiers(trx: Db, vault: Vault, afterId: string, limit: number): Promise<RotatedBatch> {
  const rows = await lockRows(
    trx,
    trx
      .selectFrom('oauth_states')
      .select(['id', 'state_hash', 'code_verifier_sealed'])
      .where('code_verifier_sealed', 'is not', null)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit),
  ).execute();
  let resealed = 0;
  for (const row of rows) {
    if (row.code_verifier_sealed === null || !vault.needsRotation(row.code_verifier_sealed)) continue;
    const boundTo = codeVerifierSealedFor(row.state_hash);
    await trx
      .updateTable('oauth_states')
      .set({ code_verifier_sealed: vault.seal(vault.open(row.code_verifier_sealed, boundTo), boundTo) })
      .where('id', '=', row.id)
      .execute();
    resealed += 1;
  }
  return { resealed, lastId: rows.length === limit ? rows.at(-1)?.id : undefined };
}

/** The owner a secrets row names (exactly one of its two owner columns is set). */
function ownerOf(row: { id: string; account_id: string | null; slack_installation_id: string | null }): SecretOwner {
  if (row.account_id !== null) return { accountId: row.account_id };
  if (row.slack_installation_id !== null) return { slackInstallationId: row.slack_installation_id };
  throw new Error(`secrets row ${row.id} has no owner`);
}
