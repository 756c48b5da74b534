/**
 * Issue 13, finding 3 on Discord: a decision decides only posts of the server it came from.
 * An Approve button whose custom id names a post of another workspace (Discord lets a client
 * send any custom id) and a ✅ on a message whose id another workspace's post uses change
 * nothing there and add nobody to that workspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignPostState, seedForeignPost, UNTOUCHED } from '../../helpers/foreign-post.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const db = () => h.app.services.db;

async function settle(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('decisions are scoped to the server they come from', () => {
  it('an Approve button naming a post of another workspace approves nothing and adds nobody there', async () => {
    const foreign = await seedForeignPost(db(), { chat: 'slack', workspaceExternalId: 'T-VICTIM' }, 'FOREIGNB');
    const bob = h.discord.world.people.bob;
    const carrier = h.discord.userMessage(bob, 'any message of ours carries the forged button');
    const click = h.discord.buttonClick(bob, carrier, `approve_post:${foreign.postId}`);
    // Handled once the post moved (before the fix) or the refusal is logged (after).
    await settle(
      async () =>
        (await foreignPostState(db(), foreign)).status !== 'pending_approval' ||
        h.logs.some((l) => l.includes('a decision on a post of another workspace')),
      'the click to be handled',
    );
    expect(click.callbacks).toEqual([{ type: 6 }]);
    expect(await foreignPostState(db(), foreign)).toEqual(UNTOUCHED);
  });

  it('a Reject button naming a post of another Discord server rejects nothing', async () => {
    const foreign = await seedForeignPost(db(), { chat: 'discord', workspaceExternalId: '999999999999999999' }, 'FOREIGNR');
    const alice = h.discord.world.people.alice;
    const carrier = h.discord.userMessage(alice, 'another carrier');
    h.discord.buttonClick(alice, carrier, `reject_post:${foreign.postId}`);
    await settle(
      async () =>
        (await foreignPostState(db(), foreign)).status !== 'pending_approval' ||
        h.logs.filter((l) => l.includes('a decision on a post of another workspace')).length >= 2,
      'the click to be handled',
    );
    expect(await foreignPostState(db(), foreign)).toEqual(UNTOUCHED);
  });

  it('a ✅ on a message whose id a post of another server uses approves nothing', async () => {
    const bob = h.discord.world.people.bob;
    const message = h.discord.userMessage(bob, 'a message here');
    const foreign = await seedForeignPost(
      db(),
      { chat: 'discord', workspaceExternalId: '888888888888888888', channelId: h.discord.world.channelId, approvalMessageId: message.id },
      'FOREIGNE',
    );
    h.discord.reactionAdd(bob, message.id, '✅');
    // The reaction is looked up in this server only; give the handler time to have acted.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await foreignPostState(db(), foreign)).toEqual(UNTOUCHED);
  });
});
