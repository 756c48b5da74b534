/**
 * `verify <post-id>` (issue 17) through the whole service: an X post left `unconfirmed` by a lost
 * answer is looked for in the account's posts at the simulator. Live → `published` with its link;
 * never received → `failed` ("not published"), and `retry` then publishes it once. A thread's
 * unconfirmed part found live is recorded live and `retry` sends only the rest; found absent, the
 * thread is partial and `retry` resumes after its live parts.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let png: Buffer;

beforeAll(async () => {
  h = await startHarness();
  png = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#2a9d8f' } })
    .png()
    .toBuffer();
  expect((await h.connect('x')).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const TWEET = (method: string, path: string) => method === 'POST' && path === '/2/tweets';

function postIdOf(text: string): string {
  const id = /Post ([A-Z0-9]+) is waiting for approval/.exec(text)?.[1];
  if (!id) throw new Error(`no post id in: ${text}`);
  return id;
}

function thread(postId: string): string[] {
  const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
  if (!approval) throw new Error(`no approval message for ${postId}`);
  return h.chat.thread(approval.id);
}

const waitForThread = (postId: string, pattern: RegExp) => h.chat.waitFor(() => thread(postId).find((t) => pattern.test(t)), 15_000);

const target = async (postId: string) =>
  h.app.services.db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();
/** The post's committing requests, made two minutes ago: long enough for "not there" to mean it. */
const sentTwoMinutesAgo = async (postId: string) => {
  const at = new Date(Date.now() - 120_000).toISOString();
  await h.app.services.db.updateTable('post_targets').set({ committed_at: at, updated_at: at }).where('post_id', '=', postId).execute();
};
const postStatus = async (postId: string) =>
  (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;

/** A post to X whose POST /2/tweets meets `process`: X creates it before the connection drops (true), or never sees it. */
async function unconfirmedPost(caption: string, process: boolean, attachments: Array<{ name: string; body: Buffer }> = []) {
  h.sims.x.faults.push({ match: TWEET, kind: 'reset', process });
  const postId = postIdOf((await h.run('U_ADA', `post x ${caption}`, {}, attachments)).message.text);
  await h.approve(postId);
  expect(await waitForThread(postId, /^Post [A-Z0-9]+: /)).toBe(`Post ${postId}: partial (0 of 1 published, 1 unconfirmed).`);
  expect((await target(postId)).status).toBe('unconfirmed');
  return postId;
}

describe('verify', () => {
  it('finds an unconfirmed X post that is live: published with its link, the post published', async () => {
    const caption = `Accepted, answer lost & found: https://example.com/a?b=${Date.now()}`;
    const postId = await unconfirmedPost(caption, true, [{ name: 'photo.png', body: png }]);
    const tweet = h.sims.x.published.find((t) => t.text === caption);
    expect(tweet).toBeDefined();

    const reply = await h.run('U_CAROL', `verify ${postId}`);
    expect(reply.visibility).toBe('private');
    expect(reply.message.text).toContain(`X @acme: published ${tweet!.permalink} (verified)`);
    expect(await waitForThread(postId, /\(verified\)$/)).toBe(`X @acme: published ${tweet!.permalink} (verified)`);
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: published/)).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(await target(postId)).toMatchObject({ status: 'published', platform_post_id: tweet!.id, permalink: tweet!.permalink });
    expect(await postStatus(postId)).toBe('published');
    // Verification only reads: still one post at X.
    expect(h.sims.x.published.filter((t) => t.text === caption)).toHaveLength(1);
    // Nothing left to verify.
    expect((await h.run('U_CAROL', `verify ${postId}`)).message.text).toBe(`Post ${postId} has no unconfirmed target: nothing to verify.`);
  });

  it('finds one X never received absent: failed (not published), then retry publishes it once', async () => {
    const caption = `Never received ${Date.now()}`;
    const postId = await unconfirmedPost(caption, false);
    expect(h.sims.x.published.filter((t) => t.text === caption)).toHaveLength(0);

    // Asked at once, "not there" proves nothing yet (a post just accepted may not be listed).
    const tooSoon = await h.run('U_CAROL', `verify ${postId}`);
    expect(tooSoon.message.text).toContain('X @acme: still unconfirmed — it was sent less than a minute ago, and X may not list it yet');
    expect((await target(postId)).status).toBe('unconfirmed');

    await sentTwoMinutesAgo(postId);
    const reply = await h.run('U_CAROL', `verify ${postId}`);
    expect(reply.message.text).toContain('X @acme: failed — not published');
    expect(await waitForThread(postId, /failed — not published/)).toMatch(
      new RegExp(`^X @acme: failed — not published \\(X shows no such post of @acme since .+\\)\\. \`retry ${postId}\` sends it\\.$`),
    );
    expect(await target(postId)).toMatchObject({ status: 'failed', failure_class: 'retryable', failure_message: 'not published' });
    await expect.poll(() => postStatus(postId)).toBe('failed');

    expect((await h.run('U_ADA', `retry ${postId}`)).message.text).toBe(`Retrying X @acme of post ${postId}.`);
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: published/)).toBe(`Post ${postId}: published (1 of 1 published).`);
    const sent = h.sims.x.published.filter((t) => t.text === caption);
    expect(sent).toHaveLength(1);
    expect(await target(postId)).toMatchObject({ status: 'published', permalink: sent[0]!.permalink });
  });

  it('verifies one target without a command (the hook for the automatic verification)', async () => {
    const caption = `Verified by itself ${Date.now()}`;
    const postId = await unconfirmedPost(caption, true);
    await h.app.core.posts.verifyTarget(postId, (await target(postId)).id);
    const tweet = h.sims.x.published.find((t) => t.text === caption)!;
    expect(await waitForThread(postId, /\(verified\)$/)).toBe(`X @acme: published ${tweet.permalink} (verified)`);
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: published/)).toBe(`Post ${postId}: published (1 of 1 published).`);
  });

  it('a thread whose part 2 went live with its answer lost: part 2 recorded live, retry sends part 3 alone', async () => {
    const tag = Date.now();
    const parts = [`Thread one ${tag}`, `Thread two ${tag}`, `Thread three ${tag}`];
    h.sims.x.faultOnTweet(2, { kind: 'reset', process: true });
    const postId = postIdOf((await h.run('U_ADA', `post x ${parts.join('\n---\n')}`)).message.text);
    await h.approve(postId);
    await waitForThread(postId, /^Post [A-Z0-9]+: /);
    expect((await target(postId)).status).toBe('unconfirmed');
    const first = h.sims.x.published.find((t) => t.text === parts[0])!;

    await h.run('U_CAROL', `verify ${postId}`);
    expect(await waitForThread(postId, /\(verified\)/)).toBe(
      `X @acme: partial — parts 1–2 of 3 are live (${first.permalink}) (verified); part 3 not sent. \`retry ${postId}\` sends part 3.`,
    );
    expect(await target(postId)).toMatchObject({ status: 'failed', failure_class: 'retryable' });

    await h.run('U_ADA', `retry ${postId}`);
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: published/)).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(h.sims.x.thread(first.id).map((t) => t.text)).toEqual(parts);
    expect(h.sims.x.published.filter((t) => parts.includes(t.text ?? ''))).toHaveLength(3);
    expect(await target(postId)).toMatchObject({ status: 'published', permalink: first.permalink });
  });

  it('a thread whose part 2 X never got: partial (not published), retry sends parts 2–3 once', async () => {
    const tag = Date.now();
    const parts = [`Again one ${tag}`, `Again two ${tag}`, `Again three ${tag}`];
    h.sims.x.faultOnTweet(2, { kind: 'reset' });
    const postId = postIdOf((await h.run('U_ADA', `post x ${parts.join('\n---\n')}`)).message.text);
    await h.approve(postId);
    await waitForThread(postId, /^Post [A-Z0-9]+: /);
    const first = h.sims.x.published.find((t) => t.text === parts[0])!;

    await sentTwoMinutesAgo(postId);
    await h.run('U_CAROL', `verify ${postId}`);
    expect(await waitForThread(postId, /part 2 not published/)).toMatch(
      new RegExp(
        `^X @acme: partial — part 1 of 3 is live \\(${first.permalink}\\); part 2 not published \\(.+\\)\\. \`retry ${postId}\` sends parts 2–3\\.$`,
      ),
    );
    await h.run('U_ADA', `retry ${postId}`);
    expect(await waitForThread(postId, /^Post [A-Z0-9]+: published/)).toBe(`Post ${postId}: published (1 of 1 published).`);
    expect(h.sims.x.thread(first.id).map((t) => t.text)).toEqual(parts);
    expect(h.sims.x.published.filter((t) => parts.includes(t.text ?? ''))).toHaveLength(3);
  });

  it('answers a post with nothing unconfirmed, and an unknown post', async () => {
    expect((await h.run('U_CAROL', 'verify NOPE123')).message.text).toContain('There is no post NOPE123 in this workspace');
  });
});

