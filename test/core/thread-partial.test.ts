/**
 * Issue 16, a thread that fails midway through the real entry points (the harness, h.approve): the
 * target is `partial` with its live parts named and linked, the post is `partial` (something is
 * live), `status` shows the live parts, and `retry` sends only the parts not live, chained to the
 * live ones, until the post is `published`. A part X refused for its content is not retried: the
 * reply says what is live and what a person can do instead.
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
  const approvalId = await h.approve(postId);
  const thread = () => h.chat.thread(approvalId);
  await h.chat.waitFor(() => thread().find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
  return { postId, thread };
}

const tweetsWith = (text: string) => h.sims.x.published.filter((t) => t.text === text);

/** X answers 409 (retryable) to the `n`th POST /2/tweets from now and every one after it, `times` in all. */
function conflictFrom(n: number, times: number): void {
  let seen = 0;
  h.sims.x.faults.push({
    kind: 'status',
    status: 409,
    body: { title: 'Conflict', detail: 'Try again.', type: 'about:blank' },
    times,
    match: (method, path) => method === 'POST' && path === '/2/tweets' && ++seen >= n,
  });
}

describe('a thread of 3 that fails on part 2', () => {
  it('retryably until its attempts are spent: partial with part 1 live; `retry` sends parts 2–3 only, chained; the post ends published', async () => {
    // Attempt 1 posts part 1, then part 2 fails; attempts 2–5 each fail on part 2 again.
    conflictFrom(2, 5);
    const { postId, thread } = await publish('Partial one --- Partial two --- Partial three');
    const [first] = tweetsWith('Partial one');
    const link = `https://x.com/acme/status/${first!.id}`;
    expect(tweetsWith('Partial two')).toHaveLength(0);
    expect(thread()).toContainEqual(
      expect.stringMatching(/^X @acme: part 2 of 3: X could not complete the request \(409\).*; trying again in .* \(attempt 2 of 5\)\.$/),
    );
    const result = thread().find((t) => t.startsWith('X @acme: partial'));
    expect(result).toBe(
      `X @acme: partial — part 1 of 3 is live (${link}); part 2 failed: X could not complete the request (409) (X said: Try again); try again. \`retry ${postId}\` sends parts 2–3.`,
    );
    expect(thread().at(-1)).toBe(`Post ${postId}: partial (0 of 1 published, 1 partly live).`);

    const status = (await h.run('U_ADA', `status ${postId}`)).message.text;
    expect(status).toContain(`Post ${postId}: partial`);
    expect(status).toContain(`• X @acme: partial: part 1 of 3 is live (${link}); part 2 failed: X could not complete the request (409)`);

    expect((await h.run('U_ADA', `retry ${postId}`)).message.text).toBe(`Retrying X @acme (parts 2–3) of post ${postId}.`);
    await h.chat.waitFor(() => thread().find((t) => t === `Post ${postId}: published (1 of 1 published).`), 15_000);
    expect(thread()).toContain('retrying X @acme (parts 2–3) (asked by <@U_ADA>).');
    expect(thread()).toContain(`X @acme: published ${link} (a thread of 3 posts)`);
    expect(h.sims.x.thread(first!.id).map((t) => t.text)).toEqual(['Partial one', 'Partial two', 'Partial three']);
    for (const text of ['Partial one', 'Partial two', 'Partial three']) expect(tweetsWith(text)).toHaveLength(1);
    expect((await h.run('U_ADA', `status ${postId}`)).message.text).toContain(`• X @acme: published ${link}`);
  });

  it('refused for its content: partial with part 1 live, and `retry` says why it sends nothing and what to do', async () => {
    h.sims.x.faultOnTweet(2, {
      kind: 'status',
      status: 403,
      body: { title: 'Forbidden', detail: 'You are not permitted to perform this action.', type: 'about:blank', status: 403 },
    });
    const { postId, thread } = await publish('Refused one --- Refused two --- Refused three');
    const [first] = tweetsWith('Refused one');
    const link = `https://x.com/acme/status/${first!.id}`;
    expect(thread()).toContain(
      `X @acme: partial — part 1 of 3 is live (${link}); part 2 failed: X refused this post (X said: You are not permitted to perform this action). A retry would be refused again: reply to part 1 at X with parts 2–3, or delete it there and post the thread again.`,
    );
    expect(thread().at(-1)).toBe(`Post ${postId}: partial (0 of 1 published, 1 partly live).`);
    const sent = h.sims.x.published.length;
    const retry = (await h.run('U_ADA', `retry ${postId}`)).message.text;
    expect(retry).toBe(
      `Post ${postId} has no target that failed for a reason a retry can fix. X @acme: part 1 of 3 is live (${link}); part 2 failed: X refused this post (X said: You are not permitted to perform this action). A retry would be refused again: reply to part 1 at X with parts 2–3, or delete it there and post the thread again.`,
    );
    expect(h.sims.x.published.length).toBe(sent);
    expect(tweetsWith('Refused two')).toHaveLength(0);
  });
});
