/**
 * End to end through Discord, what only Discord has: a mention it refuses is answered by DM
 * (a message in the channel has no ephemeral reply). The scenarios every chat shares run in
 * chat-surface.contract.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAccounts, startWorld, type SurfaceWorld } from './chat-surface.js';
import { DiscordSurface } from './discord-surface.js';
import { PDF } from './platforms.js';

let world: SurfaceWorld<DiscordSurface>;

beforeAll(async () => {
  world = await startWorld(() => DiscordSurface.start());
  await connectAccounts(world, world.surface.people.alice, [['x']]);
}, 60_000);
afterAll(() => world?.close(), 30_000);

describe('validation refusal', () => {
  it('a mention with a file that is not an image or video is refused by DM, keeping nothing', async () => {
    const { service } = world;
    const discord = world.surface.driver;
    const bob = discord.people.bob;
    const mediaBefore = service.mediaFiles();
    const approvals = discord.approvals().length;
    discord.mention(bob, 'post x Our notes', [discord.attachment('notes.pdf', 'application/pdf', PDF)]);
    await discord.waitForDm(bob, /"notes\.pdf" is application\/pdf, not an image or video/);
    expect(discord.approvals()).toHaveLength(approvals);
    expect(service.mediaFiles()).toEqual(mediaBefore);
  });
});