describe('verification by itself', () => {
  it('verifies an unconfirmed target once, a minute after, on the app clock: live → published with its link', async () => {
    let clock = new Date();
    const w = await startHarness({ app: { now: () => clock } });
    try {
      expect((await w.connect('x')).status).toBe(200);
      w.sims.x.faults.push({ match: TWEET, kind: 'reset', process: true });
      const caption = `Lost answer, found by itself ${Date.now()}`;
      const postId = postIdOf((await w.run('U_ADA', `post x ${caption}`)).message.text);
      const approvalId = await w.approve(postId);
      const lines = () => w.chat.thread(approvalId);
      await w.chat.waitFor(() => lines().find((t) => t.startsWith(`Post ${postId}: partial`)), 15_000);
      // The publish job ran in its account's group; the verify job is grouped by platform, as before.
      const { account_id } = await w.app.services.db
        .selectFrom('post_targets')
        .select('account_id')
        .where('post_id', '=', postId)
        .executeTakeFirstOrThrow();
      const jobs = await w.app.services.db
        .selectFrom('jobs')
        .select(['queue', 'group_key'])
        .where('queue', 'in', ['publish', 'verify'])
        .orderBy('queue')
        .execute();
      expect(jobs).toEqual([
        { queue: 'publish', group_key: `x:${account_id}` },
        { queue: 'verify', group_key: 'x' },
      ]);
      // Not before its minute.
      await new Promise((r) => setTimeout(r, 200));
      expect(lines().some((t) => t.includes('(verified)'))).toBe(false);
      clock = new Date(clock.getTime() + 61_000);
      const tweet = await w.chat.waitFor(() => w.sims.x.published.find((t) => t.text === caption), 5_000);
      const verified = await w.chat.waitFor(() => lines().find((t) => t.includes('(verified)')), 15_000);
      expect(verified).toBe(`X @acme: published https://x.com/acme/status/${tweet.id} (verified)`);
      expect(await w.chat.waitFor(() => lines().find((t) => t === `Post ${postId}: published (1 of 1 published).`), 15_000)).toBeTruthy();
      // Once: a second minute asks nothing more.
      const reads = w.sims.x.requests.filter((r) => r.path.includes('/tweets') && r.method === 'GET').length;
      clock = new Date(clock.getTime() + 120_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(w.sims.x.requests.filter((r) => r.path.includes('/tweets') && r.method === 'GET').length).toBe(reads);
    } finally {
      await w.close();
    }
  });
});

describe('verify on TikTok', () => {
  it('looks the post up by the publish_id kept when TikTok gave it: live → published', async () => {
    expect((await h.connect('tiktok')).status).toBe(200);
    // The photos are sent, then every status check is cut: IQSP never learns the outcome.
    const statusChecks = (method: string, path: string) => method === 'POST' && path.includes('/post/publish/status/fetch');
    h.sims.tiktok.faults.push({ match: statusChecks, kind: 'reset', times: 100_000 });
    let postId: string;
    try {
      postId = postIdOf((await h.run('U_ADA', 'post tiktok:public Lost status', {}, [{ name: 'photo.png', body: png }])).message.text);
      await h.approve(postId);
      await waitForThread(postId, /^TikTok @\S+: unconfirmed/);
    } finally {
      h.sims.tiktok.faults.splice(0, h.sims.tiktok.faults.length);
    }
    const row = await target(postId);
    expect(row.status).toBe('unconfirmed');
    expect(row.platform_ref).toMatch(/\S/);
    await h.sims.tiktok.finishProcessing();
    const reply = await h.run('U_ADA', `verify ${postId}`);
    expect(String(reply.message.text)).toMatch(/TikTok @\S+: published https:\/\/www\.tiktok\.com\/\S+ \(verified\)/);
    expect((await target(postId)).status).toBe('published');
  });
});
