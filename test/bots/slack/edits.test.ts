/**
 * Edits in Slack (issue 16), through signed requests to the real app and the fake Slack: `/iqsp
 * edit` starts the approvals over (the approval message updated, a ✅ given before the edit not
 * counted even when its event arrives after, fresh ones publishing the new text); the post
 * modal's own-version fields and live counts (`block_actions` answered with `views.update`,
 * guarded by the view's hash, what was typed kept); the approval message's Edit button opening
 * the modal filled in, its submission applied and answered privately. The app's clock is a
 * variable the tests move; reactions and presses carry their own Slack time.
 */
import { fitsSlackForm, SLACK_FIELD_MAX } from '../../../src/bots/slack/post-form.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SlackHarness, until } from './harness.js';

let h: SlackHarness;
let clock = new Date('2026-12-03T10:00:00Z');
const CHANNEL = 'C0GENERAL';

beforeAll(async () => {
  h = await SlackHarness.start({ now: () => clock, env: { APPROVALS_REQUIRED: '2' } });
  await h.seedAccounts();
});
afterAll(async () => {
  await h?.close();
});

interface Block {
  type: string;
  block_id?: string;
  dispatch_action?: boolean;
  element?: Record<string, unknown>;
  elements?: Array<{ type: string; text: string }>;
}
interface View {
  title: { text: string };
  submit?: { text: string };
  private_metadata: string;
  blocks: Block[];
}

/** Moves the app's clock on by `seconds`. */
function later(seconds: number): Date {
  clock = new Date(clock.getTime() + seconds * 1000);
  return clock;
}

/** A Slack timestamp for `at` ("1764756000.000100"). */
function ts(at: Date): string {
  return `${Math.floor(at.getTime() / 1000)}.000100`;
}

let deliveries = 0;

/** `user` adds (or removes) ✅ on the message `messageTs`, stamped by Slack at `at`. */
function react(user: string, messageTs: string, at: Date, change: 'added' | 'removed' = 'added'): Promise<Response> {
  deliveries += 1;
  return h.event(`event-reaction-${change}`, {
    event_id: `Ev0EDIT${deliveries}`,
    event: { user, reaction: 'white_check_mark', item: { type: 'message', channel: CHANNEL, ts: messageTs }, event_ts: ts(at) },
  });
}

/** The texts posted in the thread of the message `messageTs`. */
function thread(messageTs: string): string[] {
  return h.calls('chat.postMessage').flatMap((c) => (c.args.thread_ts === messageTs ? [String(c.args.text)] : []));
}

/** The context lines (live counts) under the field `blockId` in `view`, or undefined when it has none. */
function countUnder(view: View, blockId: string): string[] | undefined {
  return view.blocks.find((b) => b.block_id === `${blockId}_count`)?.elements?.map((e) => e.text);
}

function byId(view: View): Map<string, Block> {
  return new Map(view.blocks.map((b) => [b.block_id ?? '', b]));
}

type Values = Record<string, Record<string, Record<string, unknown>>>;

const text = (value: string) => ({ type: 'plain_text_input', value });
const accounts = (...ids: string[]) => ({
  type: 'checkboxes',
  selected_options: ids.map((id) => ({ text: { type: 'plain_text', text: id }, value: id })),
});

/**
 * Alice types in (or chooses in) the open modal `viewId`: the `block_actions` Slack sends for
 * the field `actionId`, with the view's state `values` and the hash Slack gave it last; answers
 * with the `views.update` the app made, which names that hash.
 */
async function change(viewId: string, metadata: string, values: Values, actionId: string): Promise<{ view: View; hash: string }> {
  const before = h.calls('views.update').length;
  const hash = h.fake.viewHashes.get(viewId)!;
  expect(hash).toBeDefined();
  const field = values[actionId]![actionId]!;
  await h.interactive('block-actions-button', {
    user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0001' },
    container: { type: 'view', view_id: viewId },
    view: { id: viewId, team_id: 'T0001', type: 'modal', callback_id: 'iqsp_post', private_metadata: metadata, hash, state: { values } },
    actions: [{ ...field, action_id: actionId, block_id: actionId, action_ts: ts(clock) }],
  });
  const update = await until(() => h.calls('views.update')[before], 'views.update');
  expect(update.args.view_id).toBe(viewId);
  expect(update.args.hash).toBe(hash);
  return { view: json<View>(update.args.view), hash: String(update.args.hash) };
}

