/**
 * Reconnect and resume (issue 17): an approved X target whose token refresh X refuses waits
 * (`waiting for reconnect`, said once in the thread with who can fix it) instead of failing, and
 * publishes once, by itself, when its connector connects the account again.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
});
afterAll(() => h?.close());

describe('a target whose account needs reconnecting', () => {
  it('waits, then publishes once after the reconnect; the thread says both', async () => {
    const account = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
    // The person removed the app at x.com: the token and its refresh are refused.
    h.sims.x.revokeAccount(account.platform_account_id);
    const reply = await h.run('U_ADA', 'post x Waiting for you');
    const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
    const approvalId = await h.approve(postId);
    const waiting = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.includes('waiting for reconnect')), 15_000);
    expect(waiting).toMatch(
      /^X @acme: waiting for reconnect: .+\. <@U_ADA> \(who connected it\) or an admin can fix it with `connect x`; it publishes by itself once the account is connected again\.$/,
    );
    expect((await h.run('U_BOB', `status ${postId}`)).message.text).toContain('X @acme: waiting for reconnect: ');
    expect((await h.run('U_BOB', 'accounts')).message.text).toContain('needs reconnect');
    expect(h.sims.x.published).toHaveLength(0);

    expect((await h.connect('x', 'U_ADA')).status).toBe(200);
    const summary = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(summary).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(h.sims.x.published.filter((t) => t.text === 'Waiting for you')).toHaveLength(1);
    expect(h.chat.thread(approvalId).filter((t) => t.includes('waiting for reconnect'))).toHaveLength(1);
  });

  it('fails with the reason when its media would be deleted before the account is back', async () => {
    let clock = new Date();
    const w = await startHarness({ app: { now: () => clock }, env: { MEDIA_TTL_HOURS: '2' } });
    try {
      expect((await w.connect('x', 'U_ADA')).status).toBe(200);
      const account = await w.app.services.db
        .selectFrom('social_accounts')
        .selectAll()
        .where('platform', '=', 'x')
        .executeTakeFirstOrThrow();
      w.sims.x.revokeAccount(account.platform_account_id);
      const image = await sharp({ create: { width: 600, height: 600, channels: 3, background: { r: 10, g: 120, b: 200 } } })
        .jpeg()
        .toBuffer();
      const reply = await w.run('U_ADA', 'post x With a photo', {}, [{ name: 'photo.jpg', body: image }]);
      const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))![1]!;
      const approvalId = await w.approve(postId);
      await w.chat.waitFor(() => w.chat.thread(approvalId).find((t) => t.includes('waiting for reconnect')), 15_000);
      // Nobody reconnects; the media is due to be deleted two hours after it came in.
      for (let step = 0; step < 10; step += 1) {
        clock = new Date(clock.getTime() + 15 * 60_000);
        const over = w.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`));
        if (over) break;
        await new Promise((r) => setTimeout(r, 150));
      }
      const line = await w.chat.waitFor(() => w.chat.thread(approvalId).find((t) => t.startsWith('X @acme: failed')), 15_000);
      expect(line).toContain('it waited for the account to be connected again until its media was due to be deleted');
      expect(line).toContain('`connect x`');
      expect(w.sims.x.published).toHaveLength(0);
    } finally {
      await w.close();
    }
  });
});
