/**
 * Issue 17 review findings, each reproduced by the reviewer on the code before the fix: a
 * text-only target waits until its deadline and says so once; verify never claims another post
 * (a thread's part, an identical post IQSP already holds); a reconnect during a run or a health
 * check is not undone; platforms' error texts are redacted in the health DM and `accounts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let w: Harness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const postIdOf = (text: unknown) => /Post ([A-Z0-9]+) is waiting/.exec(String(text))![1]!;
const TWEET = (method: string, path: string) => method === 'POST' && path === '/2/tweets';

describe('issue 17, under review', () => {
  it('a text-only target waiting for a reconnect fails at its deadline, and says it waits once', async () => {
    let clock = new Date();
    w = await startHarness({ app: { now: () => clock }, env: { MEDIA_TTL_HOURS: '1' } });
    const h = w;
    expect((await h.connect('x', 'U_ADA')).status).toBe(200);
    const account = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
    h.sims.x.revokeAccount(account.platform_account_id);
    const postId = postIdOf((await h.run('U_ADA', 'post x Text only waiting')).message.text);
    const approvalId = await h.approve(postId);
    await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.includes('waiting for reconnect')), 15_000);
    const target = () => h.app.services.db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();
    for (let step = 0; step < 8 && (await target()).status === 'queued'; step += 1) {
      const before = (await target()).updated_at;
      clock = new Date(clock.getTime() + 15 * 60_000);
      await expect
        .poll(async () => (await target()).updated_at !== before || (await target()).status !== 'queued', { timeout: 5_000 })
        .toBe(true);
    }
    expect((await target()).status).toBe('failed');
    const line = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith('X @acme: failed')), 15_000);
    expect(line).toContain('it waited for the account to be connected again');
    expect(h.chat.thread(approvalId).filter((t) => t.includes('waiting for reconnect'))).toHaveLength(1);
  });

  it("verify does not take a thread's part or an identical post IQSP already holds for the lost one", async () => {
    w = await startHarness();
    const h = w;
    expect((await h.connect('x')).status).toBe(200);
    const tag = Date.now();
    const a = postIdOf((await h.run('U_ADA', `post x Intro ${tag}\n---\nSame words ${tag}`)).message.text);
    const approvalA = await h.approve(a);
    await h.chat.waitFor(() => h.chat.thread(approvalA).find((t) => t.startsWith(`Post ${a}: published`)), 15_000);
    const single = postIdOf((await h.run('U_ADA', `post x Identical ${tag}`)).message.text);
    const approvalS = await h.approve(single);
    await h.chat.waitFor(() => h.chat.thread(approvalS).find((t) => t.startsWith(`Post ${single}: published`)), 15_000);

    for (const caption of [`Same words ${tag}`, `Identical ${tag}`]) {
      // X never receives this one (the connection drops before it).
      h.sims.x.faults.push({ match: TWEET, kind: 'reset', process: false });
      const b = postIdOf((await h.run('U_ADA', `post x ${caption}`)).message.text);
      const approvalB = await h.approve(b);
      await h.chat.waitFor(() => h.chat.thread(approvalB).find((t) => t.startsWith(`Post ${b}: partial`)), 15_000);
      const at = new Date(Date.now() - 120_000).toISOString();
      await h.app.services.db.updateTable('post_targets').set({ committed_at: at, updated_at: at }).where('post_id', '=', b).execute();
      const reply = await h.run('U_CAROL', `verify ${b}`);
      expect(String(reply.message.text), caption).toMatch(/X @acme: failed — not published/);
    }
  });

  it('a refusal or an error text from a platform is redacted in the health DM and in `accounts`', async () => {
    w = await startHarness();
    const h = w;
    expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
    h.sims.graph.faults.push({
      match: (method, path) => method === 'GET' && path.endsWith('/debug_token'),
      kind: 'status',
      status: 200,
      body: {
        data: { is_valid: false, error: { message: 'Error validating access_token=EAABsecretTOKEN12345 Bearer EAABsecretTOKEN12345' } },
      },
    });
    await h.app.core.health.run();
    expect(h.chat.privateTexts('U_ADA').join(' ')).toContain('needs reconnect');
    expect(h.chat.privateTexts('U_ADA').join(' ')).not.toContain('EAABsecretTOKEN12345');
    expect(String((await h.run('U_BOB', 'accounts')).message.text)).not.toContain('EAABsecretTOKEN12345');
  });

  it('a reconnect made during a health check is not undone, and no reminder follows it', async () => {
    w = await startHarness();
    const h = w;
    expect((await h.connect('x', 'U_ADA')).status).toBe(200);
    const account = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
    h.sims.x.revokeAccount(account.platform_account_id);
    h.sims.x.faults.push({ match: (m, p) => m === 'GET' && p === '/2/users/me', kind: 'slow', ms: 1_500, times: 1 });
    const run = h.app.core.health.run();
    await new Promise((r) => setTimeout(r, 400));
    expect((await h.connect('x', 'U_ADA')).status).toBe(200);
    await run;
    const after = await h.app.services.db.selectFrom('social_accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
    expect(after.status).toBe('active');
    expect(h.chat.privateTexts('U_ADA').filter((t) => t.includes('needs reconnect'))).toEqual([]);
  });

  it('a reconnect made while a publish is refused is not undone: the post goes out once', async () => {
    w = await startHarness();
    const h = w;
    expect((await h.connect('x', 'U_ADA')).status).toBe(200);
    const account = await h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
    h.sims.x.revokeAccount(account.platform_account_id);
    h.sims.x.faults.push({ match: (m, p) => m === 'POST' && p === '/2/oauth2/token', kind: 'slow', ms: 1_500, times: 1 });
    const postId = postIdOf((await h.run('U_ADA', 'post x Race with reconnect')).message.text);
    const approvalId = await h.approve(postId);
    const target = () => h.app.services.db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();
    await expect.poll(async () => (await target()).status, { timeout: 10_000 }).toBe('publishing');
    await new Promise((r) => setTimeout(r, 300));
    expect((await h.connect('x', 'U_ADA')).status).toBe(200);
    const summary = await h.chat.waitFor(() => h.chat.thread(approvalId).find((t) => t.startsWith(`Post ${postId}:`)), 15_000);
    expect(summary).toBe(`Post ${postId}: published (1 of 1 published).`);
    const after = await h.app.services.db.selectFrom('social_accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
    expect(after.status).toBe('active');
    expect(h.sims.x.published.filter((t) => t.text === 'Race with reconnect')).toHaveLength(1);
  });
});
