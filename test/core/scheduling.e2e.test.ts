/**
 * Scheduling end to end (issue 15), through the real entry points: commands as typed
 * (`inbound.text`), ✅ as reactions (`inbound.reaction`), the real durable workers and job
 * queue, the platform simulators. The clock is the app's `now` option: a test moves it and pokes
 * the workers, never waits for time to pass. Each test starts where the previous one left the
 * clock (it only moves forward), and names its times as dates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISH_QUEUE } from '../../src/core/posts/context.js';
import { POST_DUE_QUEUE } from '../../src/core/posts/schedule.js';
import { connectAda, HOUR, MINUTE, START, startSchedulingWorld, type SchedulingWorld } from './scheduling-world.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

describe('a post scheduled at a date and time, in the zone its requester set', () => {
  it('stores the UTC instant, says when in the approval message, waits once approved, publishes at its time, and replies the link', async () => {
    const reply = await w.say('U_ADA', 'post x at 2027-01-07 09:30 Launch day at half past nine');
    expect(reply.visibility).toBe('private');
    expect(reply.message.text).toMatch(/^Post [A-Z0-9]+ is scheduled for Thu 7 Jan 09:30 CET and waiting for approval in this channel\.$/);
    const postId = /^Post ([A-Z0-9]+)/.exec(reply.message.text)![1]!;
    const due = Date.parse('2027-01-07T08:30:00.000Z');

    const row = await w.postRow(postId);
    expect(new Date(row.scheduled_at!).toISOString()).toBe('2027-01-07T08:30:00.000Z');
    expect(row.schedule_zone).toBe('Europe/Berlin');
    // It may be approved until its time.
    expect(new Date(row.approval_expires_at).toISOString()).toBe('2027-01-07T08:30:00.000Z');

    const approval = w.approvalMessage(postId);
    expect(approval.message.text).toContain(`Post ${postId} from <@U_ADA> needs 1 approval(s)`);
    expect(approval.message.text).toContain('\nScheduled for Thu 7 Jan 09:30 CET\n');
    expect(approval.message.fields).toContainEqual({ label: 'Scheduled for', value: 'Thu 7 Jan 09:30 CET' });

    w.advanceTo(START + HOUR);
    await w.react('U_BOB', postId);
    expect(w.thread(postId)).toEqual(['approved by <@U_BOB> (1 of 1): scheduled: it publishes Thu 7 Jan 09:30 CET.']);
    expect((await w.postRow(postId)).status).toBe('approved');
    // Its publish job is due at its time, not now.
    const publishJob = (await w.jobsOf(postId)).find((j) => j.queue === PUBLISH_QUEUE)!;
    expect(publishJob.status).toBe('queued');
    expect(new Date(publishJob.run_at).toISOString()).toBe('2027-01-07T08:30:00.000Z');

    const tweetsBefore = w.tweetRequests();
    w.advanceTo(due - 1000);
    await w.workersIdle();
    expect(w.tweetRequests()).toBe(tweetsBefore);
    expect((await w.postRow(postId)).status).toBe('approved');
    expect(w.approvalMessage(postId).message.text).toContain('Scheduled for Thu 7 Jan 09:30 CET');

    w.advanceTo(due + 1000);
    const link = await w.waitForThread(postId, /^X @acme: published /);
    expect(link).toMatch(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/);
    expect(w.tweetRequests()).toBe(tweetsBefore + 1);
    expect(w.h.sims.x.published.at(-1)).toMatchObject({ text: 'Launch day at half past nine' });
    await w.waitForThread(postId, /^Post [A-Z0-9]+: published/);
    const done = await w.postRow(postId);
    expect(done.status).toBe('published');
    // Within a minute of its time, by the clock that drove it.
    expect(Date.parse(done.finished_at!) - due).toBeLessThan(MINUTE);
    expect((await w.jobsOf(postId)).find((j) => j.queue === POST_DUE_QUEUE)).toMatchObject({ status: 'succeeded' });
  });
});

describe('a scheduled post nobody approved by its time', () => {
  it('expires at its time by its due job (no cleanup run), said in the thread with how to schedule again', async () => {
    // Now: Thu 7 Jan 09:30:01 CET.
    const postId = await w.post('U_ADA', 'post x at 2027-01-08 12:00 Nobody will approve this one');
    const due = Date.parse('2027-01-08T11:00:00.000Z');
    const dueJob = (await w.jobsOf(postId)).find((j) => j.queue === POST_DUE_QUEUE)!;
    expect(new Date(dueJob.run_at).toISOString()).toBe('2027-01-08T11:00:00.000Z');

    w.advanceTo(due - 1000);
    await w.workersIdle();
    expect((await w.postRow(postId)).status).toBe('pending_approval');
    expect(w.thread(postId)).toEqual([]);

    // At its time, with no cleanup run (the harness's cron never fires): the due job ends it.
    w.advanceTo(due);
    const said = await w.waitForThread(postId, /^expired/);
    expect(said).toBe(
      `expired: nobody approved post ${postId} by its time, Fri 8 Jan 12:00 CET; nothing was published. ` +
        'To post it, ask again with a new time; a post still waiting for approval can be moved before its time with `reschedule <post-id> <when>`.',
    );
    const row = await w.postRow(postId);
    expect(row.status).toBe('expired');
    expect(Date.parse(row.finished_at!)).toBe(due);
    await w.h.chat.waitFor(() => new RegExp(`^Post ${postId} from <@U_ADA>: expired`).test(w.approvalMessage(postId).message.text));
    // Its targets never got publish jobs: only its due job ever existed.
    expect((await w.jobsOf(postId)).map((j) => [j.queue, j.status])).toEqual([[POST_DUE_QUEUE, 'succeeded']]);

    // A ✅ after its time changes nothing.
    const tweets = w.tweetRequests();
    await w.react('U_BOB', postId);
    expect((await w.postRow(postId)).status).toBe('expired');
    expect(w.thread(postId).at(-1)).toBe(`<@U_BOB>: post ${postId} is already expired; this ✅ changes nothing.`);
    await w.workersIdle();
    expect(w.tweetRequests()).toBe(tweets);
  });

  it('a request without a time still expires after APPROVAL_TTL_HOURS, saying so', async () => {
    const postId = await w.post('U_ADA', 'post x Unscheduled and ignored');
    w.advanceTo(w.now().getTime() + 72 * HOUR);
    await w.app.core.cleanup.run();
    expect(w.thread(postId)).toEqual([`expired: nobody approved post ${postId} within 72 hours; nothing was published.`]);
  });
});

describe('validation again just before publishing', () => {
  it('an account whose access was revoked at the platform between the approval and the time: that target waits for the reconnect (issue 17), the other publishes', async () => {
    const start = w.now().getTime();
    const postId = await w.post('U_ADA', 'post x,facebook in 2h Two targets, one revoked at X');
    await w.react('U_BOB', postId);
    w.advanceTo(start + HOUR);
    // Ada removed IQSP at x.com/settings/connected_apps; and the access token IQSP holds has lapsed meanwhile.
    const account = await w.app.services.db.selectFrom('social_accounts').selectAll().where('platform', '=', 'x').executeTakeFirstOrThrow();
    w.h.sims.x.revokeAccount(account.platform_account_id);
    const tweets = w.tweetRequests();
    const graph = w.h.sims.graph.published.length;

    w.advanceTo(start + 2 * HOUR);
    const waiting = await w.waitForThread(postId, /^X @acme: /);
    expect(waiting).toMatch(
      /^X @acme: waiting for reconnect: .+ can fix it with `connect x`; it publishes by itself once the account is connected again\.$/,
    );
    await w.waitForThread(postId, /^Facebook Acme Inc: published https:\/\/\S+$/);
    expect(w.tweetRequests()).toBe(tweets);
    expect(w.h.sims.graph.published.length).toBe(graph + 1);
    // Connected again: the waiting target goes out by itself, once.
    expect((await w.h.connect('x')).status).toBe(200);
    expect(await w.waitForThread(postId, /^Post [A-Z0-9]+: /)).toBe(`Post ${postId}: published (2 of 2 published).`);
    await w.waitForThread(postId, /^X @acme: published https:\/\/\S+$/);
  });

  it('an account disconnected between the approval and the time fails that target with the reason; the other target publishes', async () => {
    const start = w.now().getTime();
    const postId = await w.post('U_ADA', 'post x,facebook in 2h Two targets, one will be gone');
    const due = start + 2 * HOUR;
    await w.react('U_BOB', postId);
    expect(w.thread(postId)[0]).toMatch(/^approved by <@U_BOB> \(1 of 1\): scheduled: it publishes /);

    w.advanceTo(start + HOUR);
    const disconnected = await w.say('U_ADA', 'disconnect x');
    expect(disconnected.message.text).toMatch(/disconnected/);
    await w.workersIdle();
    expect((await w.postRow(postId)).status).toBe('approved');

    const tweets = w.tweetRequests();
    const graph = w.h.sims.graph.published.length;
    w.advanceTo(due);
    const failed = await w.waitForThread(postId, /^X @acme: failed/);
    expect(failed).toMatch(/the account was disconnected before publishing; nothing was published there/);
    await w.waitForThread(postId, /^Facebook Acme Inc: published https:\/\/\S+$/);
    const summary = await w.waitForThread(postId, /^Post [A-Z0-9]+: (published|partial|failed)/);
    expect(summary).toBe(`Post ${postId}: partial (1 of 2 published).`);
    expect(w.tweetRequests()).toBe(tweets);
    expect(w.h.sims.graph.published.length).toBe(graph + 1);
  });
});

describe('a scheduled post in a workspace that needs no approval', () => {
  it('waits for its time, saying so in the reply and the thread, and publishes then', async () => {
    expect((await w.say('U_ADA', 'approvals 0', { isAdmin: true })).message.text).toBe(
      'Posts in this workspace now publish without approval.',
    );
    try {
      const start = w.now().getTime();
      const published = w.h.sims.graph.published.length;
      const reply = await w.say('U_ADA', 'post facebook at 2027-01-12 18:00 Nobody needs to approve this');
      expect(reply.message.text).toMatch(/^Post [A-Z0-9]+ is scheduled for Tue 12 Jan 18:00 CET \(no approval needed here\)\.$/);
      const postId = /^Post ([A-Z0-9]+)/.exec(reply.message.text)![1]!;
      const due = Date.parse('2027-01-12T17:00:00.000Z');
      expect(due).toBeGreaterThan(start);
      expect(w.thread(postId)).toEqual(['scheduled (no approval needed here): it publishes Tue 12 Jan 18:00 CET.']);
      expect(w.approvalMessage(postId).message.text).toContain('Scheduled for Tue 12 Jan 18:00 CET');
      expect((await w.postRow(postId)).status).toBe('approved');

      w.advanceTo(due - 1000);
      await w.workersIdle();
      expect(w.h.sims.graph.published.length).toBe(published);
      w.advanceTo(due);
      await w.waitForThread(postId, /^Facebook Acme Inc: published https:\/\/\S+$/);
      expect(w.h.sims.graph.published.length).toBe(published + 1);
    } finally {
      await w.say('U_ADA', 'approvals 1', { isAdmin: true });
    }
  });
});

describe('a post scheduled across a daylight-saving change', () => {
  it('is due at the instant its wall time has after the change, and a time the change skips is refused', async () => {
    // Fri 19 Mar 2027 in Berlin (CET); the clocks go forward on Sun 28 Mar at 02:00.
    w.advanceTo(Date.parse('2027-03-19T11:00:00.000Z'));
    // X was disconnected above: connected again.
    expect((await w.h.connect('x')).status).toBe(200);
    const gap = await w.say('U_ADA', 'post x at 2027-03-28 02:30 A time that does not exist');
    expect(gap.message.text).toContain('02:30 on Sun 28 Mar 2027 does not exist in Europe/Berlin');
    const reply = await w.say('U_ADA', 'post x at 2027-03-29 09:00 After the change');
    expect(reply.message.text).toMatch(/^Post [A-Z0-9]+ is scheduled for Mon 29 Mar 09:00 CEST and waiting for approval/);
    const postId = /^Post ([A-Z0-9]+)/.exec(reply.message.text)![1]!;
    const due = Date.parse('2027-03-29T07:00:00.000Z');
    expect(new Date((await w.postRow(postId)).scheduled_at!).getTime()).toBe(due);
    await w.react('U_BOB', postId);
    expect(w.thread(postId)).toEqual(['approved by <@U_BOB> (1 of 1): scheduled: it publishes Mon 29 Mar 09:00 CEST.']);

    const tweets = w.tweetRequests();
    w.advanceTo(due - 1000);
    await w.workersIdle();
    expect(w.tweetRequests()).toBe(tweets);
    w.advanceTo(due);
    await w.waitForThread(postId, /^X @acme: published https:\/\/x\.com\//);
    expect(w.tweetRequests()).toBe(tweets + 1);
  });
});
