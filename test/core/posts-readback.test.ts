/**
 * What the chat did not deliver, or did not take:
 * - a ✅/❌ given while IQSP could not receive events is read back from the approval message by
 *   the expiry check and decided as if received, under the usual rules (no self-approval, only
 *   approvers, bots ignored, each person's answer once);
 * - the approval, expiry and summary notices the chat refused are said again by the notice
 *   worker, with backoff, until the chat takes them, once each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionKind } from '../../src/core/approval.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x')).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

async function request(caption: string): Promise<{ postId: string; messageId: string }> {
  const reply = await h.run('U_ADA', `post x ${caption}`);
  const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)?.[1];
  if (!postId) throw new Error(`no post id in: ${reply.message.text}`);
  const message = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
  if (!message) throw new Error(`no approval message for ${postId}`);
  return { postId, messageId: message.id };
}

const decide = (user: string, messageId: string, decision: DecisionKind) =>
  h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId,
    userExternalId: user,
    isBot: false,
    decision,
    via: 'reaction',
  });

async function postStatus(postId: string): Promise<string> {
  return (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Time passes for the notices waiting in the queue: they are due now. */
async function noticesDueNow(): Promise<void> {
  await h.app.services.db
    .updateTable('jobs')
    .set({ run_at: new Date(Date.now() - 1000).toISOString() })
    .where('queue', '=', 'notice')
    .where('status', '=', 'queued')
    .execute();
}

describe('reactions missed while events could not be received', () => {
  it('a ✅ found on the approval message approves the post as if it had arrived', async () => {
    const { postId, messageId } = await request('Approved while we were down');
    h.chat.react(messageId, 'U_BOB', 'approve');
    expect(await postStatus(postId)).toBe('pending_approval');

    await h.app.core.cleanup.run();
    expect(await postStatus(postId)).not.toBe('pending_approval');
    const summary = await h.chat.waitFor(() => h.chat.thread(messageId).find((t) => t.startsWith(`Post ${postId}: `)), 15_000);
    expect(summary).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(h.chat.thread(messageId)[0]).toBe('approved by <@U_BOB> (1 of 1): publishing now.');
    expect(h.sims.x.published.filter((p) => p.text === 'Approved while we were down')).toHaveLength(1);
    const recorded = await h.app.services.db
      .selectFrom('approvals')
      .select(['decision', 'via', 'counted'])
      .where('post_id', '=', postId)
      .execute();
    expect(recorded).toEqual([{ decision: 'approve', via: 'reaction', counted: 1 }]);

    // Read again by the next check: nothing happens twice.
    await h.app.core.cleanup.run();
    expect(h.chat.thread(messageId).filter((t) => t.startsWith('approved by'))).toHaveLength(1);
  });

  it('a ❌ found there rejects the post, and wins over a ✅ found beside it', async () => {
    const { postId, messageId } = await request('Vetoed while we were down');
    h.chat.react(messageId, 'U_CARA', 'approve');
    h.chat.react(messageId, 'U_BOB', 'reject');
    await h.app.core.cleanup.run();
    expect(await postStatus(postId)).toBe('rejected');
    expect(h.chat.thread(messageId)).toContain('rejected by <@U_BOB>: nothing will be published.');
    expect(h.chat.thread(messageId).filter((t) => t.startsWith('approved by'))).toEqual([]);
    const versions = h.chat.channel.find((m) => m.id === messageId)!.history.map((v) => v.text.split('\n')[0]);
    expect(versions.at(-1)).toBe(`Post ${postId} from <@U_ADA>: rejected (by <@U_BOB>).`);
  });

  it('follows the approval rules: the requester, bots and non-approvers do not count, and each is answered once', async () => {
    const { postId, messageId } = await request('Only the rules count');
    h.chat.react(messageId, 'U_ADA', 'approve'); // the requester
    h.chat.react(messageId, 'U_IQSP_BOT', 'approve', true); // a bot (the app's own seeded ✅)
    h.chat.react(messageId, 'U_IQSP_BOT', 'reject', true);
    await h.app.core.cleanup.run();
    await h.app.core.cleanup.run();
    expect(await postStatus(postId)).toBe('pending_approval');
    expect(h.chat.thread(messageId)).toEqual(['<@U_ADA>: The person who asked for a post cannot approve or reject it.']);
    const bot = await h.app.services.db.selectFrom('chat_users').select('id').where('external_id', '=', 'U_IQSP_BOT').executeTakeFirst();
    expect(bot).toBeUndefined();

    expect((await h.run('U_ADA', 'approvers add <@U_CARA>', { isAdmin: true })).message.text).toContain('Approvers: <@U_CARA>');
    try {
      h.chat.react(messageId, 'U_BOB', 'approve'); // not an approver
      await h.app.core.cleanup.run();
      expect(await postStatus(postId)).toBe('pending_approval');
      expect(h.chat.thread(messageId).at(-1)).toBe('<@U_BOB>: Only the workspace approvers can approve or reject posts (see `approvers`).');
      h.chat.react(messageId, 'U_CARA', 'approve');
      await h.app.core.cleanup.run();
      expect(await postStatus(postId)).not.toBe('pending_approval');
      expect(h.chat.thread(messageId).filter((t) => t.startsWith('<@U_BOB>'))).toHaveLength(1);
      expect(h.chat.thread(messageId)).toContain('approved by <@U_CARA> (1 of 1): publishing now.');
    } finally {
      await h.run('U_ADA', 'approvers remove <@U_CARA>', { isAdmin: true });
    }
  });

  it('a chat that cannot be read leaves the post to the next check, and expiry goes on', async () => {
    const { postId, messageId } = await request('Unreadable for now');
    h.chat.react(messageId, 'U_BOB', 'approve');
    h.chat.failReactionReads = true;
    try {
      const report = await h.app.core.cleanup.run();
      expect(report.approvalsExpired).not.toContain(postId);
      expect(await postStatus(postId)).toBe('pending_approval');
    } finally {
      h.chat.failReactionReads = false;
    }
    await h.app.core.cleanup.run();
    expect(await postStatus(postId)).not.toBe('pending_approval');
  });
});

