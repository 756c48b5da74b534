/**
 * End to end through Slack, what only Slack has: the /iqsp post modal (views.open, the
 * TikTok privacy levels filled in by views.update, errors answered in place). The scenarios
 * every chat shares run in chat-surface.contract.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAccounts, startWorld, type SurfaceWorld } from './chat-surface.js';
import { PDF, requestsTo } from './platforms.js';
import { SlackSurface } from './slack-surface.js';

const ALICE = 'U0ALICE';

let world: SurfaceWorld<SlackSurface>;

beforeAll(async () => {
  world = await startWorld(() => SlackSurface.start());
  await connectAccounts(world, world.surface.people.alice);
}, 60_000);
afterAll(() => world?.close(), 30_000);

describe('the post modal and TikTok', () => {
  it('offers only the privacy levels TikTok says the creator allows (creator_info)', async () => {
    const { sims } = world;
    const slack = world.surface.driver;
    const updates = slack.fake.callsTo('views.update').length;
    const creatorInfos = requestsTo(sims, 'tiktok', 'POST', /^\/v2\/post\/publish\/creator_info\/query\/?$/).length;
    await slack.openPostModal(ALICE, 'post tiktok Dance');
    const update = await slack.fake.waitForCall(
      'views.update',
      (c) => slack.fake.callsTo('views.update').indexOf(c) >= updates && c.args.hash !== undefined,
      15_000,
    );
    const view = JSON.parse(update.args.view ?? '{}') as {
      blocks: Array<{ block_id?: string; element?: { options?: Array<{ value: string }> } }>;
    };
    const privacy = view.blocks.find((b) => b.block_id === 'tiktok_privacy');
    // The simulated creator offers PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS and SELF_ONLY.
    expect(privacy?.element?.options?.map((o) => o.value)).toEqual(['public', 'friends', 'private']);
    expect(requestsTo(sims, 'tiktok', 'POST', /^\/v2\/post\/publish\/creator_info\/query\/?$/).length).toBe(creatorInfos + 1);
  });
});

describe('validation refusal', () => {
  it('the modal offers every connected account, answers problems in place (response_action: errors) and keeps nothing', async () => {
    const slack = world.surface.driver;
    const { accountIds } = await slack.openPostModal(ALICE, 'post');
    expect(accountIds).toHaveLength(4);
    const mediaBefore = world.service.mediaFiles();
    const response = await slack.submitPostModal(ALICE, {
      caption: 'Our notes',
      accountIds: accountIds.slice(0, 1),
      files: [{ name: 'notes.pdf', mimetype: 'application/pdf', bytes: PDF }],
    });
    const body = (await response.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.media).toContain('"notes.pdf" is application/pdf, not an image or video');
    expect(world.service.mediaFiles()).toEqual(mediaBefore);
  });
});
