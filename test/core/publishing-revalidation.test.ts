/**
 * Issue 15: "Validation runs at request time and again just before publishing". A post approved
 * long before its time (a scheduled one) meets the platform's rules as this install applies them
 * when it publishes: a target that no longer passes fails with the reasons, the others publish.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
  expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

describe('the checks run again just before publishing', () => {
  it('fails the target that no longer passes, with the reasons, and publishes the others', async () => {
    const reply = await h.run('U_ADA', 'post x,facebook Launch day');
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
    // Between the request and its publishing, X's rules (as this install applies them) changed.
    const x = h.app.core.publishers.get('x')!;
    vi.spyOn(x, 'validate').mockReturnValue([{ code: 'caption_too_long', message: 'X allows 280 characters; this caption counts 301' }]);
    const approvalId = await h.approve(postId);
    const summary = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(summary).toBe(`Post ${postId}: partial (1 of 2 published).`);
    const lines = h.chat.thread(approvalId);
    expect(lines).toContain(
      "X @acme: failed — it no longer passes X's checks (X allows 280 characters; this caption counts 301); nothing was published there. Fix it and post again.",
    );
    expect(lines).toContainEqual(expect.stringMatching(/^Facebook Acme Inc: published https:\/\/\S+$/));
    expect(h.sims.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets')).toHaveLength(0);
  });
});
