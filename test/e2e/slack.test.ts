/**
 * End to end through Slack: the built service (`node dist/cli.js serve`) runs as a child
 * process against the fake Slack and the platform simulators, and is driven only from outside
 * — signed requests to /slack/events, a browser's GETs of links, other CLI commands — and
 * observed only from outside: the Slack Web API calls it makes, what the platforms received,
 * its HTTP answers and the files it keeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulators } from '../../src/simulators/index.js';
import {
  connectLinkIn,
  difference,
  followConnectLink,
  issuedTokens,
  ONE_PAGE,
  PDF,
  publishedCounts,
  publishingRequests,
  rateLimitNextTweet,
  requestsTo,
  squarePng,
  startFastSimulators,
  X_SUPPORT_ACCOUNT,
} from './platforms.js';
import { ServiceProcess } from './service.js';
import { SlackDriver, type ApprovalMessage } from './slack-driver.js';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
/** Someone whose every trace must go when they ask. */
const ZED = { id: 'U0ZEDE2E4242', name: 'zed-zebrafish-e2e', realName: 'Zed Zebrafish Unique' };

let sims: Simulators;
let slack: SlackDriver;
let service: ServiceProcess;
let image: Buffer;
/** The post published everywhere, whose media the cleanup test expects gone. */
let launched: ApprovalMessage | undefined;

beforeAll(async () => {
  [sims, slack, image] = await Promise.all([startFastSimulators(), SlackDriver.start([ZED]), squarePng()]);
  service = await ServiceProcess.start({ ...sims.env, ...slack.env() });
  slack.appUrl = service.url;
}, 60_000);
afterAll(async () => {
  await service?.close();
  await Promise.all([sims?.close(), slack?.close()]);
}, 30_000);

/** An approved post's results: waits for the summary line in its thread. */
const summaryOf = (ts: string) => slack.waitInThread(ts, /^Post \w+: (published|partial|failed)/);

describe('connect', () => {
  it.each([
    ['x', 'X @acme', undefined],
    ['facebook', 'Facebook Acme Inc', ONE_PAGE],
    ['instagram', 'Instagram @acme', ONE_PAGE],
    ['tiktok', 'TikTok @acme', undefined],
  ] as const)('connects %s: private link → consent → callback page → "connected" in a DM', async (platform, label, choice) => {
    const reply = await slack.command(ALICE, `connect ${platform}`);
    expect(reply).toContain('This link is only for you, works once, and expires in 15 minutes.');
    const outcome = await followConnectLink(sims, connectLinkIn(reply), choice);
    expect(
      outcome.consentUrl.startsWith(sims.env[`${platform === 'instagram' ? 'FACEBOOK' : platform.toUpperCase()}_AUTHORIZE_URL`]!),
    ).toBe(true);
    expect(outcome.status).toBe(200);
    expect(outcome.html).toContain(`Connected ${label}`);
    await slack.waitForDm(ALICE, new RegExp(`^connected: ${label} \\(workspace [^)]+\\)$`));
  });

  it('lists the four accounts to anyone in the workspace', async () => {
    const reply = await slack.command(BOB, 'accounts');
    for (const label of ['X @acme', 'Facebook Acme Inc — post to it with @AcmeInc', 'Instagram @acme', 'TikTok @acme'])
      expect(reply).toContain(`• ${label} — connected by <@${ALICE}>`);
  });
});

describe('a post with approval to all four platforms', () => {
  it('from a mention with a file: approval message, a teammate’s ✅, links in the thread, each platform published once', async () => {
    const before = publishedCounts(sims);
    const approvals = slack.approvals().length;
    const caption = 'Launch day from Slack! https://example.com/launch';
    await slack.mention(ALICE, `post x,facebook,instagram,tiktok:public ${caption}`, [
      { name: 'launch.png', mimetype: 'image/png', bytes: image },
    ]);

    const approval = await slack.nextApproval(approvals);
    launched = approval;
    expect(approval.text).toMatch(new RegExp(`^Post ${approval.postId} from <@${ALICE}> needs 1 approval\\(s\\)`));
    expect(approval.text).toContain('Targets: X @acme, Facebook Acme Inc, Instagram @acme, TikTok @acme');
    expect(approval.text).toContain(`Caption: ${caption}`);
    expect(approval.imageUrl).toMatch(new RegExp(`^${service.url}/media/`));
    expect(slack.fake.downloads.at(-1)).toMatchObject({ authorized: true });

    await slack.react(BOB, approval.ts, 'white_check_mark');
    expect(await summaryOf(approval.ts)).toBe(`Post ${approval.postId}: published (4 of 4 published).`);
    const thread = slack.thread(approval.ts);
    expect(thread[0]).toBe(`approved by <@${BOB}> (1 of 1): publishing now.`);
    expect(thread).toContainEqual(expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/));
    expect(thread).toContainEqual(expect.stringMatching(/^Facebook Acme Inc: published https:\/\/\S+$/));
    expect(thread).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/\S+$/));
    expect(thread).toContainEqual(expect.stringMatching(/^TikTok @acme: published https:\/\/\S+$/));
    await expect
      .poll(() => slack.approvalUpdates(approval.ts).at(-1), { timeout: 15_000 })
      .toMatch(new RegExp(`^Post ${approval.postId} from <@${ALICE}>: published \\(4 of 4 published\\)`));

    expect(difference(publishedCounts(sims), before)).toEqual({ x: 1, facebook: 1, instagram: 1, tiktok: 1 });
    expect(sims.x.published.at(-1)).toMatchObject({ text: caption, username: 'acme' });
    expect(sims.x.published.at(-1)!.media).toHaveLength(1);
  });
});

