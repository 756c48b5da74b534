/**
 * End to end through Discord: the built service (`node dist/cli.js serve`) runs as a child
 * process whose discord.js client logs in to the fake Discord (REST and gateway), with the
 * platform simulators behind it. People act through the gateway — slash commands, messages
 * that mention the bot, reactions — and a browser follows the links; everything is observed
 * from outside: the bot's messages, threads and DMs, what the platforms received, the files
 * the service keeps.
 */
import type { APIUser } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulators } from '../../src/simulators/index.js';
import { DiscordDriver, type DiscordApproval } from './discord-driver.js';
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

let sims: Simulators;
let discord: DiscordDriver;
let service: ServiceProcess;
let image: Buffer;
let zed: APIUser;
/** The post published everywhere, whose media the cleanup test expects gone. */
let launched: DiscordApproval | undefined;
const ZED_NAME = 'Zed Zebrafish Discord';

beforeAll(async () => {
  [sims, discord, image] = await Promise.all([startFastSimulators(), DiscordDriver.start(), squarePng()]);
  zed = discord.addMember('zed_zebrafish_e2e', ZED_NAME);
  service = await ServiceProcess.start({ ...sims.env, ...discord.env() });
}, 60_000);
afterAll(async () => {
  await service?.close();
  await Promise.all([sims?.close(), discord?.close()]);
}, 30_000);

const people = () => discord.people;
const png = (name: string, bytes = image, side = 1080) => discord.attachment(name, 'image/png', bytes, { width: side, height: side });
const summaryOf = (messageId: string) => discord.waitInThread(messageId, /^Post \w+: (published|partial|failed)/);

describe('connect', () => {
  it.each([
    ['x', 'X @acme', undefined],
    ['facebook', 'Facebook Acme Inc', ONE_PAGE],
    ['instagram', 'Instagram @acme', ONE_PAGE],
    ['tiktok', 'TikTok @acme', undefined],
  ] as const)(
    'connects %s: /iqsp connect → private link → consent → callback page → "connected" by DM',
    async (platform, label, choice) => {
      const { text } = await discord.command(people().alice, 'connect', { platform });
      expect(text).toContain('This link is only for you, works once, and expires in 15 minutes.');
      const outcome = await followConnectLink(sims, connectLinkIn(text), choice);
      expect(outcome.status).toBe(200);
      expect(outcome.html).toContain(`Connected ${label}`);
      await discord.waitForDm(people().alice, new RegExp(`^connected: ${label} \\(workspace [^)]+\\)$`));
    },
  );
});

describe('a post with approval to all four platforms', () => {
  it('from a message with an attachment: approval message, a teammate’s ✅, links in the thread, each platform published once', async () => {
    const before = publishedCounts(sims);
    const approvals = discord.approvals().length;
    const caption = 'Launch day from Discord! https://example.com/discord';
    discord.mention(people().bob, `post x,facebook,instagram,tiktok:public ${caption}`, [png('launch.png')]);

    const approval = await discord.nextApproval(approvals);
    launched = approval;
    const embed = approval.message.embeds[0]!;
    expect(embed.description).toMatch(new RegExp(`^Post ${approval.postId} from <@${people().bob.id}> needs 1 approval\\(s\\)`));
    expect(embed.fields).toContainEqual({
      name: 'Targets',
      value: 'X @acme, Facebook Acme Inc, Instagram @acme, TikTok @acme',
      inline: true,
    });
    expect(approval.imageUrl).toMatch(new RegExp(`^${service.url}/media/`));
    await discord.waitForDm(people().bob, new RegExp(`^Post ${approval.postId} is waiting for approval`));

    discord.react(people().carol, approval.message.id, '✅');
    expect(await summaryOf(approval.message.id)).toBe(`Post ${approval.postId}: published (4 of 4 published).`);
    const thread = discord.thread(approval.message.id);
    expect(thread[0]).toBe(`approved by <@${people().carol.id}> (1 of 1): publishing now.`);
    expect(thread).toContainEqual(expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/));
    expect(thread).toContainEqual(expect.stringMatching(/^Facebook Acme Inc: published https:\/\/\S+$/));
    expect(thread).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/\S+$/));
    expect(thread).toContainEqual(expect.stringMatching(/^TikTok @acme: published https:\/\/\S+$/));
    await expect
      .poll(() => discord.current(approval.message.id), { timeout: 15_000 })
      .toMatch(new RegExp(`^Post ${approval.postId} from <@${people().bob.id}>: published \\(4 of 4 published\\)`));

    expect(difference(publishedCounts(sims), before)).toEqual({ x: 1, facebook: 1, instagram: 1, tiktok: 1 });
    expect(sims.x.published.at(-1)).toMatchObject({ text: caption, username: 'acme' });
  });
});

