/**
 * Bluesky end to end, through both chat surfaces: the built service against the simulators
 * (Bluesky's entryway, PDS, PLC directory and video service are one loopback server) with the
 * real AT Protocol OAuth library inside the service. Connect through the simulated consent,
 * post with approval, the link in the thread, published exactly once; a post whose answer was
 * lost is unconfirmed and `verify` finds it by its record key; `disconnect` revokes the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlueskySimulator } from '../../src/simulators/bluesky.js';
import { type ChatFile, type ChatSurface, type Person, type SurfaceWorld, startWorld } from './chat-surface.js';
import { connectLinkIn, followConnectLink, squarePng } from './platforms.js';
import { SURFACES } from './surfaces.js';

const ALICE_DID = 'did:plc:iqspalicesim2bluesky4abc';
const LABEL = 'Bluesky @alice-iqsp.bsky.social';
const LINK = new RegExp(`^${LABEL}: published (https://bsky\\.app/profile/${ALICE_DID}/post/[234567a-z]{13})$`);

for (const { kind, start } of SURFACES) {
  describe(`Bluesky through ${kind}`, () => {
    let world: SurfaceWorld;
    let chat: ChatSurface;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let bsky: BlueskySimulator;
    let image: Buffer;

    beforeAll(async () => {
      [world, image] = await Promise.all([startWorld(start), squarePng(600)]);
      chat = world.surface;
      ({ alice, bob, carol } = chat.people);
      bsky = world.sims.sim<BlueskySimulator>('bluesky');
    }, 60_000);
    afterAll(() => world?.close(), 30_000);

    const png = (name: string): ChatFile => ({ name, mimetype: 'image/png', bytes: image, side: 600 });
    const summaryOf = (id: string) => chat.waitInThread(id, /^Post \w+: (published|partial|failed|unconfirmed)/);

    it('connects: /iqsp connect bluesky → private link → the entryway (PAR) → consent → callback → "connected" by DM', async () => {
      const reply = await chat.command(alice, 'connect bluesky');
      expect(reply).toContain('This link is only for you, works once, and expires in 15 minutes.');
      const outcome = await followConnectLink(world.sims, connectLinkIn(reply));
      expect(outcome.consentUrl.startsWith(`${bsky.url}/oauth/authorize?`)).toBe(true);
      expect(new URL(outcome.consentUrl).searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      expect(outcome.status).toBe(200);
      expect(outcome.html).toContain(`Connected ${LABEL}`);
      await chat.waitForDm(alice, new RegExp(`^connected: ${LABEL} \\(workspace [^)]+\\)$`));
      // A loopback install is the AT Protocol's loopback client; its session is DPoP-bound.
      expect(bsky.auth.sessions.at(-1)).toMatchObject({
        did: ALICE_DID,
        revoked: false,
        clientId: expect.stringMatching(/^http:\/\/localhost\?/),
      });
    });

    it('posts with an image after a ✅: the link in the thread, published exactly once with facets', async () => {
      const before = bsky.published.length;
      const approvals = chat.approvalCount();
      const caption = `Hello Bluesky from ${kind}! https://example.com/${kind.toLowerCase()}`;
      await chat.mention(bob, `post bluesky ${caption}`, [png('hello.png')]);
      const approval = await chat.nextApproval(approvals);
      await chat.expectApprovalRequest(approval, { requester: bob, targets: LABEL, caption });
      await chat.react(carol, approval.id, '✅');
      expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: published (1 of 1 published).`);
      const line = chat.thread(approval.id).find((l) => LINK.test(l));
      expect(line).toBeDefined();
      expect(bsky.published.length).toBe(before + 1);
      const post = bsky.published.at(-1)!;
      expect(line).toContain(post.permalink);
      expect(post).toMatchObject({ did: ALICE_DID, text: caption, media: 1 });
      expect(post.record.facets).toEqual([
        expect.objectContaining({
          features: [{ $type: 'app.bsky.richtext.facet#link', uri: `https://example.com/${kind.toLowerCase()}` }],
        }),
      ]);
    });

    it('a post whose answer was lost is unconfirmed, never resent; `verify` finds it by its record key', async () => {
      const before = bsky.published.length;
      // The PDS creates the record, then the connection drops before the answer.
      bsky.faults.push({ match: (m, p) => m === 'POST' && p === '/xrpc/com.atproto.repo.createRecord', kind: 'reset', process: true });
      const approvals = chat.approvalCount();
      await chat.postForm(bob, { targets: 'bluesky', caption: `Lost answer from ${kind}` });
      const approval = await chat.nextApproval(approvals);
      await chat.react(carol, approval.id, '✅');
      expect(await summaryOf(approval.id)).toMatch(/unconfirmed/);
      expect(bsky.published.length).toBe(before + 1);
      const verified = await chat.command(bob, `verify ${approval.postId}`);
      expect(verified).toContain(`Post ${approval.postId}, verified:`);
      expect(verified).toContain(`${LABEL}: published ${bsky.published.at(-1)!.permalink} (verified)`);
      expect(bsky.published.length).toBe(before + 1);
    });

    it('disconnect revokes the session at the authorization server and deletes the tokens', async () => {
      const revokes = bsky.requests.filter((r) => r.method === 'POST' && r.path === '/oauth/revoke').length;
      expect(await chat.command(alice, 'disconnect bluesky')).toBe(`disconnected: ${LABEL} (its tokens are deleted)`);
      expect(bsky.requests.filter((r) => r.method === 'POST' && r.path === '/oauth/revoke' && r.status === 200)).toHaveLength(revokes + 1);
      expect(bsky.auth.sessions.filter((s) => s.did === ALICE_DID).every((s) => s.revoked)).toBe(true);
      expect(await chat.command(bob, 'accounts')).not.toContain('Bluesky');
    });
  });
}
