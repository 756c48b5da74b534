/**
 * Issue 15, found by the review: however a post is moved, it waits (and keeps its files) at most
 * SCHEDULE_MAX_DAYS from its request, so the README's bound on kept files holds; a caption that
 * opens with "Next" is a caption; a picker value out of range is refused, not a crash.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWhen, resolveWhen } from '../../src/core/schedule/when.js';
import { connectAda, HOUR, startSchedulingWorld, type SchedulingWorld } from './scheduling-world.js';

let w: SchedulingWorld;
beforeAll(async () => {
  w = await startSchedulingWorld();
  await connectAda(w);
}, 60_000);
afterAll(async () => {
  await w?.close();
});

describe('moving a post again and again', () => {
  it('never keeps it waiting, or its files, past SCHEDULE_MAX_DAYS from its request', async () => {
    const body = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#0978c8' } })
      .png()
      .toBuffer();
    const id = await w.post('U_ADA', 'post x Plain post with media', {}, [{ name: 'a.png', body }]);
    const asked = w.now().getTime();
    const media = () => w.app.services.db.selectFrom('media').select('expires_at').where('post_id', '=', id).executeTakeFirstOrThrow();
    w.advanceTo(asked + 20 * HOUR);
    expect(String((await w.say('U_ADA', `reschedule ${id} now`)).message.text)).toMatch(/publishes as soon as it is approved/);
    w.advanceTo(asked + 40 * HOUR);
    expect(String((await w.say('U_ADA', `reschedule ${id} in 28d`)).message.text)).toMatch(/now publishes/);
    w.advanceTo(asked + 28 * 24 * HOUR);
    const refused = String((await w.say('U_ADA', `reschedule ${id} in 29d`)).message.text);
    expect(refused).toMatch(/was not moved: a post can wait at most 30 days from its request \(SCHEDULE_MAX_DAYS\)/);
    const limit = asked + 30 * 24 * HOUR;
    expect(Date.parse((await media()).expires_at)).toBeLessThanOrEqual(limit + 24 * HOUR);
    const row = await w.postRow(id);
    expect(Date.parse(row.approval_expires_at)).toBeLessThanOrEqual(limit);
  });
});

describe('the words and values of a time', () => {
  it('reads `next` only as typed in lower case: "Next week…" is a caption', () => {
    expect(readWhen('Next week: our launch!')).toEqual({ kind: 'none' });
    expect(readWhen('next Weekly roundup')).toMatchObject({ kind: 'when', when: { kind: 'next' }, rest: 'Weekly roundup' });
  });

  it('refuses a picker value out of any calendar’s range as too far ahead', async () => {
    const resolved = await resolveWhen(
      { kind: 'instant', at: new Date(1e16) },
      { now: new Date('2026-12-03T12:00:00Z'), zone: 'UTC', maxDays: 30 },
    );
    expect(resolved.ok).toBe(false);
    expect(!resolved.ok && resolved.message).toMatch(/more than 30 days ahead/);
  });
});
