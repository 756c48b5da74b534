/**
 * End to end, through both chat surfaces (the built service against the simulators): Instagram
 * offered two ways (Facebook Login and Instagram Login), each connecting the same professional
 * account and publishing through its own API (graph.facebook.com with the Page's token,
 * graph.instagram.com with the account's own), and a vertical clip to a Facebook Page going to
 * Reels (start, the rupload host, finish) rather than /videos.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mp4Header } from '../helpers/mp4.js';
import { type ChatFile, type ChatSurface, type Person, type SurfaceWorld, startWorld } from './chat-surface.js';
import { difference, followConnectLink, ONE_PAGE, publishedCounts, requestsTo, squarePng } from './platforms.js';
import { SURFACES } from './surfaces.js';

const IG_ID = '17841400000000001';

/** The ways `connect instagram` offers, each with its own link (`?via=<way>`). */
function waysIn(reply: string): Record<string, string> {
  const ways: Record<string, string> = {};
  for (const [, link, via] of reply.matchAll(/(https?:\/\/[^\s<>|]+\/connect\/[A-Za-z0-9_-]+\?via=([\w-]+))/g)) ways[via!] ??= link!;
  return ways;
}

/** A structurally real vertical MP4 (1080×1920, 12 s): the service measures it from its movie header. */
function verticalMp4(): Buffer {
  const mdat = Buffer.alloc(8 + 30_000);
  mdat.writeUInt32BE(mdat.length, 0);
  mdat.write('mdat', 4, 'latin1');
  return Buffer.concat([mp4Header({ durationMs: 12_000, width: 1080, height: 1920 }), mdat]);
}

