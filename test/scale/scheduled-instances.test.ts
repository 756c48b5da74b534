/**
 * Several instances on one database with posts falling due (issue 15): three apps (each with its
 * publish, notice and due workers) on one database, one chat and one set of platform
 * simulators, the clock the test's own. Posts due at the same instant are each published
 * exactly once, and those nobody approved expire exactly once, whichever instance claims their
 * jobs; an instance stopped just before the time changes nothing. Meant for PostgreSQL (claims
 * there are `FOR UPDATE SKIP LOCKED`); on SQLite the three share one file, whose writers take
 * turns, and it holds there too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAda, HOUR, startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
import { TEST_DIALECT } from '../helpers/db.js';

const APPROVED = 12;
const UNAPPROVED = 4;

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
  await w.startInstance();
  await w.startInstance();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

describe(`three instances on one database (${TEST_DIALECT}) with posts due at the same instant`, () => {
  it('publish each approved post exactly once and expire each unapproved one exactly once', async () => {
    expect(w.apps).toHaveLength(3);
    const due = w.now().getTime() + 2 * HOUR;
    const approved: string[] = [];
    const unapproved: string[] = [];
    for (let i = 0; i < APPROVED; i += 1) {
      const postId = await w.post('U_ADA', `post x in 2h Due together, number ${i}`);
      await w.react('U_BOB', postId);
      approved.push(postId);
    }
    for (let i = 0; i < UNAPPROVED; i += 1) unapproved.push(await w.post('U_ADA', `post x in 2h Nobody approves number ${i}`));

    w.advanceTo(due - 1000);
    await w.workersIdle();
    expect(w.tweetRequests()).toBe(0);

    w.advanceTo(due);
    for (const postId of approved) await w.waitForThread(postId, /^Post \w+: published/);
    for (const postId of unapproved) await w.waitForThread(postId, /^expired/);
    w.advanceTo(due + HOUR);
    await w.workersIdle();

    const published = w.h.sims.x.published;
    for (let i = 0; i < APPROVED; i += 1)
      expect(
        published.filter((t) => t.text === `Due together, number ${i}`),
        `post ${i}`,
      ).toHaveLength(1);
    expect(published.filter((t) => t.text?.startsWith('Nobody approves'))).toEqual([]);
    expect(w.tweetRequests()).toBe(APPROVED);
    for (const postId of approved)
      expect(
        w.thread(postId).filter((t) => /^X @acme: /.test(t)),
        postId,
      ).toHaveLength(1);
    for (const postId of unapproved)
      expect(
        w.thread(postId).filter((t) => t.startsWith('expired')),
        postId,
      ).toHaveLength(1);
    // Each due job ran once (a second claim would count a second attempt).
    const jobs = await w.app.services.db
      .selectFrom('jobs')
      .select(['queue', 'status', 'attempts'])
      .where('queue', '=', 'post-due')
      .execute();
    expect(jobs).toHaveLength(APPROVED + UNAPPROVED);
    expect(jobs.every((j) => j.status === 'succeeded' && j.attempts === 1)).toBe(true);
  });

  it('an instance stopped just before the time changes nothing: the others publish, once', async () => {
    const due = w.now().getTime() + HOUR;
    const postId = await w.post('U_ADA', 'post x in 1h One instance leaves before this');
    await w.react('U_BOB', postId);
    w.advanceTo(due - 1000);
    await w.workersIdle();
    const leaving = w.apps.find((a) => a !== w.app)!;
    await leaving.stop('scaled down (test)');
    w.apps.splice(w.apps.indexOf(leaving), 1);

    w.advanceTo(due);
    await w.waitForThread(postId, /^Post \w+: published/);
    w.advanceTo(due + HOUR);
    await w.workersIdle();
    expect(w.h.sims.x.published.filter((t) => t.text === 'One instance leaves before this')).toHaveLength(1);
  });
});
