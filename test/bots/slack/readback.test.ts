/**
 * A ✅ or ❌ given in Slack while IQSP could not receive events (it was down, or Slack could not
 * reach it) is not lost: the expiry check reads the approval message back with reactions.get
 * and decides what it finds, as if the events had arrived. Other bots' reactions and the
 * requester's own ✅ do not count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png, SlackHarness, until } from './harness.js';

let h: SlackHarness;
let image: Buffer;
const channel = 'C0GENERAL';
let tsCounter = 1_700_003_000;

beforeAll(async () => {
  h = await SlackHarness.start();
  await h.seedAccounts();
  image = await png();
});
afterAll(async () => {
  await h?.close();
});

function nextTs(): string {
  tsCounter += 1;
  return `${tsCounter}.000100`;
}

/** Alice asks for a post with a message that mentions the bot and carries a file; returns its id and approval message ts. */
async function request(caption: string): Promise<{ postId: string; ts: string }> {
  const ts = nextTs();
  const file = h.fake.addFile('T0001', 'launch.png', 'image/png', image);
  await h.event('event-message-file-share', {
    event_id: `Ev0RB${ts.replace('.', '')}`,
    event: { text: `<@U0BOT> post x ${caption}`, ts, event_ts: ts, files: [file] },
  });
  const post = await until(
    () =>
      h.db
        .selectFrom('posts')
        .select(['id', 'approval_message_id'])
        .where('caption', '=', caption)
        .where('approval_message_id', 'is not', null)
        .executeTakeFirst(),
    `the post "${caption}"`,
  );
  return { postId: post.id, ts: post.approval_message_id! };
}

const status = async (postId: string) =>
  (await h.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
const thread = (ts: string) =>
  h
    .calls('chat.postMessage')
    .filter((c) => c.args.thread_ts === ts)
    .map((c) => String(c.args.text));

describe('reactions IQSP did not receive', () => {
  it('a ✅ read back from the approval message approves and publishes the post', async () => {
    const { postId, ts } = await request('Approved while IQSP was down');
    // Alice's own ✅ and another bot's are there too; Bob's counts (skin tone and all).
    h.fake.addReaction(channel, ts, 'U0ALICE', 'white_check_mark');
    h.fake.addReaction(channel, ts, 'U0OTHERBOT', 'white_check_mark');
    h.fake.addReaction(channel, ts, 'U0BOB', 'white_check_mark::skin-tone-3');
    h.fake.addReaction(channel, ts, 'U0CAROL', 'tada');
    expect(await status(postId)).toBe('pending_approval');

    await h.core.cleanup.run();
    const read = h.calls('reactions.get').at(-1)!;
    expect(read.args).toMatchObject({ channel, timestamp: ts, full: 'true' });
    expect(read.token).toBe(h.fake.workspace.botToken);
    await until(
      () => thread(ts).includes('approved by <@U0BOB> (1 of 1): publishing now.') || undefined,
      `the approval in the thread: ${JSON.stringify(thread(ts))}`,
    );
    await until(async () => (await status(postId)) === 'published' || undefined, 'the post to be published');
    expect(h.published.filter((p) => p.caption === 'Approved while IQSP was down')).toHaveLength(1);
    expect(thread(ts)).toContain('<@U0ALICE>: The person who asked for a post cannot approve or reject it.');
    const bot = await h.db.selectFrom('chat_users').select('id').where('external_id', '=', 'U0OTHERBOT').executeTakeFirst();
    expect(bot).toBeUndefined();
  });

  it('a ❌ read back rejects the post', async () => {
    const { postId, ts } = await request('Rejected while IQSP was down');
    h.fake.addReaction(channel, ts, 'U0CAROL', 'x');
    await h.core.cleanup.run();
    expect(await status(postId)).toBe('rejected');
    expect(thread(ts)).toContain('rejected by <@U0CAROL>: nothing will be published.');
    const update = h
      .calls('chat.update')
      .filter((c) => c.args.ts === ts)
      .at(-1)!;
    expect(update.args.text).toContain(`Post ${postId} from <@U0ALICE>: rejected (by <@U0CAROL>).`);
  });

  it('a Slack that answers reactions.get with an error leaves the post waiting for the next check', async () => {
    const { postId, ts } = await request('Slack says no for now');
    h.fake.addReaction(channel, ts, 'U0BOB', 'white_check_mark');
    h.fake.failNext('reactions.get', 'ratelimited');
    await h.core.cleanup.run();
    expect(await status(postId)).toBe('pending_approval');
    await h.core.cleanup.run();
    await until(async () => (await status(postId)) !== 'pending_approval' || undefined, 'the post to be approved on the next check');
  });
});