describe('rejection', () => {
  it('through the /iqsp post modal: one ❌ rejects, the thread says so and nothing is published', async () => {
    const requestsBefore = publishingRequests(sims).length;
    const { accountIds } = await slack.openPostModal(ALICE, 'post x,instagram Not this one');
    expect(accountIds).toHaveLength(4);
    const approvals = slack.approvals().length;
    const chosen = accountIds.filter((_, i) => i < 2);
    const response = await slack.submitPostModal(ALICE, {
      caption: 'Not this one',
      accountIds: chosen,
      files: [{ name: 'maybe.png', mimetype: 'image/png', bytes: image }],
    });
    expect(await response.text()).toBe('');
    const approval = await slack.nextApproval(approvals);

    await slack.react(CAROL, approval.ts, 'x');
    await slack.waitInThread(approval.ts, new RegExp(`^rejected by <@${CAROL}>: nothing will be published\\.$`));
    await expect.poll(() => slack.approvalUpdates(approval.ts).at(-1) ?? '', { timeout: 15_000 }).toContain('rejected');
    // A ✅ after the veto changes nothing.
    await slack.react(BOB, approval.ts, 'white_check_mark');
    expect((await slack.command(ALICE, `status ${approval.postId}`)).split('\n')[0]).toBe(`Post ${approval.postId}: rejected`);
    expect(publishingRequests(sims)).toHaveLength(requestsBefore);
  });
});

