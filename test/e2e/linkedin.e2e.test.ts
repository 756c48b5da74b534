/**
 * LinkedIn end to end, through both chat surfaces: the built service (`node dist/cli.js serve`)
 * against the LinkedIn simulator and a fake chat. Alice connects LinkedIn through the simulated
 * consent page (her profile and the Page she ticks), Bob asks to post to both with an image,
 * Carol's ✅ publishes each exactly once with its link in the thread; an answer lost after
 * LinkedIn created the post leaves it unconfirmed until `verify` finds it; `disconnect` revokes
 * the grant only when its last account goes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkedinSimulator } from '../../src/simulators/linkedin.js';
import { startSimulators, type Simulators, type SimulatorsOptions } from '../../src/simulators/index.js';
import type { ChatSurface, Person } from './chat-surface.js';
import { connectLinkIn, followConnectLink, squarePng } from './platforms.js';
import { ServiceProcess } from './service.js';
import { SURFACES } from './surfaces.js';

const SUB = 'yrZCpj2ZYQ';
const PAGE = '2414183';

for (const { kind, start } of SURFACES) {
  describe(`LinkedIn through ${kind}`, () => {
    let sims: Simulators;
    let linkedin: LinkedinSimulator;
    let chat: ChatSurface;
    let service: ServiceProcess;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    let image: Buffer;

    beforeAll(async () => {
      // Processing ends on the first status read: the child polls at production intervals (3 s).
      const options = { linkedin: { processingPolls: 0 } } as SimulatorsOptions;
      [sims, chat, image] = await Promise.all([startSimulators(options), start(), squarePng(600)]);
      linkedin = sims.sim<LinkedinSimulator>('linkedin');
      service = await ServiceProcess.start({ ...sims.env, ...chat.env() });
      chat.attach(service);
      ({ alice, bob, carol } = chat.people);
    }, 60_000);
    afterAll(async () => {
      await service?.close();
      await Promise.all([sims?.close(), chat?.close()]);
    }, 30_000);

    const summaryOf = (id: string) => chat.waitInThread(id, /^Post \w+: (published|partial|failed)/);

    it('connects the member and the ticked Page through the consent page, one link', async () => {
      const reply = await chat.command(alice, 'connect linkedin');
      const outcome = await followConnectLink(sims, connectLinkIn(reply), { pages: [PAGE] });
      expect(outcome.consentUrl.startsWith(sims.env.LINKEDIN_AUTHORIZE_URL!)).toBe(true);
      expect(new URL(outcome.consentUrl).searchParams.get('scope')).toBe(
        'openid profile w_member_social w_organization_social r_organization_social rw_organization_admin',
      );
      expect(outcome.status).toBe(200);
      expect(outcome.html).toContain('Connected LinkedIn Ada Okafor, LinkedIn @acme');
      await chat.waitForDm(alice, /^connected: LinkedIn Ada Okafor, LinkedIn @acme \(workspace [^)]+\)$/);
      const accounts = await chat.command(bob, 'accounts');
      expect(accounts).toContain(`• LinkedIn @acme — connected by <@${alice.id}>`);
    });

    it('publishes to the Page and the member once each after a ✅, links in the thread', async () => {
      const before = linkedin.published.length;
      const approvals = chat.approvalCount();
      const caption = `Launch (v2) from ${kind}! #ship https://example.com/${kind.toLowerCase()}`;
      await chat.mention(bob, `post @acme,@AdaOkafor ${caption}`, [{ name: 'launch.png', mimetype: 'image/png', bytes: image, side: 600 }]);
      const approval = await chat.nextApproval(approvals);
      await chat.react(carol, approval.id, '✅');
      expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: published (2 of 2 published).`);
      const fresh = linkedin.published.slice(before);
      expect(fresh.map((p) => p.author).sort()).toEqual([`urn:li:organization:${PAGE}`, `urn:li:person:${SUB}`]);
      for (const post of fresh) {
        expect(post.text).toBe(caption);
        expect(post.media).toHaveLength(1);
      }
      const thread = chat.thread(approval.id);
      const page = fresh.find((p) => p.author.includes('organization'))!;
      const member = fresh.find((p) => p.author.includes('person'))!;
      expect(thread).toContain(`LinkedIn @acme: published ${page.permalink}`);
      expect(thread).toContain(`LinkedIn Ada Okafor: published ${member.permalink}`);
      expect(page.permalink).toMatch(/^https:\/\/www\.linkedin\.com\/feed\/update\/urn:li:share:\d+\/$/);
    });

    it('leaves a post whose answer was lost unconfirmed, and `verify` finds it live', async () => {
      const approvals = chat.approvalCount();
      const caption = `Answer lost from ${kind} (${Date.now()})`;
      linkedin.faults.push({ match: (method, path) => method === 'POST' && path === '/rest/posts', kind: 'reset', process: true });
      await chat.mention(bob, `post @acme ${caption}`);
      const approval = await chat.nextApproval(approvals);
      await chat.react(carol, approval.id, '✅');
      expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: partial (0 of 1 published, 1 unconfirmed).`);
      const made = linkedin.published.filter((p) => p.text === caption);
      expect(made).toHaveLength(1);

      const reply = await chat.command(carol, `verify ${approval.postId}`);
      expect(reply).toContain(`LinkedIn @acme: published ${made[0]!.permalink} (verified)`);
      await chat.waitInThread(approval.id, /^Post \w+: published \(1 of 1 published\)\.$/);
      // Reads only: still one post.
      expect(linkedin.published.filter((p) => p.text === caption)).toHaveLength(1);
    });

    it('disconnect revokes the grant only when its last account goes', async () => {
      expect(await chat.command(alice, 'disconnect linkedin @acme')).toMatch(/^disconnected: LinkedIn @acme \(its tokens are deleted\)/);
      expect(linkedin.memberGrantLive(SUB)).toBe(true);
      expect(await chat.command(alice, 'disconnect linkedin')).toMatch(/^disconnected: LinkedIn Ada Okafor \(its tokens are deleted\)/);
      expect(linkedin.memberGrantLive(SUB)).toBe(false);
      expect(linkedin.requests.filter((r) => r.path === '/oauth/v2/revoke' && r.status === 200)).toHaveLength(1);
    });
  });
}
