/**
 * A post's whole life, end to end: request and validation, approval rules, durable
 * publishing to the simulated platforms, results in the thread, retries, and cleanup.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionKind } from '../../src/core/approval.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let png: Buffer;

beforeAll(async () => {
  h = await startHarness();
  png = await sharp({ create: { width: 1080, height: 1080, channels: 3, background: '#1d9bd1' } })
    .png()
    .toBuffer();
  for (const [platform, choice] of [
    ['x'],
    ['tiktok'],
    ['facebook', { pages: ['100000000000001'] }],
    ['instagram', { pages: ['100000000000001'] }],
  ] as const)
    expect((await h.connect(platform, 'U_ADA', choice)).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

function postIdOf(text: string): string {
  const id = /Post ([A-Z0-9]+) is waiting for approval/.exec(text)?.[1];
  if (!id) throw new Error(`no post id in: ${text}`);
  return id;
}

function approvalMessage(postId: string) {
  const message = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
  if (!message) throw new Error(`no approval message for ${postId}`);
  return message;
}

const react = (user: string, postId: string, decision: DecisionKind) =>
  h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId: approvalMessage(postId).id,
    userExternalId: user,
    isBot: false,
    decision,
    via: 'reaction',
  });

const thread = (postId: string) => h.chat.thread(approvalMessage(postId).id);
const waitForThread = (postId: string, pattern: RegExp) => h.chat.waitFor(() => thread(postId).find((t) => pattern.test(t)), 15_000);
const postStatus = async (postId: string) =>
  (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;

describe('a post to all four platforms', () => {
  it('is validated, shown for approval, approved by a teammate, published everywhere, with links in the thread', async () => {
    const reply = await h.run('U_ADA', 'post x,facebook,instagram,tiktok:public Launch day! https://example.com', {}, [
      { name: 'launch.png', body: png },
    ]);
    expect(reply.visibility).toBe('private');
    const postId = postIdOf(reply.message.text);
    const approval = approvalMessage(postId);
    expect(approval.message.text).toContain(`Post ${postId} from <@U_ADA> needs 1 approval(s)`);
    expect(approval.message.text).toContain('Targets: X @acme, Facebook Acme Inc, Instagram @acme, TikTok @acme');
    expect(approval.message.text).toContain('Caption: Launch day! https://example.com');
    expect(approval.message.text).toContain('Media: image 1080×1080');
    expect(approval.message.imageUrl).toMatch(new RegExp(`^${h.base}/media/`));

    await react('U_BOB', postId, 'approve');
    const summary = await waitForThread(postId, /^Post [A-Z0-9]+: published/);
    expect(summary).toBe(`Post ${postId}: published (4 of 4 published).`);
    const lines = thread(postId);
    expect(lines[0]).toBe('approved by <@U_BOB> (1 of 1): publishing now.');
    expect(lines).toContainEqual(expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Facebook Acme Inc: published https:\/\/\S+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/\S+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^TikTok @acme: published https:\/\/\S+$/));
    expect(await postStatus(postId)).toBe('published');
    expect(approvalMessage(postId).message.text).toMatch(new RegExp(`^Post ${postId} from <@U_ADA>: published \\(4 of 4 published\\)`));

    expect(h.sims.x.published.at(-1)).toMatchObject({ text: 'Launch day! https://example.com' });
    expect(h.sims.x.published.at(-1)!.media).toHaveLength(1);
    expect(h.sims.tiktok.published.length).toBeGreaterThan(0);
    expect(h.sims.graph.published.filter((p) => p.platform === 'instagram')).toHaveLength(1);
    expect(h.sims.graph.published.filter((p) => p.platform === 'facebook')).toHaveLength(1);
  });
});

describe('validation', () => {
  it('lists every problem, per target, and requests nothing', async () => {
    const before = { x: h.sims.x.published.length, graph: h.sims.graph.published.length, tiktok: h.sims.tiktok.published.length };
    const posts = await h.app.services.db.selectFrom('posts').select('id').execute();
    const reply = await h.run('U_ADA', `post x,instagram,tiktok ${'a'.repeat(301)}`);
    expect(reply.message.text).toContain('Nothing was posted. Fix these and try again:');
    expect(reply.message.text).toContain('• X @acme: X allows 280 characters; this caption counts 301.');
    expect(reply.message.text).toMatch(/• Instagram @acme: .*(image|video|media)/i);
    expect(reply.message.text).toMatch(/• TikTok @acme: TikTok @acme needs a privacy level: add tiktok:\w+/);
    expect(await h.app.services.db.selectFrom('posts').select('id').execute()).toEqual(posts);
    expect({ x: h.sims.x.published.length, graph: h.sims.graph.published.length, tiktok: h.sims.tiktok.published.length }).toEqual(before);
  });

  it('when a platform has several accounts, says how to name each one', async () => {
    const db = h.app.services.db;
    const page = await db.selectFrom('social_accounts').selectAll().where('platform', '=', 'facebook').executeTakeFirstOrThrow();
    // A second Page with no handle (Pages have none), as a Meta login granting two Pages gives.
    await db
      .insertInto('social_accounts')
      .values({ ...page, id: 'second-page', platform_account_id: '100000000000999', display_name: 'Acme Shop', handle: null })
      .execute();
    try {
      const reply = await h.run('U_ADA', 'post facebook Which one?');
      expect(reply.message.text).toContain(
        `• Several Facebook accounts are connected (Facebook ${page.display_name}, Facebook Acme Shop); name one: @${page.handle ?? page.display_name!.replace(/\s+/g, '')} or @AcmeShop.`,
      );
      // Naming one works, and names that Page only (X @acme is also "Acme Inc", but it has a handle).
      for (const name of ['@AcmeShop', `@${page.display_name!.replace(/\s+/g, '')}`]) {
        const named = await h.run('U_ADA', `post ${name} Hello from one Page`);
        expect(named.message.text, name).toMatch(/^Post [A-Z0-9]+ is waiting for approval/);
        const postId = postIdOf(named.message.text);
        const targets = await db.selectFrom('post_targets').select('platform').where('post_id', '=', postId).execute();
        expect(targets, name).toEqual([{ platform: 'facebook' }]);
        await h.run('U_ADA', `cancel ${postId}`);
      }
    } finally {
      await db.deleteFrom('post_targets').where('account_id', '=', 'second-page').execute();
      await db.deleteFrom('social_accounts').where('id', '=', 'second-page').execute();
    }
  });

  it('refuses a file that is not an image or video before anything else, and keeps nothing', async () => {
    const media = await h.app.services.db.selectFrom('media').select('id').execute();
    const reply = await h.run('U_ADA', 'post x hello', {}, [
      { name: 'notes.pdf', body: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300)]) },
    ]);
    expect(reply.message.text).toContain('"notes.pdf" is application/pdf, not an image or video');
    expect(await h.app.services.db.selectFrom('media').select('id').execute()).toEqual(media);

    // The targets are checked as well: one answer lists every problem, but not the lack of the refused file.
    const both = await h.run('U_ADA', `post x,tiktok ${'a'.repeat(301)}`, {}, [
      { name: 'notes.pdf', body: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(300)]) },
    ]);
    const lines = both.message.text.split('\n');
    expect(lines).toContainEqual(expect.stringContaining('"notes.pdf" is application/pdf, not an image or video'));
    expect(lines).toContain('• X @acme: X allows 280 characters; this caption counts 301.');
    expect(lines).toContainEqual(expect.stringMatching(/^• TikTok @acme: TikTok @acme needs a privacy level/));
    expect(lines.filter((l) => /no media|needs one video/.test(l))).toEqual([]);
    expect(await h.app.services.db.selectFrom('media').select('id').execute()).toEqual(media);
  });
});

describe('approval rules', () => {
  it('ignores self-approval and answers it', async () => {
    const postId = postIdOf((await h.run('U_ADA', 'post x Self approval is not a thing')).message.text);
    await react('U_ADA', postId, 'approve');
    expect(thread(postId)).toEqual(['<@U_ADA>: The person who asked for a post cannot approve or reject it.']);
    expect(await postStatus(postId)).toBe('pending_approval');
    await h.run('U_ADA', `cancel ${postId}`);
    expect(await postStatus(postId)).toBe('cancelled');
  });

  it('needs a quorum of two, counts a withdrawal, and lets one ❌ veto', async () => {
    expect((await h.run('U_ADA', 'approvals 2', { isAdmin: true })).message.text).toBe('Posts in this workspace now need 2 approval(s).');
    try {
      const postId = postIdOf((await h.run('U_ADA', 'post x Needs two')).message.text);
      await react('U_BOB', postId, 'approve');
      await react('U_BOB', postId, 'approve'); // a redelivered event changes nothing
      await react('U_BOB', postId, 'withdraw');
      await react('U_CARA', postId, 'approve');
      expect(await postStatus(postId)).toBe('pending_approval');
      await react('U_DAN', postId, 'reject');
      expect(await postStatus(postId)).toBe('rejected');
      expect(thread(postId)).toEqual([
        'approved by <@U_BOB> (1 of 2).',
        '<@U_BOB> withdrew their approval (0 of 2).',
        'approved by <@U_CARA> (1 of 2).',
        'rejected by <@U_DAN>: nothing will be published.',
      ]);
      // A ✅ after the veto changes nothing, and is answered and recorded.
      await react('U_EVE', postId, 'approve');
      expect(await postStatus(postId)).toBe('rejected');
      expect(thread(postId).at(-1)).toBe(`<@U_EVE>: post ${postId} is already rejected; this ✅ changes nothing.`);
      const eve = await h.app.services.db
        .selectFrom('approvals')
        .innerJoin('chat_users', 'chat_users.id', 'approvals.chat_user_id')
        .select(['approvals.decision', 'approvals.counted'])
        .where('approvals.post_id', '=', postId)
        .where('chat_users.external_id', '=', 'U_EVE')
        .execute();
      expect(eve).toEqual([{ decision: 'approve', counted: 0 }]);
      // Taking a reaction off a decided post is not a decision: nothing is said.
      await react('U_CARA', postId, 'withdraw');
      expect(thread(postId).at(-1)).toBe(`<@U_EVE>: post ${postId} is already rejected; this ✅ changes nothing.`);
      // The audit log shows who did what, the approval that did not reach the quorum included.
      const audit = (await h.run('U_ADA', 'audit', { isAdmin: true })).message.text;
      expect(audit).toContain(`post.rejected post:${postId} by <@U_DAN>`);
      expect(audit).toContain(`post.approval_counted post:${postId} by <@U_CARA>`);
      expect(audit).toContain(`post.withdrawn post:${postId} by <@U_BOB>`);

      const second = postIdOf((await h.run('U_ADA', 'post x Two approvals')).message.text);
      await react('U_BOB', second, 'approve');
      await react('U_CARA', second, 'approve');
      await waitForThread(second, /^Post [A-Z0-9]+: published/);
    } finally {
      await h.run('U_ADA', 'approvals 1', { isAdmin: true });
    }
  });

  it('counts only listed approvers once the workspace has a list', async () => {
    expect((await h.run('U_ADA', 'approvers add <@U_CARA>', { isAdmin: true })).message.text).toBe(
      'Approvers: <@U_CARA>. A post needs 1 approval(s).',
    );
    try {
      const postId = postIdOf((await h.run('U_ADA', 'post x Only Cara may approve')).message.text);
      await react('U_BOB', postId, 'approve');
      expect(await postStatus(postId)).toBe('pending_approval');
      expect(thread(postId)).toEqual(['<@U_BOB>: Only the workspace approvers can approve or reject posts (see `approvers`).']);
      await react('U_CARA', postId, 'approve');
      await waitForThread(postId, /^Post [A-Z0-9]+: published/);
    } finally {
      await h.run('U_ADA', 'approvers remove <@U_CARA>', { isAdmin: true });
    }
  });

  it('expires a request nobody decided, and tells the thread', async () => {
    const postId = postIdOf((await h.run('U_ADA', 'post x Nobody will look at this')).message.text);
    await h.app.services.db
      .updateTable('posts')
      .set({ approval_expires_at: '2000-01-01T00:00:00.000Z' })
      .where('id', '=', postId)
      .execute();
    const report = await h.app.core.cleanup.run();
    expect(report.approvalsExpired).toContain(postId);
    expect(await postStatus(postId)).toBe('expired');
    expect(thread(postId)).toEqual([`expired: nobody approved post ${postId} within 72 hours; nothing was published.`]);
  });
});

describe('publishing', () => {
  it('reports a partial result when one platform refuses, with its reason', async () => {
    h.sims.graph.faults.push({
      match: (method, path) => method === 'POST' && /\/media$/.test(path),
      kind: 'status',
      status: 400,
      body: {
        error: {
          message: 'Only photo or video can be accepted as media type.',
          type: 'OAuthException',
          code: 9004,
          error_subcode: 2207052,
          fbtrace_id: 'sim',
        },
      },
    });
    const postId = postIdOf((await h.run('U_ADA', 'post x,instagram Partial day', {}, [{ name: 'p.png', body: png }])).message.text);
    await react('U_BOB', postId, 'approve');
    const summary = await waitForThread(postId, /^Post [A-Z0-9]+: partial/);
    expect(summary).toBe(`Post ${postId}: partial (1 of 2 published).`);
    expect(thread(postId)).toContainEqual(expect.stringMatching(/^Instagram @acme: failed — .+/));
    const status = await h.run('U_ADA', `status ${postId}`);
    expect(status.message.text).toMatch(new RegExp(`^Post ${postId}: partial\\n`));
    expect(status.message.text).toMatch(/• X @acme: published https:\/\/x\.com\//);
    expect(status.message.text).toMatch(/• Instagram @acme: failed: /);
  });

  it('retries a rate-limited publish once, after the reset time, and publishes once', async () => {
    const reset = Math.floor(Date.now() / 1000) + 1;
    const tweetsBefore = h.sims.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets').length;
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/tweets',
      kind: 'status',
      status: 429,
      headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
    });
    const publishedBefore = h.sims.x.published.length;
    const postId = postIdOf((await h.run('U_ADA', 'post x Rate limited but patient')).message.text);
    await react('U_BOB', postId, 'approve');
    await waitForThread(postId, /^Post [A-Z0-9]+: published/);
    expect(thread(postId)).toContainEqual(expect.stringMatching(/^X @acme: .*; trying again in \d+ (ms|s) \(attempt 2 of 5\)\.$/));
    const tweets = h.sims.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets');
    expect(tweets.length - tweetsBefore).toBe(2);
    expect(tweets.at(-1)!.at.getTime()).toBeGreaterThanOrEqual(reset * 1000);
    expect(h.sims.x.published.length - publishedBefore).toBe(1);
  });

  it('does not call a post failed when it may be live: an unconfirmed-only post is partial', async () => {
    // X creates the tweet, then the connection drops before its answer arrives.
    h.sims.x.faults.push({ match: (method, path) => method === 'POST' && path === '/2/tweets', kind: 'reset', process: true });
    const postId = postIdOf((await h.run('U_ADA', 'post x Maybe live')).message.text);
    await react('U_BOB', postId, 'approve');
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: /)).toBe(`Post ${postId}: partial (0 of 1 published, 1 unconfirmed).`);
    expect(thread(postId)).toContainEqual(expect.stringMatching(/^X @acme: unconfirmed — .+ Check before posting again\.$/));
    expect(await postStatus(postId)).toBe('partial');
  });

  it('says a result again later when the chat could not be told, before the summary', async () => {
    h.chat.failThreadReplies = /^X @acme: published/;
    const postId = postIdOf((await h.run('U_ADA', 'post x While the chat is down')).message.text);
    await react('U_BOB', postId, 'approve');
    // Published at X, but the thread could not be told: no summary yet, the result is not lost.
    const waitingToSay = async () =>
      (
        await h.app.services.db
          .selectFrom('jobs')
          .select('id')
          .where('last_error', 'like', '%could not say%')
          .where('status', '=', 'queued')
          .execute()
      ).length;
    await expect.poll(waitingToSay, { timeout: 10_000 }).toBe(1);
    expect(thread(postId).some((t) => t.startsWith('Post '))).toBe(false);
    h.chat.failThreadReplies = undefined;
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: /)).toBe(`Post ${postId}: published (1 of 1 published).`);
    const lines = thread(postId);
    expect(lines.filter((t) => /^X @acme: published https:\/\/x\.com\//.test(t))).toHaveLength(1);
    expect(lines.findIndex((t) => t.startsWith('X @acme: published'))).toBeLessThan(lines.findIndex((t) => t.startsWith('Post ')));
  });

  it('never publishes a caption without its media: a post approved after its media expired fails, saying why', async () => {
    const tweetsBefore = h.sims.x.published.length;
    const postId = postIdOf((await h.run('U_ADA', 'post x Approved too late', {}, [{ name: 'late.png', body: png }])).message.text);
    // MEDIA_TTL_HOURS passed while the request waited (APPROVAL_TTL_HOURS is longer): cleanup took the file.
    await h.app.services.db.updateTable('media').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('post_id', '=', postId).execute();
    expect((await h.app.core.cleanup.run()).mediaDeleted.map((m) => m.postId)).toContain(postId);
    await react('U_BOB', postId, 'approve');
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: failed/)).toBe(`Post ${postId}: failed (0 of 1 published).`);
    expect(thread(postId)).toContainEqual(
      'X @acme: failed — its photos or video were deleted before it could be published (IQSP keeps media for 24 hours); nothing was published there. Post it again.',
    );
    expect(h.sims.x.published.length).toBe(tweetsBefore);
  });

  it('lets the requester retry a target that failed retryably', async () => {
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/media/upload/initialize',
      kind: 'status',
      status: 503,
      times: 5,
    });
    const postId = postIdOf((await h.run('U_ADA', 'post x Flaky upload', {}, [{ name: 'f.png', body: png }])).message.text);
    await react('U_BOB', postId, 'approve');
    await waitForThread(postId, /^Post [A-Z0-9]+: failed/);
    expect(thread(postId)).toContainEqual(
      expect.stringMatching(new RegExp(`^X @acme: failed — .+Nothing was published there; try again later with \`retry ${postId}\`\\.$`)),
    );
    expect((await h.run('U_BOB', `retry ${postId}`)).message.text).toBe(
      `Only the person who asked for post ${postId} or an admin can retry it.`,
    );
    expect((await h.run('U_ADA', `retry ${postId}`)).message.text).toBe(`Retrying X @acme of post ${postId}.`);
    await waitForThread(postId, /^Post [A-Z0-9]+: published/);
  });

  it('two retries at the same moment publish once', async () => {
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/media/upload/initialize',
      kind: 'status',
      status: 503,
      times: 5,
    });
    const postId = postIdOf((await h.run('U_ADA', 'post x Retried twice at once', {}, [{ name: 'f.png', body: png }])).message.text);
    await react('U_BOB', postId, 'approve');
    await waitForThread(postId, /^Post [A-Z0-9]+: failed/);
    const publishedBefore = h.sims.x.published.length;
    await Promise.all([h.run('U_ADA', `retry ${postId}`), h.run('U_ADA', `retry ${postId}`)]);
    await waitForThread(postId, /^Post [A-Z0-9]+: published/);
    // The publish jobs are all over (verification jobs of earlier tests' unconfirmed targets wait their minute).
    const jobs = () =>
      h.app.services.db
        .selectFrom('jobs')
        .select('status')
        .where('queue', '=', 'publish')
        .where('status', 'in', ['queued', 'running'])
        .execute();
    await expect.poll(async () => (await jobs()).length, { timeout: 10_000 }).toBe(0);
    expect(h.sims.x.published.length - publishedBefore).toBe(1);
  });

  it('does not lose a retry that comes while the worker is still closing the failed job', async () => {
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/media/upload/initialize',
      kind: 'status',
      status: 503,
      times: 5,
    });
    const postId = postIdOf((await h.run('U_ADA', 'post x Retried at once', {}, [{ name: 'f.png', body: png }])).message.text);
    await react('U_BOB', postId, 'approve');
    await waitForThread(postId, /^Post [A-Z0-9]+: failed/);
    // The summary is out; the worker that failed the target has not closed its job yet (another
    // instance's worker, say, paused just before `complete`): the job is still running, leased.
    const db = h.app.services.db;
    const target = await db.selectFrom('post_targets').select('id').where('post_id', '=', postId).executeTakeFirstOrThrow();
    const leasedUntil = new Date(Date.now() + 3_600_000).toISOString();
    await db
      .updateTable('jobs')
      .set({ status: 'running', lease_owner: 'a-slow-instance', lease_expires_at: leasedUntil })
      .where('dedupe_key', '=', `publish:${target.id}`)
      .execute();

    expect((await h.run('U_ADA', `retry ${postId}`)).message.text).toBe(`Retrying X @acme of post ${postId}.`);
    await waitForThread(postId, /^Post [A-Z0-9]+: published/);
    // The worker closes the job just after the summary.
    const job = () =>
      db.selectFrom('jobs').select(['status', 'lease_owner']).where('dedupe_key', '=', `publish:${target.id}`).executeTakeFirstOrThrow();
    await expect.poll(job, { timeout: 10_000 }).toEqual({ status: 'succeeded', lease_owner: null });
  });
});

describe('tokens', () => {
  const xAccount = () => h.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
  const refreshes = () =>
    h.sims.x.requests.filter(
      (r) => r.method === 'POST' && r.path === '/2/oauth2/token' && r.body.kind === 'form' && r.body.fields.grant_type === 'refresh_token',
    ).length;

  it('an access token X says has expired is refreshed once, the rotated pair stored, and the post published', async () => {
    const account = await xAccount();
    const before = await h.app.core.tokens.validTokens(account.id);
    h.sims.x.expireAccessToken(before.accessToken); // expired at X, though not yet by our clock
    const refreshesBefore = refreshes();
    const postId = postIdOf((await h.run('U_ADA', 'post x After a refresh')).message.text);
    await react('U_BOB', postId, 'approve');
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: /), JSON.stringify(thread(postId))).toBe(
      `Post ${postId}: published (1 of 1 published).`,
    );
    expect(refreshes()).toBe(refreshesBefore + 1);
    const after = await h.app.core.tokens.validTokens(account.id);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).toBeDefined();
    expect(after.refreshToken).not.toBe(before.refreshToken);
  });

  it('a refresh X refuses for good marks the account as needing reconnect, with the reason; the target waits for it and publishes once it is back', async () => {
    const account = await xAccount();
    const tweetsBefore = h.sims.x.published.length;
    h.sims.x.revokeAccount(account.platform_account_id); // the person removed the app at x.com
    try {
      const postId = postIdOf((await h.run('U_ADA', 'post x After the app was removed')).message.text);
      await react('U_BOB', postId, 'approve');
      // Issue 17: it waits instead of failing, saying who can fix it.
      expect(await waitForThread(postId, /^X @acme: waiting for reconnect: /)).toMatch(
        /`connect x`; it publishes by itself once the account is connected again\.$/,
      );
      const marked = await xAccount();
      expect(marked.status).toBe('needs_reconnect');
      expect(marked.status_reason).toMatch(/\S/);
      expect((await h.run('U_ADA', 'accounts')).message.text).toMatch(/X @acme.*needs reconnect/i);
      expect(h.sims.x.published.length).toBe(tweetsBefore);
      expect((await h.connect('x')).status).toBe(200);
      expect(await waitForThread(postId, /^Post [A-Z0-9]+: /)).toBe(`Post ${postId}: published (1 of 1 published).`);
      expect(h.sims.x.published.length).toBe(tweetsBefore + 1);
    } finally {
      // Connecting again brings the account back (same row, fresh tokens) for the tests after this one.
      expect((await h.connect('x')).status).toBe(200);
      expect((await xAccount()).status).toBe('active');
    }
  });
});

describe('cleanup', () => {
  it('deletes exactly the media of finished posts; their URLs then answer 404', async () => {
    const finished = postIdOf((await h.run('U_ADA', 'post x Done soon', {}, [{ name: 'done.png', body: png }])).message.text);
    await react('U_BOB', finished, 'approve');
    await waitForThread(finished, /^Post [A-Z0-9]+: published/);
    const waiting = postIdOf((await h.run('U_ADA', 'post x Still waiting', {}, [{ name: 'wait.png', body: png }])).message.text);

    const mediaOf = (postId: string) => h.app.services.db.selectFrom('media').selectAll().where('post_id', '=', postId).execute();
    const [doneMedia] = await mediaOf(finished);
    const [waitingMedia] = await mediaOf(waiting);
    const doneUrl = await h.app.core.media.publicUrl({ id: doneMedia!.id });
    const waitingUrl = await h.app.core.media.publicUrl({ id: waitingMedia!.id });
    expect((await fetch(doneUrl)).status).toBe(200);

    const report = await h.app.core.cleanup.run();
    const deleted = report.mediaDeleted.map((m) => m.mediaId);
    expect(deleted).toContain(doneMedia!.id);
    expect(deleted).not.toContain(waitingMedia!.id);
    expect((await fetch(doneUrl)).status).toBe(404);
    expect((await fetch(waitingUrl)).status).toBe(200);
    expect(await h.app.core.mediaStore.size(doneMedia!.storage_key)).toBeUndefined();
    expect((await mediaOf(finished))[0]!.deleted_at).not.toBeNull();
    const audit = await h.app.services.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'media.deleted')
      .where('subject_id', '=', doneMedia!.id)
      .execute();
    expect(audit).toHaveLength(1);
    await h.run('U_ADA', `cancel ${waiting}`);
  });
});
