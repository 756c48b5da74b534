/**
 * Issue 16, edits through the command grammar on the whole service (in-memory chat, real
 * publishers against the simulators): an edit withdraws the approvals counted so far, a ✅ given
 * before it no longer counts, a target's own version goes to its platform only, and a refused
 * edit changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/harness.js';
import { requestPost, startEditsWorld } from '../helpers/edits-world.js';

let h: Harness;

beforeAll(async () => {
  h = await startEditsWorld();
});
afterAll(() => h?.close());

const request = (text: string) => requestPost(h, text);

function decide(postId: string, messageId: string, user: string, decision: 'approve' | 'withdraw') {
  return h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId,
    userExternalId: user,
    isBot: false,
    decision,
    via: 'reaction',
  });
}

describe('edit', () => {
  it('starts the approvals over: a ✅ from before the edit does not count, fresh ones publish the new text', async () => {
    const postId = await request('post x,facebook Launch on Tuesdya');
    const approvalId = await h.approve(postId, 'U_BOB');
    expect(h.chat.thread(approvalId)).toContain('approved by <@U_BOB> (1 of 2).');

    const edited = await h.run('U_ADA', `edit ${postId} Launch on Tuesday`);
    expect(edited.message.text).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    const notice = h.chat.thread(approvalId).find((t) => t.startsWith('edited by'))!;
    expect(notice).toContain('Caption:\n- Launch on Tuesdya\n+ Launch on Tuesday');
    expect(notice).toContain('approvals start over (0 of 2)');

    // Carol's ✅ is the only one counting now: Bob's was for the old text.
    await h.approve(postId, 'U_CAROL');
    expect(h.chat.thread(approvalId)).toContain('approved by <@U_CAROL> (1 of 2).');
    expect(h.sims.x.published).toHaveLength(0);

    // Bob takes his ✅ off (nothing counted to withdraw) and adds it again: now it counts.
    await decide(postId, approvalId, 'U_BOB', 'withdraw');
    await decide(postId, approvalId, 'U_BOB', 'approve');
    const summary = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(summary).toBe(`Post ${postId}: published (2 of 2 published).`);
    expect(h.sims.x.published.map((t) => t.text)).toContain('Launch on Tuesday');
    expect(h.sims.x.published.map((t) => t.text)).not.toContain('Launch on Tuesdya');
  });

  it("sets a target's own version, published to that platform only; `-` removes it", async () => {
    const postId = await request('post x,facebook A long announcement for Facebook readers');
    const approvalId = h.chat.channel.find((m) => m.history[0]!.text.startsWith(`Post ${postId} from`))!.id;
    await h.run('U_ADA', `edit ${postId} x Short one for X`);
    await h.run('U_ADA', `edit ${postId} facebook Facebook's own`);
    expect((await h.run('U_ADA', `edit ${postId} facebook -`)).message.text).toContain('approvals start over');
    const message = h.chat.channel.find((m) => m.id === approvalId)!;
    expect(message.history.at(-1)!.text).toContain('X @acme version: Short one for X');
    await h.approve(postId, 'U_BOB');
    await h.approve(postId, 'U_CAROL');
    await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(h.sims.x.published.map((t) => t.text)).toContain('Short one for X');
    expect(h.sims.graph.published.map((p) => p.caption)).toContain('A long announcement for Facebook readers');
  });

  it('refuses what fails validation and changes nothing', async () => {
    const postId = await request('post x Short');
    const refused = await h.run('U_ADA', `edit ${postId} ${'a'.repeat(281)}`);
    expect(refused.message.text).toContain(`Post ${postId} was not changed`);
    expect(refused.message.text).toContain('X allows 280 characters; this caption counts 281.');
    const status = await h.run('U_ADA', `status ${postId}`);
    expect(status.message.text).toContain('pending approval');
    const other = await h.run('U_BOB', `edit ${postId} Mine now`);
    expect(other.message.text).toBe(`Only the person who asked for post ${postId} can edit it.`);
    expect((await h.run('U_ADA', `edit ${postId} tiktok Hi`)).message.text).toContain('it has no target tiktok');
  });
});
