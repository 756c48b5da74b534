/**
 * A scheduled post across a restart (issue 15): its due time lives in the database (the post's
 * `scheduled_at`, its jobs' `run_at`), so a new process on the same database acts on it exactly
 * as the one that stopped would have. Stopped before the time, the new process publishes it at
 * its time; down when the time came, it publishes it as it starts. Once each. The restart is in
 * process (stop the app, start a new one on the same database, chat and platforms), which lets
 * the clock be the test's; a SIGKILL mid-publish is test/e2e/restart.contract.test.ts's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISH_QUEUE } from '../../src/core/posts/context.js';
import { connectAda, HOUR, MINUTE, startSchedulingWorld, type SchedulingWorld } from './scheduling-world.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

/** Posts `caption` due in `hours`, approved at once by Bob unless `approve` is false. */
async function scheduled(caption: string, hours: number, approve = true): Promise<{ postId: string; due: number }> {
  const due = w.now().getTime() + hours * HOUR;
  const postId = await w.post('U_ADA', `post x in ${hours}h ${caption}`);
  if (approve) await w.react('U_BOB', postId);
  return { postId, due };
}

const tweetsSaying = (text: string) => w.h.sims.x.published.filter((t) => t.text === text).length;

describe('a restart before the due time', () => {
  it('the new process publishes the approved post at its time, once, and expires the unapproved one at its time', async () => {
    const approved = await scheduled('Survives a deploy', 2);
    const forgotten = await scheduled('Nobody approves this across a deploy', 2, false);

    await w.restart(approved.due - HOUR);
    await w.workersIdle();
    expect(tweetsSaying('Survives a deploy')).toBe(0);
    expect((await w.postRow(approved.postId)).status).toBe('approved');
    expect((await w.postRow(forgotten.postId)).status).toBe('pending_approval');

    w.advanceTo(approved.due - 1000);
    await w.workersIdle();
    expect(tweetsSaying('Survives a deploy')).toBe(0);

    w.advanceTo(approved.due);
    await w.waitForThread(approved.postId, /^X @acme: published https:\/\/x\.com\//);
    await w.waitForThread(approved.postId, /^Post \w+: published/);
    expect(Date.parse((await w.postRow(approved.postId)).finished_at!) - approved.due).toBeLessThan(MINUTE);
    await w.waitForThread(forgotten.postId, /^expired: nobody approved post \w+ by its time/);
    expect(Date.parse((await w.postRow(forgotten.postId)).finished_at!)).toBe(forgotten.due);

    w.advanceTo(approved.due + 10 * MINUTE);
    await w.workersIdle();
    expect(tweetsSaying('Survives a deploy')).toBe(1);
    expect(tweetsSaying('Nobody approves this across a deploy')).toBe(0);
    expect(w.thread(approved.postId).filter((t) => /^X @acme: /.test(t))).toHaveLength(1);
  });
});

describe('a restart after the due time (the process was down when it came)', () => {
  it('the new process publishes the approved post as it starts, once, and expires the unapproved one', async () => {
    const approved = await scheduled('Due while nobody was running', 1);
    const forgotten = await scheduled('Due unapproved while nobody was running', 1, false);
    const tweetsBefore = w.tweetRequests();

    // Down from 30 minutes before the time to 2 hours after it.
    w.advanceTo(approved.due - 30 * MINUTE);
    await w.workersIdle();
    const restartedAt = approved.due + 2 * HOUR;
    await w.restart(restartedAt);

    await w.waitForThread(approved.postId, /^X @acme: published https:\/\/x\.com\//);
    await w.waitForThread(approved.postId, /^Post \w+: published/);
    // As it starts: by the clock, nothing passed between the start and the publish.
    expect(Date.parse((await w.postRow(approved.postId)).finished_at!)).toBe(restartedAt);
    const said = await w.waitForThread(forgotten.postId, /^expired/);
    expect(said).toMatch(new RegExp(`^expired: nobody approved post ${forgotten.postId} by its time, `));

    w.advanceTo(restartedAt + 10 * MINUTE);
    await w.workersIdle();
    expect(tweetsSaying('Due while nobody was running')).toBe(1);
    expect(w.tweetRequests()).toBe(tweetsBefore + 1);
    expect((await w.jobsOf(approved.postId)).find((j) => j.queue === PUBLISH_QUEUE)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('a publish job claimed by a process that died at the due time is published by the new one once its lease runs out', async () => {
    const approved = await scheduled('Claimed by a process that died', 1);
    const key = (await w.jobsOf(approved.postId)).find((j) => j.queue === PUBLISH_QUEUE)!.dedupe_key!;
    w.advanceTo(approved.due - MINUTE);
    await w.workersIdle();
    // A process claimed it at its time and died before moving the target (the harness's lease is 3 s).
    const lease = 3_000;
    await w.app.services.db
      .updateTable('jobs')
      .set({
        status: 'running',
        claim_token: 'dead-process',
        lease_owner: 'dead-process',
        attempts: 1,
        lease_expires_at: new Date(approved.due + lease).toISOString(),
      })
      .where('dedupe_key', '=', key)
      .execute();
    await w.restart(approved.due + 1000);
    await w.workersIdle();
    expect(tweetsSaying('Claimed by a process that died')).toBe(0);

    w.advanceTo(approved.due + lease + 1);
    await w.waitForThread(approved.postId, /^X @acme: published https:\/\/x\.com\//);
    await w.waitForThread(approved.postId, /^Post \w+: published/);
    // Late by no more than the lease.
    expect(Date.parse((await w.postRow(approved.postId)).finished_at!) - approved.due).toBeLessThanOrEqual(lease + 1);
    w.advanceTo(approved.due + HOUR);
    await w.workersIdle();
    expect(tweetsSaying('Claimed by a process that died')).toBe(1);
  });
});
