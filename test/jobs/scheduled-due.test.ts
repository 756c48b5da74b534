/**
 * The due job of a scheduled post (POST_DUE_QUEUE, src/core/posts/schedule.ts) against the moves
 * that race it: a post that was moved is looked at again at its new time, whatever the due job
 * was doing when it moved. Driven through the chat commands and the real due worker, with the
 * app's clock moved by the test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostDecisions } from '../../src/core/posts/decisions.js';
import { POST_DUE_QUEUE } from '../../src/core/posts/schedule.js';
import { connectAda, HOUR, startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';

let w: SchedulingWorld;

beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const dueJob = async (postId: string) => (await w.jobsOf(postId)).find((j) => j.queue === POST_DUE_QUEUE);

describe('the due job of a scheduled post', () => {
  it('a post without a time, rescheduled, gets a due job and expires at its new time', async () => {
    const start = w.now().getTime();
    const postId = await w.post('U_ADA', 'post x No time at first');
    expect(await dueJob(postId)).toBeUndefined();
    expect((await w.say('U_ADA', `reschedule ${postId} in 2h`)).message.text).toMatch(/ once approved\.$/);
    expect(new Date((await dueJob(postId))!.run_at).toISOString()).toBe(new Date(start + 2 * HOUR).toISOString());

    w.advanceTo(start + 2 * HOUR - 1000);
    await w.workersIdle();
    expect((await w.postRow(postId)).status).toBe('pending_approval');
    w.advanceTo(start + 2 * HOUR);
    expect(await w.waitForThread(postId, /^expired/)).toMatch(/^expired: nobody approved post \w+ by its time, /);
  });

  it('moved while its due job was running (claimed, so it could not move), it expires at its new time, not never', async () => {
    const start = w.now().getTime();
    const postId = await w.post('U_ADA', 'post x in 1h Moved while its due job runs');
    // The reschedule lands between the due job's look at the post and its expiry.
    const expire = PostDecisions.prototype.expire;
    vi.spyOn(PostDecisions.prototype, 'expire').mockImplementation(async function (this: PostDecisions, id: string) {
      if (id === postId) {
        const moved = await w.say('U_ADA', `reschedule ${postId} in 3h`);
        expect(moved.message.text).toMatch(/ now publishes .+ once approved\.$/);
        vi.restoreAllMocks();
      }
      return expire.call(this, id);
    });
    w.advanceTo(start + HOUR);
    await w.h.chat.waitFor(() => w.thread(postId).find((t) => t.startsWith('rescheduled')));
    await w.workersIdle();
    const row = await w.postRow(postId);
    expect(row.status).toBe('pending_approval');
    expect(new Date(row.approval_expires_at).toISOString()).toBe(new Date(start + 4 * HOUR).toISOString());
    expect(w.thread(postId).filter((t) => t.startsWith('expired'))).toEqual([]);

    // Its new time comes: its due job ends it then (with no cleanup run).
    w.advanceTo(start + 4 * HOUR);
    expect(await w.waitForThread(postId, /^expired/)).toMatch(/^expired: nobody approved post \w+ by its time, /);
    expect(Date.parse((await w.postRow(postId)).finished_at!)).toBe(start + 4 * HOUR);
  });
});