describe('/iqsp edit', () => {
  it('starts the approvals over: the approval message shows the new text and 0 of 2; a ✅ from before the edit does not count', async () => {
    const { postId } = await h.submitTextPost('Launch on Tuesdya');
    const approvalTs = h.approvalTs(postId);
    await react('U0BOB', approvalTs, later(10));
    await until(() => thread(approvalTs).some((t) => t.includes('approved by <@U0BOB> (1 of 2)')), "Bob's approval");
    const carolReacted = later(5); // Carol's ✅ is given now; Slack delivers it only after the edit.

    later(60);
    const updates = h.calls('chat.update').length;
    const { responseUrl } = await h.command(`edit ${postId} Launch on Tuesday`);
    expect((await h.replyTo(responseUrl)).text).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    const notice = await until(() => thread(approvalTs).find((t) => t.startsWith('edited by')), 'the edit notice');
    expect(notice).toContain('- Launch on Tuesdya\n+ Launch on Tuesday');
    expect(notice).toContain('approvals start over (0 of 2)');
    const update = await until(
      () =>
        h
          .calls('chat.update')
          .slice(updates)
          .find((c) => c.args.ts === approvalTs),
      'the approval message updated',
    );
    expect(String(update.args.blocks)).toContain('Launch on Tuesday');
    expect(String(update.args.blocks)).not.toContain('Tuesdya');
    expect(String(update.args.text)).toContain('0 of 2');

    // Carol's ✅, given before the edit, arrives now: the thread says it does not count.
    await react('U0CAROL', approvalTs, carolReacted);
    await until(
      () => thread(approvalTs).some((t) => t.includes('<@U0CAROL>: post') && t.includes('was edited after this ✅')),
      "the thread saying Carol's ✅ is stale",
    );
    expect(h.published).toHaveLength(0);

    // Fresh ✅: Bob adds his again, Carol takes hers off and adds it again; the new text goes out.
    await react('U0BOB', approvalTs, later(5), 'removed');
    const approvedBefore = thread(approvalTs).filter((t) => t.includes('approved by <@U0BOB> (1 of 2)')).length;
    await react('U0BOB', approvalTs, later(5));
    await until(
      () => thread(approvalTs).filter((t) => t.includes('approved by <@U0BOB> (1 of 2)')).length > approvedBefore,
      "Bob's fresh ✅",
    );
    expect(h.published).toHaveLength(0);
    await react('U0CAROL', approvalTs, later(5), 'removed');
    await react('U0CAROL', approvalTs, later(5));
    await until(() => h.published.length > 0, 'the post published');
    expect(h.published.map((p) => p.caption)).toEqual(['Launch on Tuesday']);
  });
});