describe('the post modal and TikTok', () => {
  it('offers only the privacy levels TikTok says the creator allows (creator_info)', async () => {
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
  it('a mention with a too-long caption and no TikTok privacy lists every problem per target; nothing is created or requested', async () => {
    const requestsBefore = publishingRequests(sims).length;
    const approvals = slack.approvals().length;
    const mediaBefore = service.mediaFiles();
    const ts = await slack.mention(ALICE, `post x,instagram,tiktok ${'a'.repeat(301)}`, [
      { name: 'long.png', mimetype: 'image/png', bytes: image },
    ]);

    const refusal = await slack.waitInThread(ts, /^Nothing was posted/);
    expect(refusal).toContain('• X @acme: X allows 280 characters; this caption counts 301.');
    expect(refusal).toMatch(/• TikTok @acme: .*privacy level/);
    expect(slack.approvals()).toHaveLength(approvals);
    expect(publishingRequests(sims)).toHaveLength(requestsBefore);
    expect(service.mediaFiles()).toEqual(mediaBefore);
  });

  it('the modal answers problems in place (response_action: errors) and keeps nothing', async () => {
    const { accountIds } = await slack.openPostModal(ALICE, 'post');
    const mediaBefore = service.mediaFiles();
    const response = await slack.submitPostModal(ALICE, {
      caption: 'Our notes',
      accountIds: accountIds.slice(0, 1),
      files: [{ name: 'notes.pdf', mimetype: 'application/pdf', bytes: PDF }],
    });
    const body = (await response.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.media).toContain('"notes.pdf" is application/pdf, not an image or video');
    expect(service.mediaFiles()).toEqual(mediaBefore);
  });
});

describe('a rate-limited publish', () => {
  it('X answers 429 with a reset 1–2 s ahead: said in the thread, retried once after the reset, one tweet', async () => {
    const limited = rateLimitNextTweet(sims);
    const approvals = slack.approvals().length;
    await slack.mention(BOB, 'post x Rate limited but patient');
    const approval = await slack.nextApproval(approvals);
    await slack.react(CAROL, approval.ts, 'white_check_mark');

    expect(await summaryOf(approval.ts)).toBe(`Post ${approval.postId}: published (1 of 1 published).`);
    limited.expectRetriedOnceAfterReset(slack.thread(approval.ts));
  });
});

describe('disconnect', () => {
  it('revokes at TikTok, deletes the tokens, confirms; TikTok is then not connected', async () => {
    const revokes = requestsTo(sims, 'tiktok', 'POST', /^\/v2\/oauth\/revoke\/?$/).length;
    expect(await slack.command(ALICE, 'disconnect tiktok')).toBe('disconnected: TikTok @acme (its tokens are deleted)');
    expect(requestsTo(sims, 'tiktok', 'POST', /^\/v2\/oauth\/revoke\/?$/)).toHaveLength(revokes + 1);
    expect(await slack.command(BOB, 'accounts')).not.toContain('TikTok');
    expect(await slack.command(ALICE, 'disconnect tiktok')).toBe('TikTok is not connected in this workspace.');
  });
});

describe('data rights', () => {
  it('data: one JSON file by DM with identity, accounts, posts and results, and no token', async () => {
    expect(await slack.command(ALICE, 'data')).toBe('Your data export is in your direct messages.');
    const [file] = slack.filesSentTo(ALICE);
    expect(file).toBeDefined();
    expect(file!.filename).toMatch(/\.json$/);
    const text = file!.bytes.toString('utf8');
    const doc = JSON.parse(text) as {
      you: Record<string, unknown>;
      accounts: Array<Record<string, unknown>>;
      posts: Array<{ caption: string; status: string; targets: unknown[] }>;
    };
    expect(doc.you).toMatchObject({ chat: 'slack', workspaceId: 'T0001', userId: ALICE, name: 'alice' });
    expect(doc.accounts.map((a) => a.platform).sort()).toEqual(['facebook', 'instagram', 'x']);
    const launchDoc = doc.posts.find((p) => p.caption.startsWith('Launch day from Slack!'));
    expect(launchDoc).toMatchObject({ status: 'published' });
    expect(JSON.stringify(launchDoc!.targets)).toMatch(/https:\/\/x\.com\/acme\/status\/\d+/);

    const tokens = issuedTokens(sims);
    expect(tokens.length).toBeGreaterThan(3);
    for (const token of tokens) expect(text, 'a token issued by a platform').not.toContain(token);
  });

  it('delete-my-data confirm: revoked at X, and the person is gone from the database files and the media folder', async () => {
    const tokensBefore = new Set(issuedTokens(sims));
    const reply = await slack.command(ZED.id, 'connect x');
    expect((await followConnectLink(sims, connectLinkIn(reply), { account: X_SUPPORT_ACCOUNT })).status).toBe(200);
    await slack.waitForDm(ZED.id, /^connected: X @acme_support \(workspace [^)]+\)$/);
    const zedTokens = issuedTokens(sims).filter((t) => !tokensBefore.has(t));
    expect(zedTokens.length).toBeGreaterThan(0);

    const caption = 'caption-zz-e2e-unique-9876';
    const photo = await squarePng(160, true);
    const approvals = slack.approvals().length;
    await slack.mention(ZED.id, `post @acme_support ${caption}`, [{ name: 'zz-e2e-photo.png', mimetype: 'image/png', bytes: photo }]);
    await slack.nextApproval(approvals);
    const stored = await service.storedBytes();
    for (const trace of [ZED.id, caption, 'zz-e2e-photo']) expect(stored, `before deletion, ${trace} is stored`).toContain(trace);

    expect(await slack.command(ZED.id, 'delete-my-data')).toMatch(
      /^This deletes 1 connected account\(s\) \(X @acme_support\), 1 post\(s\)/,
    );
    const revokes = requestsTo(sims, 'x', 'POST', /^\/2\/oauth2\/revoke$/).length;
    expect(await slack.command(ZED.id, 'delete-my-data confirm')).toMatch(
      /^deleted: your data in this workspace \(1 account\(s\), 1 post\(s\), 1 media file\(s\)/,
    );
    expect(requestsTo(sims, 'x', 'POST', /^\/2\/oauth2\/revoke$/).length).toBeGreaterThan(revokes);

    const raw = await service.storedBytes();
    for (const trace of [ZED.id, ZED.name, ZED.realName, caption, 'zz-e2e-photo', ...zedTokens])
      expect(raw, `${trace} is still stored`).not.toContain(trace);
    expect(raw, 'the photo’s bytes are still stored').not.toContain(photo.subarray(photo.length - 256).toString('latin1'));
    // Everyone else's data stays.
    expect(await slack.command(BOB, 'accounts')).toContain('• X @acme — connected by <@U0ALICE>');
  });
});

describe('media cleanup', () => {
  it('`iqsp cleanup` in a separate process deletes the media of finished posts; /media/:token then answers 404', async () => {
    const launch = launched;
    expect(launch?.imageUrl).toBeDefined();
    expect((await fetch(launch!.imageUrl!)).status).toBe(200);

    // A post still waiting for approval keeps its media.
    const approvals = slack.approvals().length;
    await slack.mention(ALICE, 'post x Still waiting', [{ name: 'waiting.png', mimetype: 'image/png', bytes: image }]);
    const waiting = await slack.nextApproval(approvals);

    const result = await service.cli(['cleanup']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^media deleted: [1-9]\d*$/m);
    expect(result.stdout).toContain(`post ${launch!.postId})`);
    expect(result.stdout).not.toContain(`post ${waiting.postId})`);

    expect((await fetch(launch!.imageUrl!)).status).toBe(404);
    expect((await fetch(waiting.imageUrl!)).status).toBe(200);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(await slack.command(ALICE, `cancel ${waiting.postId}`)).toMatch(/cancelled/);
  });
});