for (const { kind, start } of SURFACES) {
  describe(`Instagram both ways and Facebook Reels: ${kind}`, () => {
    let world: SurfaceWorld;
    let chat: ChatSurface;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let image: Buffer;

    beforeAll(async () => {
      [world, image] = await Promise.all([startWorld(start), squarePng()]);
      chat = world.surface;
      ({ alice, bob, carol } = chat.people);
    }, 60_000);
    afterAll(() => world?.close(), 30_000);

    const png = (name: string): ChatFile => ({ name, mimetype: 'image/png', bytes: image, side: 1080 });

    /** Bob asks, Carol approves; resolves with the thread once the post is settled. */
    async function publish(targets: string, caption: string, files: ChatFile[]): Promise<string[]> {
      const approvals = chat.approvalCount();
      await chat.mention(bob, `post ${targets} ${caption}`, files);
      const approval = await chat.nextApproval(approvals);
      await chat.react(carol, approval.id, '✅');
      await chat.waitInThread(approval.id, /^Post \w+: (published|partial|failed)/, 20_000).catch((e: unknown) => {
        throw new Error(`${String(e)}: ${chat.thread(approval.id).join(' / ')}`);
      });
      return chat.thread(approval.id);
    }

    it('`connect instagram` offers two ways, each its own button and link', async () => {
      const reply = await chat.command(alice, 'connect instagram');
      expect(reply).toContain('Connect Instagram, one of two ways:');
      expect(reply).toContain('Connect with Facebook Login');
      expect(reply).toContain('Connect with Instagram Login');
      expect(Object.keys(waysIn(reply)).sort()).toEqual(['facebook-login', 'instagram-login']);
    });

    it('connects with Instagram Login (no Page) and publishes through graph.instagram.com with the account’s own token', async () => {
      const { sims } = world;
      const link = waysIn(await chat.command(alice, 'connect instagram'))['instagram-login']!;
      const outcome = await followConnectLink(sims, link);
      expect(outcome.consentUrl.startsWith(sims.env.INSTAGRAM_AUTHORIZE_URL!)).toBe(true);
      expect(outcome.status).toBe(200);
      expect(outcome.html).toContain('Connected Instagram @acme');
      await chat.waitForDm(alice, /^connected: Instagram @acme \(workspace [^)]+\)$/);

      const before = publishedCounts(sims);
      const viaInstagram = requestsTo(sims, 'graph', 'POST', new RegExp(`^/instagram-graph/${IG_ID}/media_publish$`)).length;
      const viaFacebook = requestsTo(sims, 'graph', 'POST', new RegExp(`^/v26\\.0/${IG_ID}/media_publish$`)).length;
      const thread = await publish('instagram', `Hello through Instagram Login from ${kind}`, [png('igl.png')]);
      expect(thread).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/www\.instagram\.com\/p\/\S+$/));
      expect(difference(publishedCounts(sims), before)).toMatchObject({ instagram: 1, facebook: 0 });
      expect(requestsTo(sims, 'graph', 'POST', new RegExp(`^/instagram-graph/${IG_ID}/media_publish$`))).toHaveLength(viaInstagram + 1);
      expect(requestsTo(sims, 'graph', 'POST', new RegExp(`^/v26\\.0/${IG_ID}/media_publish$`))).toHaveLength(viaFacebook);
      expect(sims.graph.published.at(-1)).toMatchObject({ platform: 'instagram', caption: `Hello through Instagram Login from ${kind}` });
    });

    it('connects the same account with Facebook Login: one account, now published through graph.facebook.com', async () => {
      const { sims } = world;
      const link = waysIn(await chat.command(alice, 'connect instagram'))['facebook-login']!;
      const outcome = await followConnectLink(sims, link, ONE_PAGE);
      expect(outcome.consentUrl.startsWith(sims.env.FACEBOOK_AUTHORIZE_URL!)).toBe(true);
      expect(outcome.html).toContain('Connected Instagram @acme');
      const accounts = await chat.command(bob, 'accounts');
      expect(accounts.match(/Instagram @acme/g)).toHaveLength(1);

      const viaFacebook = requestsTo(sims, 'graph', 'POST', new RegExp(`^/v26\\.0/${IG_ID}/media_publish$`)).length;
      const viaInstagram = requestsTo(sims, 'graph', 'POST', new RegExp(`^/instagram-graph/${IG_ID}/media_publish$`)).length;
      const thread = await publish('instagram', `Hello through Facebook Login from ${kind}`, [png('fbl.png')]);
      expect(thread).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/\S+$/));
      expect(requestsTo(sims, 'graph', 'POST', new RegExp(`^/v26\\.0/${IG_ID}/media_publish$`))).toHaveLength(viaFacebook + 1);
      expect(requestsTo(sims, 'graph', 'POST', new RegExp(`^/instagram-graph/${IG_ID}/media_publish$`))).toHaveLength(viaInstagram);
    });

    it('a vertical clip to a Facebook Page goes to Reels: start, the bytes to rupload, finish; the reel’s link in the thread', async () => {
      const { sims } = world;
      const connected = await followConnectLink(sims, linkOf(await chat.command(alice, 'connect facebook')), ONE_PAGE);
      expect(connected.status).toBe(200);
      const before = publishedCounts(sims);
      const videosBefore = requestsTo(sims, 'graph', 'POST', /\/videos$/).length;
      const clip: ChatFile = { name: 'vertical.mp4', mimetype: 'video/mp4', bytes: verticalMp4() };
      const thread = await publish('facebook', `Our reel from ${kind}`, [clip]);
      expect(thread).toContainEqual(expect.stringMatching(/^Facebook Acme Inc: published https:\/\/www\.facebook\.com\/reel\/\d+$/));
      expect(difference(publishedCounts(sims), before)).toMatchObject({ facebook: 1, instagram: 0 });
      const reel = sims.graph.published.at(-1);
      expect(reel).toMatchObject({ platform: 'facebook', kind: 'reel', caption: `Our reel from ${kind}` });
      expect(reel?.media[0]?.bytes).toBe(clip.bytes.length);
      expect(requestsTo(sims, 'graph', 'POST', /^\/rupload\/video-upload\//).length).toBeGreaterThanOrEqual(1);
      expect(requestsTo(sims, 'graph', 'POST', /\/videos$/)).toHaveLength(videosBefore);
    });
  });
}

/** The connect link of a platform with one way. */
function linkOf(reply: string): string {
  const link = /(https?:\/\/[^\s<>|]+\/connect\/[A-Za-z0-9_-]+)/.exec(reply)?.[1];
  if (!link) throw new Error(`no connect link in: ${reply}`);
  return link;
}
