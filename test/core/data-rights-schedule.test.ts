/**
 * Issue 15 and the privacy promises: the zone a person sets and the times of their scheduled
 * posts are data about them. `data` exports them; `delete-my-data confirm` deletes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
const USER = 'U_TZ_PERSON';

beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x', USER)).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

describe('a person’s zone and scheduled times', () => {
  it('are in their export, and gone once they delete their data', async () => {
    expect((await h.run(USER, 'timezone Europe/Berlin')).message.text).toMatch(/^Your time zone is now Europe\/Berlin/);
    const posted = await h.run(USER, 'post x in 3d Later, then');
    expect(String(posted.message.text)).toMatch(/is scheduled for .+ and waiting for approval/);

    await h.run(USER, 'data');
    const delivered = h.chat.files.find((f) => f.user.userExternalId === USER)!;
    const doc = JSON.parse(delivered.file.content) as {
      you: { timeZone: string | null };
      posts: Array<{ scheduledAt: string | null; scheduleZone: string | null }>;
    };
    expect(doc.you.timeZone).toBe('Europe/Berlin');
    expect(doc.posts).toHaveLength(1);
    expect(doc.posts[0]!.scheduleZone).toBe('Europe/Berlin');
    expect(Date.parse(doc.posts[0]!.scheduledAt!)).toBeGreaterThan(Date.now() + 2.9 * 86_400_000);

    await h.run(USER, 'delete-my-data confirm');
    const db = h.app.services.db;
    expect(await db.selectFrom('chat_users').select('time_zone').where('external_id', '=', USER).execute()).toEqual([]);
    expect(await db.selectFrom('posts').select('id').where('schedule_zone', 'is not', null).execute()).toEqual([]);
  });
});
