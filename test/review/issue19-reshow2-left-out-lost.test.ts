/**
 * Re-review of 0a2fc3c (issue 19): when the requesting instance's `postInChannel` fails after the
 * request was shown again (and that message stored), `create` now returns the post id, and the
 * requester is told "waiting for approval". But it returns before the `leftOut` note: the thread
 * is never told that `all` left YouTube out (it cannot take an image), and neither is the
 * requester, whose reply is the same as for a post going everywhere. The same request whose first
 * message merely arrives late (stored second: `afterShown` returns, and `create` says it in the
 * thread of the message in use) does get the note: only the failure path loses it, though that
 * process is alive and knows it.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SHOW_AGAIN_AFTER_MS } from '../../src/core/posts/expiry.js';
import { startSchedulingWorld, type SchedulingWorld } from '../core/scheduling-world.js';
import { holdApprovalMessage, approvalMessages as shownIn } from '../core/unstored-approval.js';

let w: SchedulingWorld;
let png: Buffer;

beforeAll(async () => {
  w = await startSchedulingWorld();
  expect((await w.h.connect('x')).status).toBe(200);
  expect((await w.h.connect('youtube')).status).toBe(200);
  png = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const approvalMessages = (postId: string) => shownIn(w, postId);

it('a first message failing after the re-show still says (in the thread in use) which accounts `all` left out', async () => {
  // The requesting instance's call hangs, then fails; the expiry check's goes through.
  const hold = holdApprovalMessage(w, 'failing');
  const { held } = hold;
  const fail = hold.release;
  let reply: unknown;
  try {
    const asked = w.say('U_ADA', 'post all A picture shown again', {}, [{ name: 'a.png', body: png }]).then(
      (r) => r,
      (error: unknown) => error,
    );
    await held;
    const { id: postId } = await w.app.services.db
      .selectFrom('posts')
      .select('id')
      .where('caption', '=', 'A picture shown again')
      .executeTakeFirstOrThrow();

    w.advanceTo(w.now().getTime() + SHOW_AGAIN_AFTER_MS + 1000);
    await w.app.core.cleanup.run();
    const [again] = approvalMessages(postId);
    expect(again).toBeDefined();

    fail();
    reply = await asked;
    expect((reply as { message: { text: string } }).message.text).toBe(`Post ${postId} is waiting for approval in this channel.`);
    expect((await w.postRow(postId)).status).toBe('pending_approval');
    // Nobody (requester, approvers) is told YouTube was left out.
    expect(w.h.chat.thread(again!.id)).toContainEqual(expect.stringMatching(/^Left out of "all", as they cannot take this post: YouTube/));
  } finally {
    hold.restore();
  }
});