describe('rejection', () => {
  it('from /iqsp post with media1: one ❌ rejects, the thread says so and nothing is published', async () => {
    const requestsBefore = publishingRequests(sims).length;
    const approvals = discord.approvals().length;
    const { text } = await discord.command(
      people().bob,
      'post',
      { targets: 'x,instagram', caption: 'Not this one' },
      { media1: png('maybe.png') },
    );
    const approval = await discord.nextApproval(approvals);
    expect(text).toBe(`Post ${approval.postId} is waiting for approval in this channel.`);

    discord.react(people().alice, approval.message.id, '❌');
    await discord.waitInThread(approval.message.id, new RegExp(`^rejected by <@${people().alice.id}>: nothing will be published\\.$`));
    await expect.poll(() => discord.current(approval.message.id), { timeout: 15_000 }).toContain('rejected');
    discord.react(people().carol, approval.message.id, '✅');
    expect((await discord.command(people().bob, 'status', { post_id: approval.postId })).text.split('\n')[0]).toBe(
      `Post ${approval.postId}: rejected`,
    );
    expect(publishingRequests(sims)).toHaveLength(requestsBefore);
  });
});

describe('validation refusal', () => {
  it('/iqsp post lists every problem per target; nothing is created or requested', async () => {
    const requestsBefore = publishingRequests(sims).length;
    const approvals = discord.approvals().length;
    const mediaBefore = service.mediaFiles();
    const { text } = await discord.command(
      people().bob,
      'post',
      { targets: 'x,instagram,tiktok', caption: 'a'.repeat(301) },
      { media1: png('long.png') },
    );
    expect(text).toMatch(/^Nothing was posted/);
    expect(text).toContain('• X @acme: X allows 280 characters; this caption counts 301.');
    expect(text).toMatch(/• TikTok @acme: .*privacy level/);
    expect(discord.approvals()).toHaveLength(approvals);
    expect(publishingRequests(sims)).toHaveLength(requestsBefore);
    expect(service.mediaFiles()).toEqual(mediaBefore);
  });

  it('a mention with a file that is not an image or video is refused by DM, keeping nothing', async () => {
    const mediaBefore = service.mediaFiles();
    const approvals = discord.approvals().length;
    discord.mention(people().bob, 'post x Our notes', [discord.attachment('notes.pdf', 'application/pdf', PDF)]);
    await discord.waitForDm(people().bob, /"notes\.pdf" is application\/pdf, not an image or video/);
    expect(discord.approvals()).toHaveLength(approvals);
    expect(service.mediaFiles()).toEqual(mediaBefore);
  });
});

describe('a rate-limited publish', () => {
  it('X answers 429 with a reset 1–2 s ahead: said in the thread, retried once after the reset, one tweet', async () => {
    const limited = rateLimitNextTweet(sims);
    const approvals = discord.approvals().length;
    await discord.command(people().bob, 'post', { targets: 'x', caption: 'Rate limited but patient' });
    const approval = await discord.nextApproval(approvals);
    discord.react(people().carol, approval.message.id, '✅');

    expect(await summaryOf(approval.message.id)).toBe(`Post ${approval.postId}: published (1 of 1 published).`);
    limited.expectRetriedOnceAfterReset(discord.thread(approval.message.id));
  });
});

describe('disconnect', () => {
  it('revokes at TikTok, deletes the tokens, confirms; TikTok is then not connected', async () => {
    const revokes = requestsTo(sims, 'tiktok', 'POST', /^\/v2\/oauth\/revoke\/?$/).length;
    expect((await discord.command(people().alice, 'disconnect', { platform: 'tiktok' })).text).toBe(
      'disconnected: TikTok @acme (its tokens are deleted)',
    );
    expect(requestsTo(sims, 'tiktok', 'POST', /^\/v2\/oauth\/revoke\/?$/)).toHaveLength(revokes + 1);
    expect((await discord.command(people().bob, 'accounts')).text).not.toContain('TikTok');
    expect(
      (await discord.command(people().bob, 'post', { targets: 'tiktok:public', caption: 'Hello' }, { media1: png('t.png') })).text,
    ).toContain('TikTok is not connected in this workspace');
  });
});

