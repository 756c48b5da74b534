/**
 * ONE end-to-end suite for every chat surface: the built service (`node dist/cli.js serve`)
 * runs as a child process against the platform simulators and a fake chat (Slack's Web API
 * and signed events; Discord's REST API and gateway), and the same scenarios are driven only
 * from outside — commands, mentions, the post form, reactions, a browser's GETs of links, other
 * CLI commands — and observed only from outside: what the app says in the chat, what the
 * platforms received, its HTTP answers and the files it keeps. Each surface's own cases live
 * in slack.test.ts and discord.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalSeen, type ChatFile, type ChatSurface, type Person, type SurfaceWorld, startWorld } from './chat-surface.js';
import {
  connectLinkIn,
  difference,
  followConnectLink,
  issuedTokens,
  ONE_PAGE,
  publishedCounts,
  publishingRequests,
  rateLimitNextTweet,
  requestsTo,
  squarePng,
  X_SUPPORT_ACCOUNT,
} from './platforms.js';
import { SURFACES } from './surfaces.js';

for (const { kind, start } of SURFACES) {
  describe(`chat surface: ${kind}`, () => {
    let world: SurfaceWorld;
    let chat: ChatSurface;
    let alice: Person;
    let bob: Person;
    let carol: Person;
    /** Someone whose every trace must go when they ask. */
    let zed: Person;
    let image: Buffer;
    /** The post published everywhere, whose media the cleanup test expects gone. */
    let launched: ApprovalSeen | undefined;

    beforeAll(async () => {
      [world, image] = await Promise.all([
        startWorld(start, (surface) => {
          zed = surface.addPerson('zed_zebrafish_e2e', 'Zed Zebrafish Unique');
        }),
        squarePng(),
      ]);
      chat = world.surface;
      ({ alice, bob, carol } = chat.people);
    }, 60_000);
    afterAll(() => world?.close(), 30_000);

    const png = (name: string, bytes = image, side = 1080): ChatFile => ({ name, mimetype: 'image/png', bytes, side });
    /** An approved post's results: waits for the summary line in its thread. */
    const summaryOf = (id: string) => chat.waitInThread(id, /^Post \w+: (published|partial|failed)/);

    describe('connect', () => {
      it.each([
        ['x', 'X @acme', undefined],
        ['facebook', 'Facebook Acme Inc', ONE_PAGE],
        ['instagram', 'Instagram @acme', ONE_PAGE],
        ['tiktok', 'TikTok @acme', undefined],
      ] as const)(
        'connects %s: /iqsp connect → private link → consent → callback page → "connected" by DM',
        async (platform, label, choice) => {
          const { sims } = world;
          const reply = await chat.command(alice, `connect ${platform}`);
          expect(reply).toContain('This link is only for you, works once, and expires in 15 minutes.');
          const outcome = await followConnectLink(sims, connectLinkIn(reply), choice);
          expect(
            outcome.consentUrl.startsWith(sims.env[`${platform === 'instagram' ? 'FACEBOOK' : platform.toUpperCase()}_AUTHORIZE_URL`]!),
          ).toBe(true);
          expect(outcome.status).toBe(200);
          expect(outcome.html).toContain(`Connected ${label}`);
          await chat.waitForDm(alice, new RegExp(`^connected: ${label} \\(workspace [^)]+\\)$`));
        },
      );

      it('lists the four accounts to anyone in the workspace', async () => {
        const reply = await chat.command(bob, 'accounts');
        for (const label of ['X @acme', 'Facebook Acme Inc — post to it with @AcmeInc', 'Instagram @acme', 'TikTok @acme'])
          expect(reply).toContain(`• ${label} — connected by <@${alice.id}>`);
      });
    });

    describe('a post with approval to all four platforms', () => {
      it('from a mention with a file: approval message, a teammate’s ✅, links in the thread, each platform published once', async () => {
        const { sims, service } = world;
        const before = publishedCounts(sims);
        const approvals = chat.approvalCount();
        const caption = `Launch day from ${kind}! https://example.com/${kind.toLowerCase()}`;
        await chat.mention(bob, `post x,facebook,instagram,tiktok:public ${caption}`, [png('launch.png')]);

        const approval = await chat.nextApproval(approvals);
        launched = approval;
        await chat.expectApprovalRequest(approval, {
          requester: bob,
          targets: 'X @acme, Facebook Acme Inc, Instagram @acme, TikTok @acme',
          caption,
        });
        expect(approval.imageUrl).toMatch(new RegExp(`^${service.url}/media/`));

        await chat.react(carol, approval.id, '✅');
        expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: published (4 of 4 published).`);
        const thread = chat.thread(approval.id);
        expect(thread[0]).toBe(`approved by <@${carol.id}> (1 of 1): publishing now.`);
        expect(thread).toContainEqual(expect.stringMatching(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/));
        expect(thread).toContainEqual(expect.stringMatching(/^Facebook Acme Inc: published https:\/\/\S+$/));
        expect(thread).toContainEqual(expect.stringMatching(/^Instagram @acme: published https:\/\/\S+$/));
        expect(thread).toContainEqual(expect.stringMatching(/^TikTok @acme: published https:\/\/\S+$/));
        await expect
          .poll(() => chat.current(approval.id), { timeout: 15_000 })
          .toMatch(new RegExp(`^Post ${approval.postId} from <@${bob.id}>: published \\(4 of 4 published\\)`));

        expect(difference(publishedCounts(sims), before)).toEqual({ x: 1, facebook: 1, instagram: 1, tiktok: 1 });
        expect(sims.x.published.at(-1)).toMatchObject({ text: caption, username: 'acme' });
        expect(sims.x.published.at(-1)!.media).toHaveLength(1);
      });
    });

    describe('rejection', () => {
      it('through the post form with a file: one ❌ rejects, the thread says so and nothing is published', async () => {
        const requestsBefore = publishingRequests(world.sims).length;
        const approvals = chat.approvalCount();
        const reply = await chat.postForm(bob, { targets: 'x,instagram', caption: 'Not this one', files: [png('maybe.png')] });
        const approval = await chat.nextApproval(approvals);
        expect(reply).toBe(chat.formAccepted(approval.postId));

        await chat.react(alice, approval.id, '❌');
        await chat.waitInThread(approval.id, new RegExp(`^rejected by <@${alice.id}>: nothing will be published\\.$`));
        await expect.poll(() => chat.current(approval.id), { timeout: 15_000 }).toContain('rejected');
        // A ✅ after the veto changes nothing.
        await chat.react(carol, approval.id, '✅');
        expect((await chat.command(bob, `status ${approval.postId}`)).split('\n')[0]).toBe(`Post ${approval.postId}: rejected`);
        expect(publishingRequests(world.sims)).toHaveLength(requestsBefore);
      });
    });

    describe('validation refusal', () => {
      it('a too-long caption and no TikTok privacy: every problem listed per target; nothing is created or requested', async () => {
        const { sims, service } = world;
        const requestsBefore = publishingRequests(sims).length;
        const approvals = chat.approvalCount();
        const mediaBefore = service.mediaFiles();
        const refusal = await chat.refusedPost(bob, { targets: 'x,instagram,tiktok', caption: 'a'.repeat(301), files: [png('long.png')] });

        expect(refusal).toMatch(/^Nothing was posted/);
        expect(refusal).toContain('• X @acme: X allows 280 characters; this caption counts 301.');
        expect(refusal).toMatch(/• TikTok @acme: .*privacy level/);
        expect(chat.approvalCount()).toBe(approvals);
        expect(publishingRequests(sims)).toHaveLength(requestsBefore);
        expect(service.mediaFiles()).toEqual(mediaBefore);
      });
    });

    describe('a rate-limited publish', () => {
      it('X answers 429 with a reset 1–2 s ahead: said in the thread, retried once after the reset, one tweet', async () => {
        const limited = rateLimitNextTweet(world.sims);
        const approvals = chat.approvalCount();
        const reply = await chat.postForm(bob, { targets: 'x', caption: 'Rate limited but patient' });
        const approval = await chat.nextApproval(approvals);
        expect(reply).toBe(chat.formAccepted(approval.postId));
        await chat.react(carol, approval.id, '✅');

        expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: published (1 of 1 published).`);
        limited.expectRetriedOnceAfterReset(chat.thread(approval.id));
      });
    });

    describe('disconnect', () => {
      it('revokes at TikTok, deletes the tokens, confirms; TikTok is then not connected', async () => {
        const { sims } = world;
        const revokes = requestsTo(sims, 'tiktok', 'POST', /^\/v2\/oauth\/revoke\/?$/).length;
        expect(await chat.command(alice, 'disconnect tiktok')).toBe('disconnected: TikTok @acme (its tokens are deleted)');
        expect(requestsTo(sims, 'tiktok', 'POST', /^\/v2\/oauth\/revoke\/?$/)).toHaveLength(revokes + 1);
        expect(await chat.command(bob, 'accounts')).not.toContain('TikTok');
        expect(await chat.command(alice, 'disconnect tiktok')).toBe('TikTok is not connected in this workspace.');
        expect(await chat.refusedPost(bob, { targets: 'tiktok:public', caption: 'Hello', files: [png('t.png')] })).toContain(
          'TikTok is not connected in this workspace',
        );
      });
    });

    describe('data rights', () => {
      it('data: one JSON file by DM with identity, accounts, posts and results, and no token', async () => {
        expect(await chat.command(bob, 'data')).toBe('Your data export is in your direct messages.');
        const bobExport = await chat.dataExport(bob);
        expect(bobExport.filename).toMatch(/\.json$/);
        const doc = JSON.parse(bobExport.text) as {
          you: Record<string, unknown>;
          posts: Array<{ caption: string; status: string; targets: unknown[] }>;
        };
        expect(doc.you).toMatchObject(chat.identity(bob));
        const launchDoc = doc.posts.find((p) => p.caption.startsWith(`Launch day from ${kind}!`));
        expect(launchDoc).toMatchObject({ status: 'published' });
        expect(JSON.stringify(launchDoc!.targets)).toMatch(/https:\/\/x\.com\/acme\/status\/\d+/);

        // Alice connected the accounts: her export lists them, with token metadata only.
        expect(await chat.command(alice, 'data')).toBe('Your data export is in your direct messages.');
        const aliceExport = await chat.dataExport(alice);
        expect(aliceExport.filename).toMatch(/\.json$/);
        const aliceDoc = JSON.parse(aliceExport.text) as {
          you: Record<string, unknown>;
          accounts: Array<{ platform: string; tokens: Array<{ name: string }> }>;
        };
        expect(aliceDoc.you).toMatchObject(chat.identity(alice));
        expect(aliceDoc.accounts.map((a) => a.platform).sort()).toEqual(['facebook', 'instagram', 'x']);
        expect(
          aliceDoc.accounts
            .find((a) => a.platform === 'x')!
            .tokens.map((t) => t.name)
            .sort(),
        ).toEqual(['access_token', 'refresh_token']);

        const tokens = issuedTokens(world.sims);
        expect(tokens.length).toBeGreaterThan(3);
        for (const token of tokens) {
          expect(bobExport.text, 'a token issued by a platform').not.toContain(token);
          expect(aliceExport.text, 'a token issued by a platform').not.toContain(token);
        }
      });

      it('delete-my-data confirm: revoked at X, and the person is gone from the database files and the media folder', async () => {
        const { sims, service } = world;
        const tokensBefore = new Set(issuedTokens(sims));
        const reply = await chat.command(zed, 'connect x');
        expect((await followConnectLink(sims, connectLinkIn(reply), { account: X_SUPPORT_ACCOUNT })).status).toBe(200);
        await chat.waitForDm(zed, /^connected: X @acme_support \(workspace [^)]+\)$/);
        const zedTokens = issuedTokens(sims).filter((t) => !tokensBefore.has(t));
        expect(zedTokens.length).toBeGreaterThan(0);

        const caption = `caption-zz-${kind.toLowerCase()}-unique-9876`;
        const photoName = `zz-${kind.toLowerCase()}-photo`;
        const photo = await squarePng(160, true);
        const approvals = chat.approvalCount();
        await chat.mention(zed, `post @acme_support ${caption}`, [png(`${photoName}.png`, photo, 160)]);
        await chat.nextApproval(approvals);
        const stored = await service.storedBytes();
        for (const trace of [zed.id, caption, photoName]) expect(stored, `before deletion, ${trace} is stored`).toContain(trace);

        expect(await chat.command(zed, 'delete-my-data')).toMatch(
          /^This deletes 1 connected account\(s\) \(X @acme_support\), 1 post\(s\)/,
        );
        const revokes = requestsTo(sims, 'x', 'POST', /^\/2\/oauth2\/revoke$/).length;
        expect(await chat.command(zed, 'delete-my-data confirm')).toMatch(
          /^deleted: your data in this workspace \(1 account\(s\), 1 post\(s\), 1 media file\(s\)/,
        );
        expect(requestsTo(sims, 'x', 'POST', /^\/2\/oauth2\/revoke$/).length).toBeGreaterThan(revokes);

        const raw = await service.storedBytes();
        for (const trace of [zed.id, zed.name, zed.displayName!, caption, photoName, ...zedTokens])
          expect(raw, `${trace} is still stored`).not.toContain(trace);
        expect(raw, 'the photo’s bytes are still stored').not.toContain(photo.subarray(photo.length - 256).toString('latin1'));
        // Everyone else's data stays.
        expect(await chat.command(bob, 'accounts')).toContain(`• X @acme — connected by <@${alice.id}>`);
      });
    });

    describe('media cleanup', () => {
      it('`iqsp cleanup` in a separate process deletes the media of finished posts; /media/:token then answers 404', async () => {
        const { service } = world;
        const launch = launched;
        expect(launch?.imageUrl).toBeDefined();
        expect((await fetch(launch!.imageUrl!)).status).toBe(200);

        // A post still waiting for approval keeps its media.
        const approvals = chat.approvalCount();
        await chat.mention(bob, 'post x Still waiting', [png('waiting.png')]);
        const waiting = await chat.nextApproval(approvals);

        const result = await service.cli(['cleanup']);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^media deleted: [1-9]\d*$/m);
        expect(result.stdout).toContain(`post ${launch!.postId})`);
        expect(result.stdout).not.toContain(`post ${waiting.postId})`);

        expect((await fetch(launch!.imageUrl!)).status).toBe(404);
        expect((await fetch(waiting.imageUrl!)).status).toBe(200);
        expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
        expect(await chat.command(bob, `cancel ${waiting.postId}`)).toMatch(/cancelled/);
      });

      it('`iqsp cleanup` in a separate process expires a request nobody decided and says so in its thread', async () => {
        const { service } = world;
        const approvals = chat.approvalCount();
        await chat.mention(bob, 'post x Nobody will look');
        const forgotten = await chat.nextApproval(approvals);
        // APPROVAL_TTL_HOURS went by.
        await service.read((db) =>
          db.updateTable('posts').set({ approval_expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', forgotten.postId).execute(),
        );

        const result = await service.cli(['cleanup']);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain(`approval requests expired: 1 (${forgotten.postId})`);
        // Said by the cleanup process itself, through the chat's API.
        expect(await chat.waitInThread(forgotten.id, /^expired: /)).toBe(
          `expired: nobody approved post ${forgotten.postId} within 72 hours; nothing was published.`,
        );
        expect((await chat.command(bob, `status ${forgotten.postId}`)).split('\n')[0]).toBe(`Post ${forgotten.postId}: expired`);
      });
    });

    describe('scheduling', () => {
      /** A time as this chat shows it in each reader's own zone: Slack's `<!date^…|fallback>`, Discord's `<t:…:F>`. */
      const shownTime = () =>
        chat.kind === 'slack' ? String.raw`<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+>` : String.raw`<t:\d+:F>`;

      it('approved ahead, a post scheduled in 2h waits (nothing sent), `scheduled` lists it, `reschedule now` publishes it once', async () => {
        const { sims } = world;
        const before = publishedCounts(sims);
        const approvals = chat.approvalCount();
        await chat.mention(bob, `post x in 2h Scheduled from ${kind}`);
        const approval = await chat.nextApproval(approvals);

        await chat.react(carol, approval.id, '✅');
        expect(await chat.waitInThread(approval.id, /^approved by /)).toMatch(
          new RegExp(`^approved by <@${carol.id}> \\(1 of 1\\): scheduled: it publishes ${shownTime()}\\.$`),
        );
        await expect.poll(() => chat.current(approval.id), { timeout: 15_000 }).toMatch(new RegExp(`Scheduled for ${shownTime()}`));
        const listed = await chat.command(bob, 'scheduled');
        expect(listed).toContain(`${approval.postId} `);
        expect(listed).toContain('X @acme (approved)');
        expect((await chat.command(bob, `status ${approval.postId}`)).split('\n')[0]).toMatch(
          new RegExp(`^Post ${approval.postId}: approved, scheduled for ${shownTime()}$`),
        );
        expect(publishedCounts(sims).x).toBe(before.x);

        expect(await chat.command(bob, `reschedule ${approval.postId} now`)).toBe(
          `Post ${approval.postId} publishes as soon as it is approved (it is: now).`,
        );
        expect(await summaryOf(approval.id)).toBe(`Post ${approval.postId}: published (1 of 1 published).`);
        expect(difference(publishedCounts(sims), before)).toEqual({ x: 1, facebook: 0, instagram: 0, tiktok: 0 });
        expect(await chat.command(bob, 'scheduled')).not.toContain(approval.postId);
      });

      it('a time in the past or beyond SCHEDULE_MAX_DAYS is refused, naming the problem; nothing is created', async () => {
        const approvals = chat.approvalCount();
        expect(await chat.command(bob, 'post x in 40d Too far')).toMatch(/more than 30 days ahead/);
        expect(await chat.command(bob, 'post x at 2001-01-01 09:00 Too late')).toMatch(/is in the past/);
        expect(chat.approvalCount()).toBe(approvals);
      });
    });
  });
}
