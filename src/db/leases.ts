/**
 * Named leases in the `leases` table: one holder at a time across every process on the
 * database (the refresh of one account's tokens, a cleanup tick, the Discord gateway). A lease
 * ends when its holder releases it or when it expires, so a holder that dies without releasing
 * blocks others only until `expires_at`.
 *
 * Taking a lease is one statement, atomic on both databases: an insert that, when the name is
 * taken, updates the row only if it has expired or is already the caller's. On PostgreSQL a
 * concurrent taker waits for the row lock and then re-checks that condition, so exactly one of
 * them gets it.
 */
import type { Db } from './database.js';
import { isoNow } from './database.js';

export class Leases {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Takes `name` for `owner` for `ttlMs` if it is free, expired or already `owner`'s; true when taken. */
  async tryAcquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const result = await this.db
      .insertInto('leases')
      .values({ name, owner, expires_at: isoNow(new Date(now.getTime() + ttlMs)) })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({ owner: eb.ref('excluded.owner'), expires_at: eb.ref('excluded.expires_at') }))
          .where((eb) => eb.or([eb('leases.expires_at', '<', isoNow(now)), eb('leases.owner', '=', owner)])),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Extends `owner`'s lease; false when `owner` no longer holds it (it expired and someone took it). */
  async renew(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('leases')
      .set({ expires_at: isoNow(new Date(this.now().getTime() + ttlMs)) })
      .where('name', '=', name)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Gives the lease up (only if `owner` holds it). */
  async release(name: string, owner: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
  }

  /** The current holder of `name`, if its lease has not expired. */
  async holder(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('leases')
      .select(['owner'])
      .where('name', '=', name)
      .where('expires_at', '>=', isoNow(this.now()))
      .executeTakeFirst();
    return row?.owner;
  }
}
