/**
 * YouTube end to end, through both chat surfaces: the built service (`node dist/cli.js serve`)
 * against the simulators and a fake chat. A person connects YouTube through the link and
 * Google's simulated consent page, posts a vertical video with `youtube:unlisted`, a teammate's
 * ✅ publishes it once (a Short link in the thread, every byte on the simulator); an upload
 * whose last answer is lost is `unconfirmed`, and `verify` finds it in the channel's uploads,
 * still published once; `disconnect` revokes the grant at Google.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YoutubeSimulator } from '../../src/simulators/youtube.js';
import { mp4Header } from '../helpers/mp4.js';
import { type ChatFile, type ChatSurface, type Person, type SurfaceWorld, startWorld } from './chat-surface.js';
import { connectLinkIn, followConnectLink } from './platforms.js';
import { SURFACES } from './surfaces.js';

/** A vertical 20-second MP4 (a real header the service reads, zero-filled media data): a Short. */
function verticalMp4(dataBytes: number): Buffer {
  const mdat = Buffer.alloc(8 + dataBytes);
  mdat.writeUInt32BE(8 + dataBytes, 0);
  mdat.write('mdat', 4, 'latin1');
  for (let i = 8; i < mdat.length; i += 97) mdat[i] = i % 251;
  return Buffer.concat([mp4Header({ durationMs: 20_000, width: 1080, height: 1920 }), mdat]);
}

for (const { kind, start } of SURFACES) {
  describe(`YouTube through ${kind}`, () => {
    let world: SurfaceWorld;
    let chat: ChatSurface;
    let youtube: YoutubeSimulator;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    const video = (name: string, bytes: Buffer): ChatFile => ({ name, mimetype: 'video/mp4', bytes });

    beforeAll(async () => {
      world = await startWorld(start);
      chat = world.surface;
      ({ alice, bob, carol } = chat.people);
      youtube = world.sims.sim<YoutubeSimulator>('youtube');
    }, 60_000);
    afterAll(() => world?.close(), 30_000);

    it('connects the channel: link → Google consent (PKCE, offline) → callback page → "connected" by DM', async () => {
      const reply = await chat.command(alice, 'connect youtube');
      const outcome = await followConnectLink(world.sims, connectLinkIn(reply));
      const consent = new URL(outcome.consentUrl);
      expect(`${consent.origin}${consent.pathname}`).toBe(world.sims.env.GOOGLE_AUTHORIZE_URL);
      expect(Object.fromEntries(consent.searchParams)).toMatchObject({
        access_type: 'offline',
        prompt: 'consent',
        code_challenge_method: 'S256',
      });
      expect(outcome.status).toBe(200);
      expect(outcome.html).toContain('Connected YouTube @acme');
      await chat.waitForDm(alice, /^connected: YouTube @acme \(workspace [^)]+\)$/);
      expect(await chat.command(bob, 'accounts')).toContain(`• YouTube @acme — connected by <@${alice.id}>`);
    });

    it('publishes an unlisted Short once after a teammate’s ✅, with its link in the thread', async () => {
      const bytes = verticalMp4(600_000);
      const before = youtube.published.length;
      const approvals = chat.approvalCount();
      await chat.mention(bob, `post youtube:unlisted Launch film from ${kind}\nThe whole keynote, in twenty seconds.`, [
        video('launch.mp4', bytes),
      ]);
      const approval = await chat.nextApproval(approvals);
      await chat.expectApprovalRequest(approval, {
        requester: bob,
        targets: 'YouTube @acme',
        caption: `Launch film from ${kind}\nThe whole keynote, in twenty seconds.`,
      });
      await chat.react(carol, approval.id, '✅');
      expect(await chat.waitInThread(approval.id, /^Post \w+: (published|partial|failed)/, 30_000)).toBe(
        `Post ${approval.postId}: published (1 of 1 published).`,
      );
      expect(youtube.published).toHaveLength(before + 1);
      const stored = youtube.published.at(-1)!;
      expect(stored).toMatchObject({
        title: `Launch film from ${kind}`,
        description: 'The whole keynote, in twenty seconds.',
        privacyStatus: 'unlisted',
        bytes: bytes.length,
        channelHandle: 'acme',
      });
      expect(chat.thread(approval.id)).toContainEqual(`YouTube @acme: published https://www.youtube.com/shorts/${stored.videoId}`);
    }, 60_000);

    it('an upload whose final answer is lost is unconfirmed; verify finds it in the uploads: published once', async () => {
      const before = youtube.published.length;
      // The last bytes are stored and the video made, but the answer never arrives; the session is then gone.
      youtube.faults.push(
        { match: (method) => method === 'PUT', kind: 'reset', process: true },
        { match: (method) => method === 'PUT', kind: 'status', status: 404 },
      );
      const approvals = chat.approvalCount();
      await chat.mention(bob, `post youtube Lost answer from ${kind}`, [video('lost.mp4', verticalMp4(1_000))]);
      const approval = await chat.nextApproval(approvals);
      await chat.react(carol, approval.id, '✅');
      const unconfirmed = await chat.waitInThread(approval.id, /^YouTube @acme: unconfirmed/, 45_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; the thread: ${chat.thread(approval.id).join(' | ')}`);
      });
      expect(unconfirmed).toMatch(/may or may not be live/);
      expect(youtube.published).toHaveLength(before + 1);
      const stored = youtube.published.at(-1)!;
      expect(stored.privacyStatus).toBe('public');

      const verified = await chat.command(bob, `verify ${approval.postId}`);
      expect(verified).toContain(`YouTube @acme: published https://www.youtube.com/watch?v=${stored.videoId} (verified)`);
      expect((await chat.command(bob, `status ${approval.postId}`)).split('\n')[0]).toBe(`Post ${approval.postId}: published`);
      // Found, never sent again: one session start, one video.
      expect(youtube.published).toHaveLength(before + 1);
      expect(youtube.published.filter((v) => v.title === `Lost answer from ${kind}`)).toHaveLength(1);
    }, 60_000);

    it('refuses an image for YouTube before approval, naming the limit', async () => {
      const uploads = () => youtube.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/upload/'));
      const starts = uploads().length;
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
      expect(
        await chat.refusedPost(bob, {
          targets: 'youtube',
          caption: 'A picture',
          files: [{ name: 'p.png', mimetype: 'image/png', bytes: png, side: 1 }],
        }),
      ).toContain('YouTube publishes one video and no images; this post has 1 image.');
      expect(uploads()).toHaveLength(starts);
    });

    it('disconnect revokes the grant at Google and deletes the tokens', async () => {
      const revokes = youtube.requests.filter((r) => r.method === 'POST' && r.path === '/revoke').length;
      expect(await chat.command(alice, 'disconnect youtube')).toBe('disconnected: YouTube @acme (its tokens are deleted)');
      const revoke = youtube.requests.filter((r) => r.method === 'POST' && r.path === '/revoke');
      expect(revoke).toHaveLength(revokes + 1);
      expect(revoke.at(-1)!.status).toBe(200);
      expect(youtube.isRevoked('110000000000000000001')).toBe(true);
      expect(await chat.command(bob, 'accounts')).not.toContain('YouTube');
    });
  });
}
