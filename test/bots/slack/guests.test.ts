/**
 * Issue 13, finding 14: Slack guests (`is_restricted`, `is_ultra_restricted`) and people from
 * another organization in a shared channel (Slack Connect: users.info gives their own team) do
 * not approve or reject, by reaction or by button, unless an admin lists them as approvers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SlackHarness, until } from './harness.js';

let h: SlackHarness;
const channel = 'C0GENERAL';

beforeAll(async () => {
  h = await SlackHarness.start({
    prepare: (fake) =>
      fake.workspace.users.push(
        { id: 'U0GUEST', name: 'gus', realName: 'Gus Guest', isRestricted: true },
        { id: 'U0SINGLE', name: 'sid', realName: 'Sid Single', isUltraRestricted: true },
        { id: 'U0EXTERN', name: 'xena', realName: 'Xena External', homeTeamId: 'T0PARTNER' },
      ),
  });
  await h.seedAccounts();
});
afterAll(async () => {
  await h?.close();
});

let tsCounter = 1_700_005_000;
function nextTs(): string {
  tsCounter += 1;
  return `${tsCounter}.000100`;
}

/** Alice asks for a text post to X by mentioning the bot; resolves with its id and approval message ts. */
async function requestPost(caption: string): Promise<{ postId: string; ts: string }> {
  const before = h.calls('chat.postMessage').filter((c) => c.args.channel === channel && !c.args.thread_ts && c.args.blocks).length;
  const ts = nextTs();
  await h.event('event-app-mention', {
    event_id: `Ev0G${ts.replace('.', '')}`,
    event: { text: `<@U0BOT> post x ${caption}`, ts, event_ts: ts },
  });
  const call = await until(
    () => h.calls('chat.postMessage').filter((c) => c.args.channel === channel && !c.args.thread_ts && c.args.blocks)[before],
    'the approval message',
  );
  const actions = json<Array<{ type: string; elements?: Array<{ value?: string }> }>>(call.args.blocks).find((b) => b.type === 'actions');
  const postId = actions!.elements![0]!.value!;
  const row = await until(
    () =>
      h.db
        .selectFrom('posts')
        .select('approval_message_id')
        .where('id', '=', postId)
        .where('approval_message_id', 'is not', null)
        .executeTakeFirst(),
    'the stored approval message',
  );
  return { postId, ts: row.approval_message_id! };
}

async function react(user: string, ts: string, reaction = 'white_check_mark'): Promise<void> {
  const eventTs = nextTs();
  await h.event('event-reaction-added', {
    event_id: `Ev0R${eventTs.replace('.', '')}`,
    event: { user, reaction, item: { type: 'message', channel, ts }, event_ts: eventTs },
  });
}

async function click(user: string, actionId: 'approve_post' | 'reject_post', postId: string, ts: string): Promise<void> {
  await h.interactive('block-actions-button', {
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0PARTNER' },
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    message: { ts },
    actions: [
      {
        action_id: actionId,
        block_id: 'decide',
        type: 'button',
        value: postId,
        text: { type: 'plain_text', text: actionId },
        action_ts: nextTs(),
      },
    ],
  });
}

const threadTexts = (ts: string) =>
  h
    .calls('chat.postMessage')
    .filter((c) => c.args.thread_ts === ts)
    .map((c) => String(c.args.text));
const status = async (postId: string) =>
  (await h.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
const OUTSIDER =
  'Guests and people from outside this workspace can approve or reject posts only when an admin lists them as approvers (see `approvers`).';

describe('outsiders do not decide by default', () => {
  it("a multi-channel guest's ✅ and a single-channel guest's ❌ are not counted, and each is told why", async () => {
    const { postId, ts } = await requestPost('Guests look on');
    await react('U0GUEST', ts);
    await react('U0SINGLE', ts, 'x');
    await until(() => threadTexts(ts).length >= 2, 'both answers');
    expect(threadTexts(ts)).toEqual([`<@U0GUEST>: ${OUTSIDER}`, `<@U0SINGLE>: ${OUTSIDER}`]);
    expect(await status(postId)).toBe('pending_approval');
    const counted = await h.db.selectFrom('approvals').select('counted').where('post_id', '=', postId).execute();
    expect(counted.map((c) => c.counted)).toEqual([0, 0]);
    expect(h.published).toEqual([]);
  });

  it('someone from another organization (Slack Connect) neither approves by button nor vetoes by ❌', async () => {
    const { postId, ts } = await requestPost('Partners look on');
    await click('U0EXTERN', 'approve_post', postId, ts);
    await react('U0EXTERN', ts, 'x');
    await until(() => threadTexts(ts).length >= 2, 'both answers');
    expect(threadTexts(ts)).toEqual([`<@U0EXTERN>: ${OUTSIDER}`, `<@U0EXTERN>: ${OUTSIDER}`]);
    expect(await status(postId)).toBe('pending_approval');
    // A member still decides as before.
    await react('U0BOB', ts);
    await until(async () => (await status(postId)) !== 'pending_approval', "Bob's approval");
    expect(threadTexts(ts)).toContain('approved by <@U0BOB> (1 of 1): publishing now.');
  });

  it("a guest's ❌ read back from the approval message (given while IQSP was down) does not veto", async () => {
    const { postId, ts } = await requestPost('Read back while down');
    h.fake.addReaction(channel, ts, 'U0SINGLE', 'x');
    h.fake.addReaction(channel, ts, 'U0EXTERN', 'x');
    await h.core.cleanup.run();
    expect(h.calls('reactions.get').some((c) => c.args.timestamp === ts)).toBe(true);
    expect(await status(postId)).toBe('pending_approval');
    expect(threadTexts(ts)).toEqual([`<@U0SINGLE>: ${OUTSIDER}`, `<@U0EXTERN>: ${OUTSIDER}`]);
  });
});

describe('listed as approvers', () => {
  it('a guest an admin lists approves', async () => {
    const { responseUrl } = await h.command('approvers add <@U0GUEST|gus>', { user_id: 'U0ADMIN', user_name: 'ada' });
    expect((await h.replyTo(responseUrl)).text).toContain('<@U0GUEST>');
    const { postId, ts } = await requestPost('A listed guest approves');
    await react('U0GUEST', ts);
    await until(async () => (await status(postId)) !== 'pending_approval', "the guest's approval");
    expect(threadTexts(ts)).toContain('approved by <@U0GUEST> (1 of 1): publishing now.');
  });
});
