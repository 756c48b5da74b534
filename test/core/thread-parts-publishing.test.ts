/**
 * Issue 16, threads through the real entry points: a `---` caption posted to X and Facebook is a
 * chain of replies on X (media on the first, one link) and one post on Facebook with the parts
 * joined by a blank line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
  expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
});
afterAll(() => h?.close());

const approve = (postId: string) => h.approve(postId);

describe('a --- caption', () => {
  it('is a thread of replies on X and one post with blank lines on Facebook', async () => {
    const reply = await h.run('U_ADA', 'post x,facebook Launch day! --- What is new: faster. --- Thanks for reading.');
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
    const approvalId = await approve(postId);
    const summary = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(summary).toBe(`Post ${postId}: published (2 of 2 published).`);

    const first = h.sims.x.published.find((t) => t.text === 'Launch day!')!;
    expect(h.sims.x.thread(first.id).map((t) => t.text)).toEqual(['Launch day!', 'What is new: faster.', 'Thanks for reading.']);
    expect(h.chat.thread(approvalId)).toContain(`X @acme: published https://x.com/acme/status/${first.id} (a thread of 3 posts)`);
    expect(h.sims.graph.published.map((p) => p.caption)).toContain('Launch day!\n\nWhat is new: faster.\n\nThanks for reading.');
  });
});