describe('notices the chat did not take', () => {
  it('the approval notice and the summary are said again once the chat is back, once each, in the thread', async () => {
    const { postId, messageId } = await request('Said when the chat is back');
    h.chat.failThreadReplies = /^(approved by|Post \w+: published)/;
    try {
      await decide('U_BOB', messageId, 'approve');
      await until(async () => (await postStatus(postId)) === 'published', 'the post to be published', 15_000);
      expect(h.chat.thread(messageId)).toEqual([expect.stringMatching(/^X @acme: published https:/)]);
      const queued = await h.app.services.db
        .selectFrom('jobs')
        .select(['payload', 'status'])
        .where('queue', '=', 'notice')
        .where('status', '=', 'queued')
        .execute();
      // Stored as the previous version wrote it too (people as <@id>): it reads `text` in a rolling upgrade.
      expect(queued.map((j) => (JSON.parse(j.payload) as { text: unknown }).text)).toEqual(
        expect.arrayContaining(['approved by <@U_BOB> (1 of 1): publishing now.', `Post ${postId}: published (1 of 1 published).`]),
      );

      // Still down when the worker tries: the notice waits longer each time (backoff).
      await noticesDueNow();
      const retried = await until(async () => {
        const jobs = await h.app.services.db
          .selectFrom('jobs')
          .select(['attempts', 'run_at', 'status'])
          .where('queue', '=', 'notice')
          .where('payload', 'like', `%${postId}%`)
          .execute();
        return jobs.length === 2 && jobs.every((j) => j.attempts >= 1 && j.status === 'queued') && jobs;
      }, 'the notice worker to try and put the notices back');
      for (const job of retried) expect(Date.parse(job.run_at)).toBeGreaterThan(Date.now() + 20_000);
    } finally {
      h.chat.failThreadReplies = undefined;
    }
    await noticesDueNow();
    await h.chat.waitFor(() => h.chat.thread(messageId).length === 3);
    const thread = h.chat.thread(messageId);
    expect(thread.filter((t) => t === 'approved by <@U_BOB> (1 of 1): publishing now.')).toHaveLength(1);
    expect(thread.filter((t) => t === `Post ${postId}: published (1 of 1 published).`)).toHaveLength(1);
    await until(
      async () =>
        (
          await h.app.services.db
            .selectFrom('jobs')
            .select('status')
            .where('queue', '=', 'notice')
            .where('payload', 'like', `%${postId}%`)
            .execute()
        ).every((j) => j.status === 'succeeded'),
      'the notices to be done',
    );
  });

  it('the expiry notice is said again once the chat is back', async () => {
    const { postId, messageId } = await request('Nobody came');
    await h.app.services.db
      .updateTable('posts')
      .set({ approval_expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', postId)
      .execute();
    h.chat.failThreadReplies = /^expired/;
    try {
      expect((await h.app.core.cleanup.run()).approvalsExpired).toContain(postId);
      expect(h.chat.thread(messageId)).toEqual([]);
    } finally {
      h.chat.failThreadReplies = undefined;
    }
    await noticesDueNow();
    const said = await h.chat.waitFor(() => h.chat.thread(messageId).find((t) => t.startsWith('expired:')));
    expect(said).toBe(`expired: nobody approved post ${postId} within 72 hours; nothing was published.`);
  });

  it('the retry notice ("trying again in …") is said again once the chat is back', async () => {
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/tweets',
      kind: 'status',
      status: 429,
      headers: {
        'x-rate-limit-limit': '100',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 1),
      },
    });
    const { postId, messageId } = await request('Rate limited while the chat is down');
    h.chat.failThreadReplies = /trying again in/;
    try {
      await decide('U_BOB', messageId, 'approve');
      await until(async () => (await postStatus(postId)) === 'published', 'the post to be published', 15_000);
      expect(h.chat.thread(messageId).some((t) => t.includes('trying again in'))).toBe(false);
    } finally {
      h.chat.failThreadReplies = undefined;
    }
    await noticesDueNow();
    const said = await h.chat.waitFor(() => h.chat.thread(messageId).find((t) => t.includes('trying again in')));
    expect(said).toMatch(/^X @acme: .*; trying again in \d+ (ms|s) \(attempt 2 of 5\)\.$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.chat.thread(messageId).filter((t) => t.includes('trying again in'))).toHaveLength(1);
  });

  it('a notice the chat took at once is not said again', async () => {
    const { postId, messageId } = await request('Said once');
    await decide('U_BOB', messageId, 'approve');
    await until(async () => (await postStatus(postId)) === 'published', 'the post to be published', 15_000);
    await h.chat.waitFor(() => h.chat.thread(messageId).some((t) => t.startsWith(`Post ${postId}:`)));
    await noticesDueNow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.chat.thread(messageId).filter((t) => t.startsWith('approved by'))).toHaveLength(1);
    expect(h.chat.thread(messageId).filter((t) => t.startsWith(`Post ${postId}:`))).toHaveLength(1);
  });
});
