/**
 * Issue 16, durable thread progress through the real entry points: each live part is recorded
 * before the next is sent. A thread failing on part 2 leaves part 1 live and says so; a retryable
 * failure resumes from part 2 and never sends part 1 again; an unknown outcome on part 2 is
 * `unconfirmed`, and nothing is resent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
});
afterAll(() => h?.close());

/** Posts `caption` to X, approves it, and waits for the post's summary; the approval message's thread. */
async function publish(caption: string): Promise<{ postId: string; thread: () => string[] }> {
  const reply = await h.run('U_ADA', `post x ${caption}`);
  const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
  const approval = { id: await h.approve(postId) };
  const thread = () => h.chat.thread(approval.id);
  await h.chat.waitFor(() => thread().find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
  return { postId, thread };
}

async function liveParts(postId: string): Promise<string[]> {
  const row = await h.app.services.db
    .selectFrom('post_targets')
    .select('live_parts')
    .where('post_id', '=', postId)
    .executeTakeFirstOrThrow();
  return JSON.parse(row.live_parts ?? '[]') as string[];
}

const tweetsWith = (text: string) => h.sims.x.published.filter((t) => t.text === text);

describe('a thread that fails on part 2', () => {
  it('after a retryable failure, resumes from part 2: each part is sent once, one link, the number of posts', async () => {
    h.sims.x.faultOnTweet(2, { kind: 'status', status: 409, body: { title: 'Conflict', detail: 'Try again.', type: 'about:blank' } });
    const { postId, thread } = await publish('Resume one --- Resume two --- Resume three');
    const [first] = tweetsWith('Resume one');
    expect(h.sims.x.thread(first!.id).map((t) => t.text)).toEqual(['Resume one', 'Resume two', 'Resume three']);
    for (const text of ['Resume one', 'Resume two', 'Resume three']) expect(tweetsWith(text)).toHaveLength(1);
    // The retry notice names the part tried again (the result line, had it failed, would name the live parts).
    expect(thread()).toContainEqual(expect.stringMatching(/^X @acme: part 2 of 3: X could not complete the request \(409\)/));
    expect(thread()).toContain(`X @acme: published https://x.com/acme/status/${first!.id} (a thread of 3 posts)`);
    expect(thread()).toContain(`Post ${postId}: published (1 of 1 published).`);
    expect(await liveParts(postId)).toEqual(h.sims.x.thread(first!.id).map((t) => t.id));
  });

  it('refused for good, leaves part 1 live, recorded, and the result line says it is partial', async () => {
    h.sims.x.faultOnTweet(2, {
      kind: 'status',
      status: 403,
      body: { title: 'Forbidden', detail: 'You are not permitted to perform this action.', type: 'about:blank', status: 403 },
    });
    const { postId, thread } = await publish('Refused one --- Refused two --- Refused three');
    const [first] = tweetsWith('Refused one');
    expect(tweetsWith('Refused two')).toHaveLength(0);
    expect(thread()).toContain(
      `X @acme: partial — part 1 of 3 is live (https://x.com/acme/status/${first!.id}); part 2 failed: X refused this post (X said: You are not permitted to perform this action). A retry would be refused again: reply to part 1 at X with parts 2–3, or delete it there and post the thread again.`,
    );
    expect(await liveParts(postId)).toEqual([first!.id]);
  });

  it('with an unknown outcome on part 2, is unconfirmed with part 1 live, and nothing is sent again', async () => {
    h.sims.x.faultOnTweet(2, { kind: 'status', status: 503 });
    const { postId, thread } = await publish('Unknown one --- Unknown two --- Unknown three');
    const [first] = tweetsWith('Unknown one');
    expect(thread()).toContain(
      `X @acme: unconfirmed — part 1 of 3 is live (https://x.com/acme/status/${first!.id}); part 2: X answered 503 while posting; X may have published it. Check before posting again.`,
    );
    expect(tweetsWith('Unknown one')).toHaveLength(1);
    expect(tweetsWith('Unknown three')).toHaveLength(0);
    expect(await liveParts(postId)).toEqual([first!.id]);
  });

  it('when the connection drops after X created part 2, is unconfirmed with part 1 named live, and part 3 is never sent', async () => {
    h.sims.x.faultOnTweet(2, { kind: 'reset', process: true });
    const { postId, thread } = await publish('Dropped one --- Dropped two --- Dropped three');
    const [first] = tweetsWith('Dropped one');
    expect(thread()).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^X @acme: unconfirmed — part 1 of 3 is live \\(https://x\\.com/acme/status/${first!.id}\\); part 2: X did not answer while posting`,
        ),
      ),
    );
    expect(tweetsWith('Dropped two')).toHaveLength(1);
    expect(tweetsWith('Dropped three')).toHaveLength(0);
    expect(await liveParts(postId)).toEqual([first!.id]);
  });

  it('a run that died after marking part 2: the next run finds the marker, unconfirmed naming part 1 live, nothing resent', async () => {
    // Part 2 is rate limited until X's reset (15 minutes): the target waits with part 1 live.
    h.sims.x.faultOnTweet(2, { kind: 'status', status: 429 });
    const reply = await h.run('U_ADA', 'post x Died one --- Died two --- Died three');
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
    const approvalId = await h.approve(postId);
    const thread = () => h.chat.thread(approvalId);
    await h.chat.waitFor(() => thread().find((t) => /trying again in/.test(t)), 15_000);
    const [first] = tweetsWith('Died one');
    const db = h.app.services.db;
    const target = await db.selectFrom('post_targets').select(['id', 'live_parts']).where('post_id', '=', postId).executeTakeFirstOrThrow();
    expect(JSON.parse(target.live_parts ?? '[]')).toEqual([first!.id]);
    // As a run would leave it had it set the marker for part 2 and died before X answered; its job due now.
    await db.updateTable('post_targets').set({ committed_at: new Date().toISOString() }).where('id', '=', target.id).execute();
    await db
      .updateTable('jobs')
      .set({ run_at: new Date(Date.now() - 1000).toISOString() })
      .where('dedupe_key', '=', `publish:${target.id}`)
      .execute();
    await h.chat.waitFor(() => thread().find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(thread()).toContain(
      `X @acme: unconfirmed — part 1 of 3 is live (https://x.com/acme/status/${first!.id}); part 2: IQSP stopped while X was publishing it; it may or may not be live. Check before posting again.`,
    );
    expect(tweetsWith('Died one')).toHaveLength(1);
    expect(tweetsWith('Died two')).toHaveLength(0);
  });

  it('a caption without --- is one post, recorded as one live part', async () => {
    const { postId, thread } = await publish('Just one post');
    const [tweet] = tweetsWith('Just one post');
    expect(thread()).toContain(`X @acme: published https://x.com/acme/status/${tweet!.id}`);
    expect(await liveParts(postId)).toEqual([tweet!.id]);
  });
});