describe('the post modal', () => {
  it('shows a live count under the caption and each own version, and a version field per chosen platform', async () => {
    const opens = h.calls('views.open').length;
    await h.command('post x Hi', { trigger_id: 'trigger-counts' });
    const open = await until(() => h.calls('views.open')[opens], 'the post modal');
    const opened = json<View>(open.args.view);
    const viewId = [...h.fake.viewHashes.keys()].at(-1)!;
    const caption = byId(opened).get('caption')!;
    expect(caption.dispatch_action).toBe(true);
    expect(caption.element).toMatchObject({ dispatch_action_config: { trigger_actions_on: ['on_character_entered'] } });
    expect(byId(opened).get('targets')!.dispatch_action).toBe(true);
    expect(countUnder(opened, 'caption')).toEqual(['X: 2 of 280 weighted characters']);
    expect(byId(opened).has('version_x')).toBe(true);
    expect(byId(opened).has('version_tiktok')).toBe(false);

    // Alice types a link: X counts it as 23, whatever its length.
    const typed = 'See https://example.com/a/very/long/path/to/the/launch/page';
    const values: Values = { caption: { caption: text(typed) }, targets: { targets: accounts('acct-x') } };
    const first = await change(viewId, opened.private_metadata, values, 'caption');
    expect(countUnder(first.view, 'caption')).toEqual(['X: 27 of 280 weighted characters']);
    expect(byId(first.view).get('caption')!.element!.initial_value).toBe(typed);

    // She chooses TikTok too: a TikTok version field appears, the caption counts for both.
    values.targets = { targets: accounts('acct-x', 'acct-tiktok') };
    const second = await change(viewId, opened.private_metadata, values, 'targets');
    expect(byId(second.view).has('version_tiktok')).toBe(true);
    expect(countUnder(second.view, 'caption')).toEqual([`TikTok: ${typed.length} of 2,200 characters`, 'X: 27 of 280 weighted characters']);
    expect(byId(second.view).get('caption')!.element!.initial_value).toBe(typed);

    // An X version over X's limit: its count says so, for X alone; the caption's is unchanged.
    const long = 'y'.repeat(290);
    values.version_x = { version_x: text(long) };
    const third = await change(viewId, opened.private_metadata, values, 'version_x');
    expect(countUnder(third.view, 'version_x')).toEqual(['⚠️ X: 290 of 280 weighted characters']);
    expect(countUnder(third.view, 'version_tiktok')).toBeUndefined();
    expect(byId(third.view).get('version_x')!.element!.initial_value).toBe(long);
    expect(byId(third.view).get('caption')!.element!.initial_value).toBe(typed);

    // Submitted with a shorter X version: X gets it, the caption stays for the rest.
    const ephemerals = h.calls('chat.postEphemeral').length;
    const submitted = await h.interactive('view-submission-post', {
      view: {
        id: viewId,
        state: {
          values: {
            caption: { caption: text('Launch day, everyone!') },
            targets: { targets: accounts('acct-x') },
            version_x: { version_x: text('Launch day!') },
            media: { media: { type: 'file_input', files: [] } },
          },
        },
      },
    });
    expect(submitted.status).toBe(200);
    const confirm = await until(
      () =>
        h
          .calls('chat.postEphemeral')
          .slice(ephemerals)
          .find((c) => String(c.args.text).includes('is waiting for approval')),
      'the confirmation',
    );
    const postId = /Post (\w{7})/.exec(String(confirm.args.text))![1]!;
    const target = await h.db.selectFrom('post_targets').select(['version']).where('post_id', '=', postId).executeTakeFirstOrThrow();
    expect(target.version).toBe('Launch day!');
  });

  it('a keystroke answered after a later one is refused by Slack (the hash) and changes nothing', async () => {
    const opens = h.calls('views.open').length;
    await h.command('post x Hi', { trigger_id: 'trigger-race' });
    const open = await until(() => h.calls('views.open')[opens], 'the post modal');
    const metadata = json<View>(open.args.view).private_metadata;
    const viewId = [...h.fake.viewHashes.keys()].at(-1)!;
    const stale = h.fake.viewHashes.get(viewId)!;
    await change(viewId, metadata, { caption: { caption: text('Hi!') }, targets: { targets: accounts('acct-x') } }, 'caption');
    const current = h.fake.viewHashes.get(viewId);
    expect(current).not.toBe(stale);
    // A late block_actions still carrying the old hash: the app sends it, Slack refuses it.
    const before = h.calls('views.update').length;
    await h.interactive('block-actions-button', {
      user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0001' },
      container: { type: 'view', view_id: viewId },
      view: {
        id: viewId,
        team_id: 'T0001',
        type: 'modal',
        callback_id: 'iqsp_post',
        private_metadata: metadata,
        hash: stale,
        state: { values: { caption: { caption: text('Hi') } } },
      },
      actions: [{ type: 'plain_text_input', action_id: 'caption', block_id: 'caption', value: 'Hi', action_ts: ts(clock) }],
    });
    const late = await until(() => h.calls('views.update')[before], 'the late update');
    expect(late.args.hash).toBe(stale);
    expect(h.fake.viewHashes.get(viewId)).toBe(current);
  });
});

