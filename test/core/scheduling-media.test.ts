/**
 * Media of a scheduled post (issue 15): kept past MEDIA_TTL_HOURS from its upload until its time
 * (at most MEDIA_TTL_HOURS after it), then deleted by the cleanup job once its targets are
 * final. The cleanup runs as `iqsp cleanup` and the cron run it (`core.cleanup.run()`), with the
 * app's clock moved by the test.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAda, HOUR, startSchedulingWorld, type SchedulingWorld, type SentFile } from './scheduling-world.js';

let w: SchedulingWorld;
let counter = 0;

beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

/** A distinct square PNG each time (the store keeps files by content). */
async function png(): Promise<SentFile> {
  counter += 1;
  const body = await sharp({ create: { width: 600, height: 600, channels: 3, background: { r: counter * 40, g: 120, b: 200 } } })
    .png()
    .toBuffer();
  return { name: `picture-${counter}.png`, body };
}

async function mediaOf(postId: string) {
  return w.app.services.db
    .selectFrom('media')
    .select(['id', 'storage_key', 'expires_at', 'deleted_at'])
    .where('post_id', '=', postId)
    .execute();
}

async function storedKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const entry of w.app.core.mediaStore.list()) keys.add(entry.key);
  return keys;
}

/** Whether every file of the post is still stored, with its row live. */
async function kept(postId: string): Promise<boolean> {
  const media = await mediaOf(postId);
  const stored = await storedKeys();
  expect(media.length).toBeGreaterThan(0);
  return media.every((m) => m.deleted_at === null && stored.has(m.storage_key));
}

/** Whether every file of the post is deleted: its row marked, its file gone. */
async function gone(postId: string): Promise<boolean> {
  const media = await mediaOf(postId);
  const stored = await storedKeys();
  expect(media.length).toBeGreaterThan(0);
  return media.every((m) => m.deleted_at !== null && !stored.has(m.storage_key));
}

describe('media of a scheduled post', () => {
  it('is kept past MEDIA_TTL_HOURS from its upload until its time, published with the post, and deleted once its targets are final', async () => {
    const start = w.now().getTime();
    const due = start + 72 * HOUR;
    const scheduled = await w.post('U_ADA', 'post x in 3d A picture for Thursday', {}, [await png()]);
    await w.react('U_BOB', scheduled);
    const unapproved = await w.post('U_ADA', 'post x in 2d A picture nobody approves', {}, [await png()]);
    // A request without a time, for contrast: its media goes after MEDIA_TTL_HOURS (24 here).
    const unscheduled = await w.post('U_ADA', 'post x A picture waiting without a time', {}, [await png()]);

    // Kept until its time plus MEDIA_TTL_HOURS, at most.
    for (const m of await mediaOf(scheduled)) expect(new Date(m.expires_at).toISOString()).toBe(new Date(due + 24 * HOUR).toISOString());

    w.advanceTo(start + 25 * HOUR);
    const dayAfter = await w.app.core.cleanup.run();
    expect(dayAfter.mediaDeleted.filter((m) => m.postId === scheduled || m.postId === unapproved)).toEqual([]);
    expect(dayAfter.mediaDeleted.filter((m) => m.postId === unscheduled).map((m) => m.reason)).toEqual(['ttl']);
    expect(await kept(scheduled)).toBe(true);
    expect(await kept(unapproved)).toBe(true);
    expect(await gone(unscheduled)).toBe(true);

    // The unapproved one expires at its time; its media goes with the next cleanup.
    w.advanceTo(start + 48 * HOUR);
    await w.waitForThread(unapproved, /^expired/);
    const afterExpiry = await w.app.core.cleanup.run();
    expect(afterExpiry.mediaDeleted.filter((m) => m.postId === unapproved).map((m) => m.reason)).toEqual(['post-finished']);
    expect(await gone(unapproved)).toBe(true);

    w.advanceTo(due - 1000);
    await w.workersIdle();
    expect((await w.app.core.cleanup.run()).mediaDeleted.filter((m) => m.postId === scheduled)).toEqual([]);
    expect(await kept(scheduled)).toBe(true);

    w.advanceTo(due);
    await w.waitForThread(scheduled, /^X @acme: published https:\/\/x\.com\//);
    await w.waitForThread(scheduled, /^Post \w+: published/);
    expect(w.h.sims.x.published.find((t) => t.text === 'A picture for Thursday')?.media).toHaveLength(1);

    const afterPublish = await w.app.core.cleanup.run();
    expect(afterPublish.mediaDeleted.filter((m) => m.postId === scheduled).map((m) => m.reason)).toEqual(['post-finished']);
    expect(await gone(scheduled)).toBe(true);
  });

  it('moves with its post: rescheduled later, it is kept until the new time', async () => {
    const start = w.now().getTime();
    const postId = await w.post('U_ADA', 'post x in 1d A picture moved to next week', {}, [await png()]);
    await w.react('U_BOB', postId);
    expect((await w.say('U_ADA', `reschedule ${postId} in 7d`)).message.text).toMatch(/^Post \w+ now publishes /);
    const due = start + 7 * 24 * HOUR;
    for (const m of await mediaOf(postId)) expect(new Date(m.expires_at).toISOString()).toBe(new Date(due + 24 * HOUR).toISOString());

    // Past its first time plus MEDIA_TTL_HOURS.
    w.advanceTo(start + 3 * 24 * HOUR);
    expect((await w.app.core.cleanup.run()).mediaDeleted.filter((m) => m.postId === postId)).toEqual([]);
    expect(await kept(postId)).toBe(true);

    w.advanceTo(due);
    await w.waitForThread(postId, /^Post \w+: published/);
    expect(w.h.sims.x.published.find((t) => t.text === 'A picture moved to next week')?.media).toHaveLength(1);
    await w.app.core.cleanup.run();
    expect(await gone(postId)).toBe(true);
  });
});
