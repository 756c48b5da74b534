/**
 * The process's own counters on `/metrics`: every target result recorded
 * (`iqsp_publish_total{platform,outcome}`) and every refresh request sent to a platform
 * (`iqsp_token_refresh_total{platform,outcome}`), driven end to end through chat, the worker
 * and the X simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x')).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

async function metric(series: string): Promise<number> {
  const text = await (await fetch(`${h.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Posts `caption` to X, approves it as Bob and waits for the post's summary in its thread. */
async function publish(caption: string): Promise<string> {
  const reply = await h.run('U_ADA', `post x ${caption}`);
  const postId = /Post ([A-Z0-9]+) is waiting for approval/.exec(reply.message.text)?.[1];
  if (!postId) throw new Error(`no post id in: ${reply.message.text}`);
  const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
  await h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId: approval.id,
    userExternalId: 'U_BOB',
    isBot: false,
    decision: 'approve',
    via: 'reaction',
  });
  return h.chat.waitFor(() => h.chat.thread(approval.id).find((line) => line.startsWith(`Post ${postId}: `)), 15_000);
}

describe('publish and token refresh counters', () => {
  it('count each recorded result by platform and outcome, and each refresh request by outcome', async () => {
    const account = await h.app.services.db
      .selectFrom('social_accounts')
      .select('id')
      .where('platform', '=', 'x')
      .executeTakeFirstOrThrow();
    // X says the access token expired: one refresh, then the post goes out.
    h.sims.x.expireAccessToken((await h.app.core.tokens.validTokens(account.id)).accessToken);
    expect(await publish('Counted once')).toMatch(/: published \(1 of 1 published\)\.$/);
    expect(await metric('iqsp_publish_total{platform="x",outcome="published"}')).toBe(1);
    expect(await metric('iqsp_token_refresh_total{platform="x",outcome="refreshed"}')).toBe(1);

    // X refuses the post itself: a failed result, counted as such.
    h.sims.x.faults.push({ match: (m, p) => m === 'POST' && p === '/2/tweets', kind: 'status', status: 400 });
    expect(await publish('Refused by X')).toMatch(/: failed \(0 of 1 published\)\.$/);
    expect(await metric('iqsp_publish_total{platform="x",outcome="failed"}')).toBe(1);
    expect(await metric('iqsp_publish_total{platform="x",outcome="published"}')).toBe(1);

    // X refuses the refresh for good (the person removed the app): rejected.
    h.sims.x.revokeAccount(
      (
        await h.app.services.db
          .selectFrom('social_accounts')
          .select('platform_account_id')
          .where('id', '=', account.id)
          .executeTakeFirstOrThrow()
      ).platform_account_id,
    );
    await expect(h.app.core.tokens.refresh(account.id)).rejects.toThrow();
    expect(await metric('iqsp_token_refresh_total{platform="x",outcome="rejected"}')).toBe(1);
    expect(await metric('iqsp_token_refresh_total{platform="x",outcome="refreshed"}')).toBe(1);
  });
});
