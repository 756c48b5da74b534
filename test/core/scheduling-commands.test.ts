/**
 * `scheduled`, `reschedule`, `cancel` and posting slots (issue 15), typed as people type them
 * (`inbound.text`), with ✅ as reactions, the real workers and the platform simulators; the clock
 * is the app's `now`, moved by the test (forward only, from Mon 4 Jan 2027 08:00 CET).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PUBLISH_QUEUE } from '../../src/core/posts/context.js';
import { POST_DUE_QUEUE } from '../../src/core/posts/schedule.js';
import { SchedulePreferences } from '../../src/core/schedule/preferences.js';
import { connectAda, HOUR, startSchedulingWorld, type SchedulingWorld } from './scheduling-world.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const iso = (value: string | null | undefined) => (value ? new Date(value).toISOString() : value);
const jobRunAt = async (postId: string, queue: string) => iso((await w.jobsOf(postId)).find((j) => j.queue === queue)?.run_at);
const admin = { isAdmin: true };

describe('posting slots', () => {
  it('an admin sets weekly slots in the workspace zone; `next` takes the next free slot, a second `next` the one after', async () => {
    expect((await w.say('U_ADA', 'timezone workspace Europe/Berlin', admin)).message.text).toMatch(
      /^This workspace's time zone is now Europe\/Berlin/,
    );
    expect((await w.say('U_ADA', 'slots mon-fri 09:00,13:00')).message.text).toBe('Only a workspace admin can change the posting slots.');
    expect((await w.say('U_ADA', 'slots mon-fri 09:00,13:00', admin)).message.text).toMatch(
      /^Posting slots are now .*\(Europe\/Berlin\)\.$/,
    );
    expect((await w.say('U_BOB', 'slots')).message.text).toMatch(/The next free one is Mon 4 Jan 09:00 CET\.$/);

    // Now: Mon 4 Jan 08:00 CET.
    const first = await w.post('U_ADA', 'post x next First in the queue');
    expect(iso((await w.postRow(first)).scheduled_at)).toBe('2027-01-04T08:00:00.000Z');
    const second = await w.post('U_ADA', 'post x next Second in the queue');
    expect(iso((await w.postRow(second)).scheduled_at)).toBe('2027-01-04T12:00:00.000Z');
    const thirdReply = await w.say('U_ADA', 'post x next Third in the queue');
    expect(thirdReply.message.text).toMatch(/^Post \w+ is scheduled for Tue 5 Jan 09:00 CET/);
    const third = /^Post (\w+)/.exec(thirdReply.message.text)![1]!;
    // A slot whose post ended is free again.
    expect((await w.say('U_ADA', `cancel ${first}`)).message.text).toBe(`cancelled: X @acme of post ${first}.`);
    const again = await w.post('U_ADA', 'post x next Takes the freed slot');
    expect(iso((await w.postRow(again)).scheduled_at)).toBe('2027-01-04T08:00:00.000Z');
    expect((await w.say('U_ADA', 'slots off', admin)).message.text).toMatch(/^Posting slots are off/);
    expect((await w.say('U_ADA', 'post x next No slots any more')).message.text).toMatch(/no free posting slot/);
    for (const id of [second, third, again]) await w.say('U_ADA', `cancel ${id}`);
  });
});

describe('scheduled, reschedule and cancel', () => {
  let pending = '';
  let approved = '';

  it('`scheduled` lists the upcoming posts with the time in the caller zone, targets and approvals so far', async () => {
    expect((await w.say('U_ADA', 'approvals 2', admin)).message.text).toBe('Posts in this workspace now need 2 approval(s).');
    pending = await w.post('U_ADA', 'post x at 2027-01-08 10:00 Pending with one approval');
    await w.react('U_BOB', pending);
    approved = await w.post('U_ADA', 'post facebook at 2027-01-06 18:00 Approved and waiting');
    await w.react('U_BOB', approved);
    await w.react('U_CARA', approved);
    expect(w.thread(approved).at(-1)).toBe('approved by <@U_CARA> (2 of 2): scheduled: it publishes Wed 6 Jan 18:00 CET.');
    await w.say('U_ADA', 'approvals 1', admin);

    // Dan's chat says he is in New York.
    const list = (await w.say('U_DAN', 'scheduled', { timeZone: 'America/New_York' })).message.text.split('\n');
    expect(list).toEqual([
      '*Scheduled posts* (times in America/New_York; now Mon 4 Jan 02:00 EST)',
      `• ${approved} Wed 6 Jan 12:00 EST: Facebook Acme Inc (approved)`,
      `• ${pending} Fri 8 Jan 04:00 EST: X @acme (1 of 2 approvals)`,
    ]);
    // Ada's own zone (set with `timezone`).
    expect((await w.say('U_ADA', 'scheduled')).message.text).toContain(`• ${pending} Fri 8 Jan 10:00 CET: X @acme (1 of 2 approvals)`);
  });

  it('`reschedule` moves a pending post: its approval window and due job move, its approvals are kept', async () => {
    const reply = await w.say('U_ADA', `reschedule ${pending} 2027-01-09 11:00`);
    expect(reply.message.text).toBe(`Post ${pending} now publishes Sat 9 Jan 11:00 CET once approved.`);
    expect(w.thread(pending).at(-1)).toBe('rescheduled by <@U_ADA>: it now publishes Sat 9 Jan 11:00 CET once approved.');
    const row = await w.postRow(pending);
    expect(iso(row.scheduled_at)).toBe('2027-01-09T10:00:00.000Z');
    expect(iso(row.approval_expires_at)).toBe('2027-01-09T10:00:00.000Z');
    expect(await jobRunAt(pending, POST_DUE_QUEUE)).toBe('2027-01-09T10:00:00.000Z');
    expect(w.approvalMessage(pending).message.text).toContain('Scheduled for Sat 9 Jan 11:00 CET');
    expect((await w.say('U_ADA', 'scheduled')).message.text).toContain(`• ${pending} Sat 9 Jan 11:00 CET: X @acme (1 of 2 approvals)`);

    // Its old time passes: it does not expire.
    w.advanceTo(Date.parse('2027-01-08T09:00:01.000Z'));
    await w.workersIdle();
    expect((await w.postRow(pending)).status).toBe('pending_approval');
  });

  it('`reschedule` moves an approved post: its publish jobs move; nothing goes out at the old time', async () => {
    // Now: Fri 8 Jan 10:00 CET.
    const start = w.now().getTime();
    const post = await w.post('U_ADA', 'post x in 2h Approved, then moved later');
    await w.react('U_BOB', post);
    expect(await jobRunAt(post, PUBLISH_QUEUE)).toBe(new Date(start + 2 * HOUR).toISOString());
    expect((await w.say('U_ADA', `reschedule ${post} in 5h`)).message.text).toMatch(new RegExp(`^Post ${post} now publishes .+ CET\\.$`));
    expect(w.thread(post).at(-1)).toMatch(/^rescheduled by <@U_ADA>: it now publishes .+ CET\.$/);
    expect(await jobRunAt(post, PUBLISH_QUEUE)).toBe(new Date(start + 5 * HOUR).toISOString());
    expect(iso((await w.postRow(post)).scheduled_at)).toBe(new Date(start + 5 * HOUR).toISOString());

    const tweets = w.tweetRequests();
    w.advanceTo(start + 5 * HOUR - 1000);
    await w.workersIdle();
    expect(w.tweetRequests()).toBe(tweets);
    expect((await w.postRow(post)).status).toBe('approved');
    w.advanceTo(start + 5 * HOUR);
    await w.waitForThread(post, /^X @acme: published https:\/\/x\.com\//);
    expect(w.tweetRequests()).toBe(tweets + 1);

    // Once published, it cannot be moved.
    await w.waitForThread(post, /^Post \w+: published/);
    expect((await w.say('U_ADA', `reschedule ${post} in 1h`)).message.text).toBe(
      `Post ${post} is published: only a post that has not started publishing can be rescheduled.`,
    );
  });

  it('the approved post overdue by its old time went out at its time; `reschedule <id> now` publishes an approved one at once', async () => {
    // The approved Facebook post was due Wed 6 Jan 18:00 CET: the clock has passed it, and it published.
    await w.waitForThread(approved, /^Facebook Acme Inc: published /);
    const post = await w.post('U_ADA', 'post x at 2027-01-20 12:00 Approved, then sent now');
    await w.react('U_BOB', post);
    const tweets = w.tweetRequests();
    expect((await w.say('U_ADA', `reschedule ${post} now`)).message.text).toBe(
      `Post ${post} publishes as soon as it is approved (it is: now).`,
    );
    expect(w.thread(post).at(-1)).toBe('rescheduled by <@U_ADA>: it publishes as soon as it is approved (it is: publishing now).');
    w.pokeWorkers();
    await w.waitForThread(post, /^X @acme: published https:\/\/x\.com\//);
    expect(w.tweetRequests()).toBe(tweets + 1);
    expect((await w.postRow(post)).scheduled_at).toBeNull();
  });

  it('`reschedule <id> now` on a pending post publishes as soon as it is approved', async () => {
    const post = await w.post('U_ADA', 'post x at 2027-01-20 12:30 Pending, then now');
    expect((await w.say('U_ADA', `reschedule ${post} now`)).message.text).toBe(`Post ${post} publishes as soon as it is approved.`);
    const row = await w.postRow(post);
    expect(row.scheduled_at).toBeNull();
    // Without a time it may be approved for the usual window.
    expect(iso(row.approval_expires_at)).toBe(new Date(w.now().getTime() + 72 * HOUR).toISOString());
    await w.react('U_BOB', post);
    expect(w.thread(post).at(-1)).toBe('approved by <@U_BOB> (1 of 1): publishing now.');
    await w.waitForThread(post, /^X @acme: published https:\/\/x\.com\//);
  });

  it('refuses someone else (an admin may), a past time, and a post whose publishing started', async () => {
    expect((await w.say('U_BOB', `reschedule ${pending} 2027-01-09 12:00`)).message.text).toBe(
      `Only the person who asked for post ${pending} or an admin can reschedule it.`,
    );
    expect((await w.say('U_BOB', `reschedule ${pending} 2027-01-09 12:00`, admin)).message.text).toBe(
      `Post ${pending} now publishes Sat 9 Jan 12:00 CET once approved.`,
    );
    expect(iso((await w.postRow(pending)).scheduled_at)).toBe('2027-01-09T11:00:00.000Z');
    expect((await w.say('U_ADA', `reschedule ${pending} 2027-01-04 09:00`)).message.text).toMatch(
      new RegExp(`^Post ${pending} was not moved\\. Mon 4 Jan 09:00 CET is in the past \\(it is .+ now\\)\\. Choose a later time\\.$`),
    );
    expect(iso((await w.postRow(pending)).scheduled_at)).toBe('2027-01-09T11:00:00.000Z');

    // Another instance's worker has claimed the publish job of an approved post (its target not moved yet).
    const post = await w.post('U_ADA', 'post x in 3h Claimed elsewhere');
    await w.react('U_BOB', post);
    const db = w.app.services.db;
    const key = (await w.jobsOf(post)).find((j) => j.queue === PUBLISH_QUEUE)!.dedupe_key!;
    await db
      .updateTable('jobs')
      .set({ status: 'running', claim_token: 'elsewhere', lease_owner: 'another-instance', lease_expires_at: '2099-01-01T00:00:00.000Z' })
      .where('dedupe_key', '=', key)
      .execute();
    const before = await w.postRow(post);
    expect((await w.say('U_ADA', `reschedule ${post} in 1h`)).message.text).toBe(
      `Post ${post} has started publishing; it can no longer be moved.`,
    );
    // Nothing moved: not the post, not its due job.
    expect(await w.postRow(post)).toEqual(before);
    expect(w.thread(post).filter((t) => t.startsWith('rescheduled'))).toEqual([]);
    await w.say('U_ADA', `cancel ${post}`);
  });

  it('`cancel` before the time cancels an approved post, and nothing is ever published', async () => {
    const start = w.now().getTime();
    const post = await w.post('U_ADA', 'post x in 1h Cancelled before its time');
    await w.react('U_BOB', post);
    expect((await w.say('U_ADA', `cancel ${post}`)).message.text).toBe(`cancelled: X @acme of post ${post}.`);
    expect(w.thread(post)).toContain('cancelled by <@U_ADA>: X @acme.');
    const tweets = w.tweetRequests();
    w.advanceTo(start + 2 * HOUR);
    await w.workersIdle();
    expect(w.tweetRequests()).toBe(tweets);
    expect((await w.postRow(post)).status).toBe('cancelled');
    expect((await w.jobsOf(post)).find((j) => j.queue === PUBLISH_QUEUE)?.status).toBe('cancelled');
    expect((await w.say('U_ADA', 'scheduled')).message.text).not.toContain(post);
    expect((await w.say('U_ADA', `reschedule ${post} in 1h`)).message.text).toBe(
      `Post ${post} is cancelled: only a post that has not started publishing can be rescheduled.`,
    );
  });

  it('the moved pending post is approved and publishes at its new time', async () => {
    await w.react('U_CARA', pending);
    expect(w.thread(pending).at(-1)).toBe('approved by <@U_CARA> (2 of 2): scheduled: it publishes Sat 9 Jan 12:00 CET.');
    expect(await jobRunAt(pending, PUBLISH_QUEUE)).toBe('2027-01-09T11:00:00.000Z');
    w.advanceTo(Date.parse('2027-01-09T11:00:00.000Z'));
    await w.waitForThread(pending, /^X @acme: published /);
  });
});

describe('a reschedule racing an approval', () => {
  it('approved between the reschedule reading the post and moving it: the answer and the approval message say it is approved', async () => {
    const postId = await w.post('U_ADA', 'post x in 2h Approved while being moved');
    const zoneOf = SchedulePreferences.prototype.zoneOf;
    const spy = vi.spyOn(SchedulePreferences.prototype, 'zoneOf').mockImplementation(async function (this: SchedulePreferences, ...args) {
      spy.mockRestore();
      await w.react('U_BOB', postId);
      return zoneOf.apply(this, args);
    });
    const reply = await w.say('U_ADA', `reschedule ${postId} in 3h`);
    expect((await w.postRow(postId)).status).toBe('approved');
    expect(reply.message.text).toMatch(new RegExp(`^Post ${postId} now publishes .+ CET\\.$`));
    expect(w.thread(postId).at(-1)).toMatch(/^rescheduled by <@U_ADA>: it now publishes .+ CET\.$/);
    const approval = w.approvalMessage(postId).message;
    expect(approval.text).toMatch(new RegExp(`^Post ${postId} from <@U_ADA>: approved\\.`));
    expect(approval.buttons).toBeUndefined();
    await w.say('U_ADA', `cancel ${postId}`);
  });
});