describe('the Edit button', () => {
  it('opens the modal filled in for the requester; its submission edits the post, answered privately; a press before the edit does not count', async () => {
    const { postId } = await h.submitTextPost('Big news today');
    const approvalTs = h.approvalTs(postId);
    const pressedBefore = later(5);
    later(30);

    // Bob is not the requester: told so privately, the approval message left as it is.
    const bobPress = await h.interactive('block-actions-button', {
      trigger_id: 'trigger-bob-edit',
      container: { type: 'message', message_ts: approvalTs, channel_id: CHANNEL, is_ephemeral: false },
      response_url: `${h.fake.responseUrl()}`,
      actions: [
        {
          type: 'button',
          action_id: 'edit_post',
          block_id: 'b',
          value: postId,
          action_ts: ts(clock),
          text: { type: 'plain_text', text: 'Edit' },
        },
      ],
    });
    expect(bobPress.status).toBe(200);
    const refusal = await h.fake.waitForResponse((r) => String(r.body.text).includes(`can edit it`));
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(refusal.body.text)).toBe(`Only the person who asked for post ${postId} can edit it.`);

    const opens = h.calls('views.open').length;
    await h.interactive('block-actions-button', {
      user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0001' },
      trigger_id: 'trigger-alice-edit',
      container: { type: 'message', message_ts: approvalTs, channel_id: CHANNEL, is_ephemeral: false },
      actions: [
        {
          type: 'button',
          action_id: 'edit_post',
          block_id: 'b',
          value: postId,
          action_ts: ts(clock),
          text: { type: 'plain_text', text: 'Edit' },
        },
      ],
    });
    const open = await until(() => h.calls('views.open')[opens], 'the edit modal');
    expect(open.args.trigger_id).toBe('trigger-alice-edit');
    const view = json<View>(open.args.view);
    expect(view.title.text).toBe(`Edit post ${postId}`);
    expect(json(view.private_metadata)).toEqual({ channelId: CHANNEL, edit: { postId, platforms: ['x'] } });
    const blocks = byId(view);
    expect([...blocks.keys()]).toEqual(['caption', 'caption_count', 'version_x']);
    expect(blocks.get('caption')!.element!.initial_value).toBe('Big news today');
    expect(blocks.get('version_x')!.element!.initial_value).toBeUndefined();
    expect(countUnder(view, 'caption')).toEqual(['X: 14 of 280 weighted characters']);

    // Typing in the edit modal counts too, the form staying an edit.
    const viewId = [...h.fake.viewHashes.keys()].at(-1)!;
    const typed = await change(
      viewId,
      view.private_metadata,
      { caption: { caption: text('Big news') }, version_x: { version_x: text('') } },
      'caption',
    );
    expect(typed.view.title.text).toBe(`Edit post ${postId}`);
    expect(countUnder(typed.view, 'caption')).toEqual(['X: 8 of 280 weighted characters']);

    later(10);
    const ephemerals = h.calls('chat.postEphemeral').length;
    const submitted = await h.interactive('view-submission-post', {
      view: {
        id: viewId,
        title: { type: 'plain_text', text: `Edit post ${postId}` },
        private_metadata: view.private_metadata,
        state: { values: { caption: { caption: text('Big news today!') }, version_x: { version_x: text('Big news for X') } } },
      },
    });
    expect(submitted.status).toBe(200);
    expect(await submitted.text()).toBe('');
    const answer = await until(() => h.calls('chat.postEphemeral').slice(ephemerals)[0], 'the answer to the edit');
    expect(answer.args).toMatchObject({ channel: CHANNEL, user: 'U0ALICE' });
    expect(String(answer.args.text)).toBe(`Post ${postId} was edited; approvals start over (0 of 2), in its thread.`);
    const row = await h.db.selectFrom('posts').select(['caption']).where('id', '=', postId).executeTakeFirstOrThrow();
    expect(row.caption).toBe('Big news today!');
    const target = await h.db.selectFrom('post_targets').select(['version']).where('post_id', '=', postId).executeTakeFirstOrThrow();
    expect(target.version).toBe('Big news for X');

    // Bob's Approve, pressed before the edit but delivered after it, does not count.
    await h.interactive('block-actions-button', {
      container: { type: 'message', message_ts: approvalTs, channel_id: CHANNEL, is_ephemeral: false },
      actions: [
        {
          type: 'button',
          action_id: 'approve_post',
          block_id: 'b',
          value: postId,
          action_ts: ts(pressedBefore),
          text: { type: 'plain_text', text: 'Approve' },
        },
      ],
    });
    await until(
      () => thread(approvalTs).some((t) => t.includes('<@U0BOB>: post') && t.includes('was edited after this')),
      'the stale press',
    );
    const counted = await h.db.selectFrom('approvals').selectAll().where('post_id', '=', postId).where('counted', '!=', 0).execute();
    expect(counted).toHaveLength(0);
  });
});

describe('an edit the post form refuses', () => {
  it('answers privately why, and changes nothing', async () => {
    const { postId } = await h.submitTextPost('Short and sweet');
    const metadata = JSON.stringify({ channelId: CHANNEL, edit: { postId, platforms: ['x'] } });
    const ephemerals = h.calls('chat.postEphemeral').length;
    const submitted = await h.interactive('view-submission-post', {
      view: {
        private_metadata: metadata,
        state: { values: { caption: { caption: text('Short and sweet') }, version_x: { version_x: text('z'.repeat(281)) } } },
      },
    });
    expect(submitted.status).toBe(200);
    const answer = await until(() => h.calls('chat.postEphemeral').slice(ephemerals)[0], 'the answer to the edit');
    expect(answer.args.user).toBe('U0ALICE');
    expect(String(answer.args.text)).toContain(`Post ${postId} was not changed`);
    expect(String(answer.args.text)).toContain('X allows 280 characters');
    const target = await h.db.selectFrom('post_targets').select(['version']).where('post_id', '=', postId).executeTakeFirstOrThrow();
    expect(target.version).toBeNull();
  });
});

describe('an edit form Slack cannot hold', () => {
  it('is not opened for a caption or version longer than a Slack field takes (the form would cut it, and save it cut)', () => {
    const long = `${'word '.repeat(700)}the end.`;
    expect(long.length).toBeGreaterThan(SLACK_FIELD_MAX);
    expect(fitsSlackForm({ caption: long, platforms: [{ platform: 'facebook', version: '' }] })).toBe(false);
    expect(fitsSlackForm({ caption: 'Hi', platforms: [{ platform: 'facebook', version: long }] })).toBe(false);
    expect(fitsSlackForm({ caption: 'Hi', platforms: [{ platform: 'x', version: 'a'.repeat(SLACK_FIELD_MAX) }] })).toBe(true);
  });
});