describe('data rights', () => {
  it('data: one JSON file by DM with identity, accounts, posts and results, and no token', async () => {
    expect((await discord.command(people().bob, 'data')).text).toBe('Your data export is in your direct messages.');
    const dm = await discord.waitForDm(people().bob, /tokens are never included/);
    const [attachment] = dm.attachments;
    expect(attachment?.filename).toMatch(/\.json$/);
    const text = await (await fetch(attachment!.url)).text();
    const doc = JSON.parse(text) as {
      you: Record<string, unknown>;
      posts: Array<{ caption: string; status: string; targets: unknown[] }>;
      approvals: unknown[];
    };
    expect(doc.you).toMatchObject({ chat: 'discord', workspaceId: discord.sim.world.guildId, userId: people().bob.id });
    const launchDoc = doc.posts.find((p) => p.caption.startsWith('Launch day from Discord!'));
    expect(launchDoc).toMatchObject({ status: 'published' });
    expect(JSON.stringify(launchDoc!.targets)).toMatch(/https:\/\/x\.com\/acme\/status\/\d+/);

    // Alice connected the accounts: her export lists them, with token metadata only.
    expect((await discord.command(people().alice, 'data')).text).toBe('Your data export is in your direct messages.');
    const aliceDm = await discord.waitForDm(people().alice, /tokens are never included/);
    const aliceText = await (await fetch(aliceDm.attachments[0]!.url)).text();
    const aliceDoc = JSON.parse(aliceText) as { accounts: Array<{ platform: string; tokens: Array<{ name: string }> }> };
    expect(aliceDoc.accounts.map((a) => a.platform).sort()).toEqual(['facebook', 'instagram', 'x']);
    expect(
      aliceDoc.accounts
        .find((a) => a.platform === 'x')!
        .tokens.map((t) => t.name)
        .sort(),
    ).toEqual(['access_token', 'refresh_token']);

    const tokens = issuedTokens(sims);
    for (const token of tokens) {
      expect(text, 'a token issued by a platform').not.toContain(token);
      expect(aliceText, 'a token issued by a platform').not.toContain(token);
    }
  });

  it('delete-my-data confirm: revoked at X, and the person is gone from the database files and the media folder', async () => {
    const tokensBefore = new Set(issuedTokens(sims));
    const { text } = await discord.command(zed, 'connect', { platform: 'x' });
    expect((await followConnectLink(sims, connectLinkIn(text), { account: X_SUPPORT_ACCOUNT })).status).toBe(200);
    await discord.waitForDm(zed, /^connected: X @acme_support \(workspace [^)]+\)$/);
    const zedTokens = issuedTokens(sims).filter((t) => !tokensBefore.has(t));
    expect(zedTokens.length).toBeGreaterThan(0);

    const caption = 'caption-zz-discord-unique-5432';
    const photo = await squarePng(160, true);
    const approvals = discord.approvals().length;
    discord.mention(zed, `post @acme_support ${caption}`, [png('zz-discord-photo.png', photo, 160)]);
    await discord.nextApproval(approvals);
    const stored = await service.storedBytes();
    for (const trace of [zed.id, caption, 'zz-discord-photo']) expect(stored, `before deletion, ${trace} is stored`).toContain(trace);

    expect((await discord.command(zed, 'delete-my-data')).text).toMatch(
      /^This deletes 1 connected account\(s\) \(X @acme_support\), 1 post\(s\)/,
    );
    const revokes = requestsTo(sims, 'x', 'POST', /^\/2\/oauth2\/revoke$/).length;
    expect((await discord.command(zed, 'delete-my-data', { confirm: true })).text).toMatch(
      /^deleted: your data in this workspace \(1 account\(s\), 1 post\(s\), 1 media file\(s\)/,
    );
    expect(requestsTo(sims, 'x', 'POST', /^\/2\/oauth2\/revoke$/).length).toBeGreaterThan(revokes);

    const raw = await service.storedBytes();
    for (const trace of [zed.id, zed.username, ZED_NAME, caption, 'zz-discord-photo', ...zedTokens])
      expect(raw, `${trace} is still stored`).not.toContain(trace);
    expect(raw, 'the photo’s bytes are still stored').not.toContain(photo.subarray(photo.length - 256).toString('latin1'));
    expect((await discord.command(people().bob, 'accounts')).text).toContain('X @acme — connected by');
  });
});

describe('media cleanup', () => {
  it('`iqsp cleanup` in a separate process deletes the media of finished posts; /media/:token then answers 404', async () => {
    const launch = launched;
    expect(launch?.imageUrl).toBeDefined();
    expect((await fetch(launch!.imageUrl!)).status).toBe(200);

    const approvals = discord.approvals().length;
    await discord.command(people().bob, 'post', { targets: 'x', caption: 'Still waiting' }, { media1: png('waiting.png') });
    const waiting = await discord.nextApproval(approvals);

    const result = await service.cli(['cleanup']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^media deleted: [1-9]\d*$/m);
    expect(result.stdout).toContain(`post ${launch!.postId})`);
    expect(result.stdout).not.toContain(`post ${waiting.postId})`);

    expect((await fetch(launch!.imageUrl!)).status).toBe(404);
    expect((await fetch(waiting.imageUrl!)).status).toBe(200);
    expect((await discord.command(people().bob, 'cancel', { post_id: waiting.postId })).text).toMatch(/cancelled/);
  });

  it('`iqsp cleanup` in a separate process expires a request nobody decided and says so in its thread', async () => {
    const approvals = discord.approvals().length;
    await discord.command(people().bob, 'post', { targets: 'x', caption: 'Nobody will look' }, { media1: png('forgotten.png') });
    const forgotten = await discord.nextApproval(approvals);
    // APPROVAL_TTL_HOURS went by.
    await service.read((db) =>
      db.updateTable('posts').set({ approval_expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', forgotten.postId).execute(),
    );

    const result = await service.cli(['cleanup']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`approval requests expired: 1 (${forgotten.postId})`);
    // Said by the cleanup process itself, through Discord's REST API.
    expect(await discord.waitInThread(forgotten.message.id, /^expired: /)).toBe(
      `expired: nobody approved post ${forgotten.postId} within 72 hours; nothing was published.`,
    );
    expect((await discord.command(people().bob, 'status', { post_id: forgotten.postId })).text.split('\n')[0]).toBe(
      `Post ${forgotten.postId}: expired`,
    );
  });
});
