/**
 * Threads end to end (issue 18), through every chat surface: the built service (`node dist/cli.js
 * serve`) against the simulators and a fake chat. Connect through the simulated consent page, a
 * post with an image and a `---` reply chain approved with ✅ and its link in the thread, published
 * exactly once on the Threads simulator (Meta fetched the image from IQSP's media URL), an answer
 * lost on threads_publish left `unconfirmed` and then found live by `verify` without a second post,
 * and `disconnect`, which deletes the tokens without a request (Threads has no revocation endpoint).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadsSimulator } from '../../src/simulators/threads.js';
import { type ChatFile, type ChatSurface, type Person, type SurfaceWorld, startWorld } from './chat-surface.js';
import { connectLinkIn, followConnectLink, squarePng } from './platforms.js';
import { SURFACES } from './surfaces.js';

for (const { kind, start } of SURFACES) {
  describe(`Threads through ${kind}`, () => {
    let world: SurfaceWorld;
    let chat: ChatSurface;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let threads: ThreadsSimulator;
    let image: Buffer;

    beforeAll(async () => {
      [world, image] = await Promise.all([startWorld(start), squarePng()]);
      chat = world.surface;
      ({ alice, bob, carol } = chat.people);
      threads = world.sims.sim<ThreadsSimulator>('threads');
      // The service polls at production intervals: containers finish on their first status read.
      Object.assign(threads.options.containerPolls, { text: 0, image: 0, video: 0, carousel: 0 });
    }, 60_000);
    afterAll(() => world?.close(), 30_000);

    const png = (name: string): ChatFile => ({ name, mimetype: 'image/png', bytes: image, side: 1080 });
    const summaryOf = (id: string) => chat.waitInThread(id, /^Post \w+: (published|partial|failed|unconfirmed)/);

    it('connects Threads: /iqsp connect → private link → consent → callback page → "connected" by DM', async () => {
      const reply = await chat.command(alice, 'connect threads');
      expect(reply).toContain('This link is only for you, works once, and expires in 15 minutes.');
      const outcome = await followConnectLink(world.sims, connectLinkIn(reply));
      expect(outcome.consentUrl.startsWith(world.sims.env.THREADS_AUTHORIZE_URL!)).toBe(true);
      expect(new URL(outcome.consentUrl).searchParams.get('scope')).toBe('threads_basic,threads_content_publish,threads_manage_replies');
      expect(outcome.status).toBe(200);
      expect(outcome.html).toContain('Connected Threads @acme');
      await chat.waitForDm(alice, /^connected: Threads @acme \(workspace [^)]+\)$/);
      // The code was exchanged, then the 1-hour token for a 60-day one.
      expect(threads.requests.filter((r) => r.path === '/oauth/access_token' && r.status === 200)).toHaveLength(1);
      expect(threads.requests.filter((r) => r.path === '/access_token' && r.status === 200)).toHaveLength(1);
    });

    it('publishes an image and its reply chain once approved: the link in the thread, each part once on Threads', async () => {
      const before = threads.published.length;
      const approvals = chat.approvalCount();
      const caption = `A picture from ${kind}\n---\nand the story goes on in a reply`;
      await chat.mention(bob, `post threads ${caption}`, [png('threads.png')]);
      const approval = await chat.nextApproval(approvals);
      await chat.expectApprovalRequest(approval, {
        requester: bob,
        targets: 'Threads @acme',
        caption: `A picture from ${kind}`,
      });

      await chat.react(carol, approval.id, '✅');
      expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: published (1 of 1 published).`);
      const first = threads.published[before]!;
      expect(chat.thread(approval.id)).toContainEqual(`Threads @acme: published ${first.permalink} (a thread of 2 posts)`);
      expect(first.permalink).toMatch(/^https:\/\/www\.threads\.net\/@acme\/post\/\S+$/);

      expect(threads.published).toHaveLength(before + 2);
      const chain = threads.chain(first.id);
      expect(chain.map((p) => [p.text, p.mediaType, p.media.length])).toEqual([
        [`A picture from ${kind}`, 'IMAGE', 1],
        ['and the story goes on in a reply', 'TEXT_POST', 0],
      ]);
      // Meta fetched the image from IQSP's signed media URL: the very bytes posted in the chat.
      expect(first.media[0]).toMatchObject({ bytes: image.length, type: 'image/png' });
      expect(first.media[0]!.url.startsWith(`${world.service.url}/media/`)).toBe(true);
    });

    it('an answer lost on threads_publish is unconfirmed; verify finds it live, and nothing is posted twice', async () => {
      const before = threads.published.length;
      const publishes = () => threads.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/threads_publish')).length;
      const publishesBefore = publishes();
      threads.faults.push({
        match: (method, path) => method === 'POST' && path.endsWith('/threads_publish'),
        kind: 'reset',
        process: true,
      });
      const approvals = chat.approvalCount();
      await chat.mention(bob, `post threads Did this one make it from ${kind}?`);
      const approval = await chat.nextApproval(approvals);
      await chat.react(carol, approval.id, '✅');
      const unconfirmed = await chat.waitInThread(approval.id, /^Threads @acme: unconfirmed/);
      expect(unconfirmed).toMatch(/Check before posting again\.$/);
      expect(threads.published).toHaveLength(before + 1);

      const reply = await chat.command(bob, `verify ${approval.postId}`);
      const live = threads.published[before]!;
      expect(reply).toContain(`Threads @acme: published ${live.permalink} (verified)`);
      await chat.waitInThread(
        approval.id,
        new RegExp(`^Threads @acme: published ${live.permalink.replace(/[.]/g, '\\.')} \\(verified\\)$`),
      );
      expect(threads.published).toHaveLength(before + 1);
      expect(publishes()).toBe(publishesBefore + 1);
    });

    it('disconnect deletes the tokens at once; Threads has no revocation endpoint, so nothing is sent there', async () => {
      const requests = threads.requests.length;
      expect(await chat.command(alice, 'disconnect threads')).toBe('disconnected: Threads @acme (its tokens are deleted)');
      expect(threads.requests).toHaveLength(requests);
      expect(await chat.command(alice, 'disconnect threads')).toBe('Threads is not connected in this workspace.');
    });
  });
}
