/**
 * restart.test.ts through Discord: the built service runs as a child process whose discord.js
 * client is logged in to the fake Discord; an approved post to all four platforms is being
 * published when the process is killed with SIGKILL, X holding the tweet request (X created the
 * tweet, the answer never came) and Instagram holding a request that created nothing. The
 * service is started again on the same database: nothing approved is lost, nothing is
 * published twice, the results land in the post's thread, and the bot is back on the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulators } from '../../src/simulators/index.js';
import { DiscordDriver } from './discord-driver.js';
import { expectEachPublishedOnce, heldRequestsArrived, holdXAndInstagram, reportedPlatforms, RESULT_LINE } from './mid-publish-crash.js';
import { connectLinkIn, followConnectLink, ONE_PAGE, squarePng, startFastSimulators } from './platforms.js';
import { ServiceProcess } from './service.js';

let sims: Simulators;
let discord: DiscordDriver;
let service: ServiceProcess;

beforeAll(async () => {
  [sims, discord] = await Promise.all([startFastSimulators(), DiscordDriver.start()]);
  service = await ServiceProcess.start({ ...sims.env, ...discord.env() });
  for (const [platform, choice] of [['x'], ['facebook', ONE_PAGE], ['instagram', ONE_PAGE], ['tiktok']] as const) {
    const { text } = await discord.command(discord.people.alice, 'connect', { platform });
    const outcome = await followConnectLink(sims, connectLinkIn(text), choice);
    if (outcome.status !== 200) throw new Error(`connecting ${platform} failed: ${outcome.html}`);
  }
}, 60_000);
afterAll(async () => {
  await service?.close();
  await Promise.all([sims?.close(), discord?.close()]);
}, 30_000);

describe('SIGKILL mid-publish, then a restart on the same database (Discord)', () => {
  it('resumes what had not started, reports the in-flight X post as unconfirmed without resending it, in the same thread, and publishes nothing twice', async () => {
    const { alice, bob } = discord.people;
    holdXAndInstagram(sims);

    const approvals = discord.approvals().length;
    discord.mention(alice, 'post x,facebook,instagram,tiktok:public Crash-proof launch', [
      discord.attachment('crash.png', 'image/png', await squarePng(), { width: 1080, height: 1080 }),
    ]);
    const approval = await discord.nextApproval(approvals);
    const threadId = approval.message.id;
    discord.react(bob, threadId, '✅');

    // The moment: the tweet exists at X, Instagram's request is held, Facebook and TikTok are done.
    await discord.waitInThread(threadId, /^Facebook Acme Inc: published /);
    await discord.waitInThread(threadId, /^TikTok @acme: published /);
    await heldRequestsArrived(sims, service);
    const resultLines = () => discord.thread(threadId).filter((t) => RESULT_LINE.test(t));
    expect(resultLines().filter((t) => /^(X|Instagram) /.test(t))).toEqual([]);
    await expect.poll(() => reportedPlatforms(service), { timeout: 15_000 }).toEqual(['facebook', 'tiktok']);

    const loginsBefore = discord.logins;
    const callsBefore = discord.sim.calls.length;
    await service.kill();
    const restartedAt = Date.now();
    await service.boot();

    // What the restarted process says, with its output when it does not come.
    const afterRestart = (pattern: RegExp) =>
      discord.waitInThread(threadId, pattern, 40_000).catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${service.tail()}`);
      });
    // The post was approved before the kill: the new process needs no ✅ (nor the approval
    // message in its cache) to finish it. The interrupted jobs come back once their lease,
    // held by the dead process, expires.
    const unconfirmed = await afterRestart(/^X @acme: unconfirmed/);
    expect(unconfirmed).toMatch(/may or may not be live/);
    expect(unconfirmed).toMatch(/Check before posting again\.$/);
    await afterRestart(/^Instagram @acme: published https:\/\/\S+$/);
    const summary = await afterRestart(/^Post \w+: (published|partial|failed)/);
    const recoveredInMs = Date.now() - restartedAt;
    expect(summary).toBe(`Post ${approval.postId}: partial (3 of 4 published, 1 unconfirmed).`);

    expectEachPublishedOnce(sims);
    expect(resultLines()).toHaveLength(4);

    // The restarted process said those three lines in the thread the first one started, and
    // started none of its own.
    const callsSince = discord.sim.calls.slice(callsBefore);
    expect(callsSince.filter((c) => c.method === 'POST' && c.path === `/channels/${threadId}/messages`)).toHaveLength(3);
    expect(callsSince.filter((c) => c.method === 'POST' && /\/threads$/.test(c.path))).toEqual([]);
    expect(discord.sim.threads().map((t) => t.id)).toEqual([threadId]);
    await expect
      .poll(() => discord.current(threadId), { timeout: 15_000 })
      .toMatch(new RegExp(`^Post ${approval.postId} from <@${alice.id}>: partial \\(3 of 4 published`));

    // Back on the gateway once the dead process's gateway lease expires: one session, and a
    // slash command is answered by the new process.
    await discord.waitForLogin(loginsBefore, 30_000);
    const loggedInMs = Date.now() - restartedAt;
    expect((await discord.command(alice, 'status', { post_id: approval.postId })).text.split('\n')[0]).toBe(
      `Post ${approval.postId}: partial`,
    );

    console.info(
      `[e2e restart, Discord] interrupted targets settled ${recoveredInMs} ms and the gateway was back ${loggedInMs} ms after the restart`,
    );
  }, 90_000);
});
