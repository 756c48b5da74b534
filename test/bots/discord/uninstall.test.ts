/**
 * Issue 13, finding 15 (second half) on Discord: the bot removed from a server (GUILD_DELETE
 * without `unavailable`) deletes that server's tokens at once and marks its data for deletion
 * after the retention; GUILD_DELETE with `unavailable: true` is an outage and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const db = () => h.app.services.db;

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the bot removed from a server', () => {
  it("an outage (unavailable) keeps everything; a removal deletes the server's tokens at once", async () => {
    const accountId = await h.connectX(h.discord.world.people.alice.id);
    const tokens = () => db().selectFrom('secrets').select('name').where('account_id', '=', accountId).execute();
    const workspace = () =>
      db().selectFrom('workspaces').select('uninstalled_at').where('external_id', '=', h.discord.world.guildId).executeTakeFirstOrThrow();
    expect(await tokens()).toHaveLength(1);

    expect(h.discord.gateway.dispatch('GUILD_DELETE', { id: h.discord.world.guildId, unavailable: true })).toBe(1);
    // An outage is only logged by discord.js; nothing here acts on it. Let the event be handled.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await tokens()).toHaveLength(1);
    expect((await workspace()).uninstalled_at).toBeNull();

    expect(h.discord.gateway.dispatch('GUILD_DELETE', { id: h.discord.world.guildId })).toBe(1);
    await until(async () => (await tokens()).length === 0, 'the tokens to be deleted');
    expect((await workspace()).uninstalled_at).toBeTruthy();
    const account = await db()
      .selectFrom('social_accounts')
      .select(['status', 'status_reason'])
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('needs_reconnect');
    // Revoked at the platform too, where it allows.
    expect(h.x.revoked).toEqual(['x-acme']);
  });
});
