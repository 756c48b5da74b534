/**
 * Issue 16 review findings, each reproduced first: an approved post that has not started can be
 * edited (with or without approvals needed); two edits at once never combine into a text nobody
 * validated; a ✅ given on the old text never counts for the new one, whether the reactions could
 * not be read at the edit, the approval message could not be updated, or the decision carries no
 * time of its own; the edit form never overwrites one account's version with another's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/harness.js';
import { requestPost, startEditsWorld } from '../helpers/edits-world.js';
import { invocation } from '../helpers/memory-chat.js';

let h: Harness;

beforeAll(async () => {
  h = await startEditsWorld();
});
afterAll(() => h?.close());

const request = (text: string) => requestPost(h, text);

const approvalIdOf = (postId: string) =>
  h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!.id;
const statusOf = async (postId: string) => String((await h.run('U_ADA', `status ${postId}`)).message.text);

function decide(messageId: string, user: string, extra: { actedAt?: Date } = {}) {
  return h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId,
    userExternalId: user,
    isBot: false,
    decision: 'approve',
    via: 'reaction',
    ...extra,
  });
}

describe('edit, under review', () => {
  it('edits an approved scheduled post that has not started: it waits for approval again', async () => {
    const postId = await request('post x,facebook in 2h Sched old');
    await h.approve(postId, 'U_BOB');
    await h.approve(postId, 'U_CAROL');
    expect(await statusOf(postId)).toContain('Post ' + postId + ': approved');
    const edited = await h.run('U_ADA', `edit ${postId} Sched new`);
    expect(edited.message.text).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    expect(await statusOf(postId)).toContain('pending approval');
    // Its publish jobs were withdrawn: approving again enqueues fresh ones.
    const jobs = await h.app.services.db
      .selectFrom('jobs')
      .select('dedupe_key')
      .where('queue', '=', 'publish')
      .where('status', '=', 'queued')
      .execute();
    expect(jobs.filter((j) => j.dedupe_key?.startsWith('publish:'))).toHaveLength(0);
  });

  it('two edits at once: the second is refused rather than combined into a text nobody checked', async () => {
    const postId = await request('post x,facebook Short');
    await h.run('U_ADA', `edit ${postId} x Short for X`);
    const long = 'b'.repeat(300);
    const replies = await Promise.all([h.run('U_ADA', `edit ${postId} ${long}`), h.run('U_ADA', `edit ${postId} x -`)]);
    const texts = replies.map((r) => String(r.message.text));
    // Whatever the order, X never ends with the 300-character caption as its text.
    const message = h.chat.channel.find((m) => m.id === approvalIdOf(postId))!.history.at(-1)!.text;
    const xHasOwnVersion = message.includes('X @acme version:');
    const captionIsLong = message.includes(`Caption: ${long}`);
    expect(captionIsLong && !xHasOwnVersion, texts.join(' | ')).toBe(false);
  });

  it('refuses an edit when the reactions on the approval message cannot be read (they would count for the new text later)', async () => {
    const postId = await request('post x,facebook Old text A');
    const approvalId = approvalIdOf(postId);
    h.chat.react(approvalId, 'U_CAROL', 'approve'); // its event never arrived
    h.chat.failReactionReads = true;
    try {
      const refused = await h.run('U_ADA', `edit ${postId} New text A`);
      expect(refused.message.text).toMatch(new RegExp(`^Post ${postId} was not changed: .*try again`));
    } finally {
      h.chat.failReactionReads = false;
    }
    expect(h.chat.channel.find((m) => m.id === approvalId)!.history.at(-1)!.text).toContain('Old text A');
  });

  it('counts no ✅ for the new text until the approval message shows it', async () => {
    const postId = await request('post x,facebook Old text M');
    const approvalId = approvalIdOf(postId);
    const original = h.chat.updateMessage.bind(h.chat);
    h.chat.updateMessage = () => Promise.reject(new Error('the chat is down (test)'));
    try {
      await h.run('U_ADA', `edit ${postId} New text M`);
    } finally {
      h.chat.updateMessage = original;
    }
    // The message still shows the old text: ✅ given on it, even after the edit, do not count.
    await decide(approvalId, 'U_BOB', { actedAt: new Date(Date.now() + 1_000) });
    await decide(approvalId, 'U_CAROL');
    expect(await statusOf(postId)).toContain('pending approval');
    // Once the message shows the new text (the expiry check shows it again), fresh ✅ count.
    await h.app.core.posts.expireDue();
    expect(h.chat.channel.find((m) => m.id === approvalId)!.history.at(-1)!.text).toContain('New text M');
    await decide(approvalId, 'U_DAVE', { actedAt: new Date(Date.now() + 60_000) });
    expect(h.chat.thread(approvalId)).toContain('approved by <@U_DAVE> (1 of 2).');
  });

  it('a ✅ with no time of its own that arrives just after the edit counts only once the message shows the new text', async () => {
    const postId = await request('post x,facebook Old F');
    const approvalId = approvalIdOf(postId);
    await h.run('U_ADA', `edit ${postId} New F`);
    // The edit showed the new text: a ✅ arriving now was given on it.
    await decide(approvalId, 'U_CAROL');
    expect(h.chat.thread(approvalId)).toContain('approved by <@U_CAROL> (1 of 2).');
  });

  it("the edit form changes only the platforms whose field was changed (one account's version never overwrites another's)", async () => {
    // Last in this file: a second X account makes `x` ambiguous for the tests above.
    expect((await h.connect('x', 'U_ADA', { account: '1500000000000000002' })).status).toBe(200);
    const second = (await h.app.services.db.selectFrom('social_accounts').select('handle').where('platform', '=', 'x').execute())
      .map((a) => a.handle!)
      .find((handle) => handle !== 'acme')!;
    const postId = await request(`post @acme,@${second} Launch on Tuesdya`);
    await h.run('U_ADA', `edit ${postId} @acme For acme`);
    await h.run('U_ADA', `edit ${postId} @${second} For support`);
    const editable = await h.app.core.posts.editable(invocation('U_ADA'), postId);
    if (!editable.ok) throw new Error(editable.text);
    const versions = new Map(editable.content.platforms.map((p) => [p.platform, p.version] as const));
    await h.app.core.inbound.submitEditForm(invocation('U_ADA'), postId, { caption: 'Launch on Tuesday', versions });
    const message = h.chat.channel.find((m) => m.id === approvalIdOf(postId))!.history.at(-1)!.text;
    expect(message).toContain('X @acme version: For acme');
    expect(message).toContain(`X @${second} version: For support`);
    expect(message).toContain('Caption: Launch on Tuesday');
  });
});
