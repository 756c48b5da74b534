/**
 * From a request to a published post in Slack: the `/iqsp post` modal and a message with
 * files that mentions the bot, each to an approval message in Block Kit; ✅/❌ reactions and
 * Approve/Reject buttons; the thread replies with links; the approval message updated.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SlackCall } from '../../simulators/slack.js';
import { json, png, SlackHarness, until } from './harness.js';

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  image_url?: string;
  fields?: Array<{ text: string }>;
  elements?: Array<{ action_id: string; value?: string; style?: string; type: string }>;
  element?: Record<string, unknown>;
}

let h: SlackHarness;
let image: Buffer;
const channel = 'C0GENERAL';

beforeAll(async () => {
  h = await SlackHarness.start();
  await h.seedAccounts();
  image = await png();
});
afterAll(async () => {
  await h?.close();
});

let tsCounter = 1_700_002_000;
function nextTs(): string {
  tsCounter += 1;
  return `${tsCounter}.000100`;
}

/** The newest approval message the app posted in #general, with its post id and buttons. */
function approvalMessages(): Array<{ call: SlackCall; blocks: Block[]; postId: string }> {
  return h
    .calls('chat.postMessage')
    .filter((c) => c.args.channel === channel && !c.args.thread_ts && c.args.blocks)
    .map((call) => {
      const blocks = json<Block[]>(call.args.blocks);
      const actions = blocks.find((b) => b.type === 'actions');
      return { call, blocks, postId: actions?.elements?.[0]?.value ?? /Post (\w+)/.exec(call.args.text ?? '')?.[1] ?? '' };
    });
}

async function approvalOf(postId: string): Promise<string> {
  const row = await until(
    () => h.db.selectFrom('posts').select('approval_message_id').where('id', '=', postId).executeTakeFirst(),
    `post ${postId}`,
  );
  if (!row.approval_message_id) throw new Error(`post ${postId} has no approval message`);
  return row.approval_message_id;
}

function threadTexts(ts: string): string[] {
  return h
    .calls('chat.postMessage')
    .filter((c) => c.args.thread_ts === ts)
    .map((c) => String(c.args.text));
}

async function waitThread(ts: string, pattern: RegExp): Promise<string> {
  return until(
    () => threadTexts(ts).find((t) => pattern.test(t)),
    `a thread reply matching ${pattern}; thread so far: ${JSON.stringify(threadTexts(ts))}`,
  );
}

async function status(postId: string): Promise<string> {
  return (await h.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
}

function fileOf(name: string, mimetype: string, bytes: Buffer): Record<string, unknown> {
  return h.fake.addFile('T0001', name, mimetype, bytes);
}

/** Submits the post modal as Alice: caption, chosen account ids, TikTok privacy, files. */
async function submitModal(values: {
  caption?: string;
  accounts: string[];
  privacy?: string;
  files?: Array<Record<string, unknown>>;
}): Promise<Response> {
  const state: Record<string, unknown> = {
    caption: { caption: { type: 'plain_text_input', value: values.caption ?? null } },
    targets: {
      targets: {
        type: 'checkboxes',
        selected_options: values.accounts.map((id) => ({ text: { type: 'plain_text', text: id }, value: id })),
      },
    },
    media: { media: { type: 'file_input', files: values.files ?? [] } },
  };
  if (values.privacy)
    state.tiktok_privacy = {
      tiktok_privacy: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: values.privacy }, value: values.privacy },
      },
    };
  return h.interactive('view-submission-post', { view: { state: { values: state } } });
}

async function react(user: string, ts: string, reaction = 'white_check_mark', removed = false): Promise<void> {
  const eventTs = nextTs();
  await h.event(removed ? 'event-reaction-removed' : 'event-reaction-added', {
    event_id: `Ev0R${eventTs.replace('.', '')}`,
    event: { user, reaction, item: { type: 'message', channel, ts }, event_ts: eventTs },
  });
}

async function click(user: string, actionId: 'approve_post' | 'reject_post', postId: string, ts: string): Promise<void> {
  await h.interactive('block-actions-button', {
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0001' },
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

/** A post request through a message with a file; returns its post id and approval message ts. */
async function requestByMention(text: string): Promise<{ postId: string; ts: string }> {
  const before = approvalMessages().length;
  const ts = nextTs();
  await h.event('event-message-file-share', {
    event_id: `Ev0F${ts.replace('.', '')}`,
    event: { text, ts, event_ts: ts, files: [fileOf('launch.png', 'image/png', image)] },
  });
  const message = await until(() => approvalMessages()[before], 'an approval message');
  return { postId: message.postId, ts: await approvalOf(message.postId) };
}

describe('the /iqsp post modal', () => {
  it('opens with the caption prefilled, the accounts as checkboxes, TikTok privacy and a file input', async () => {
    const { response } = await h.command('post x,tiktok:public Launch day!', { trigger_id: 'trigger-1' });
    expect(response.status).toBe(200);
    const open = await h.fake.waitForCall('views.open');
    expect(open.args.trigger_id).toBe('trigger-1');
    const view = json<{ callback_id: string; private_metadata: string; blocks: Block[]; submit: { text: string } }>(open.args.view);
    expect(view.callback_id).toBe('iqsp_post');
    expect(json(view.private_metadata)).toEqual({ channelId: channel });
    const byId: Record<string, unknown> = Object.fromEntries(view.blocks.map((b) => [b.block_id, b.element]));
    expect(byId.caption).toMatchObject({ type: 'plain_text_input', initial_value: 'Launch day!', multiline: true });
    expect(byId.targets).toMatchObject({
      type: 'checkboxes',
      options: [
        { text: { text: 'TikTok @acmetok' }, value: 'acct-tiktok' },
        { text: { text: 'X @acme' }, value: 'acct-x' },
      ],
    });
    expect((byId.targets as { initial_options: unknown[] }).initial_options).toHaveLength(2);
    expect(byId.tiktok_privacy).toMatchObject({ type: 'static_select', initial_option: { value: 'public' } });
    expect((byId.tiktok_privacy as { options: Array<{ value: string }> }).options.map((o) => o.value)).toEqual([
      'public',
      'friends',
      'followers',
      'private',
    ]);
    expect(byId.media).toMatchObject({ type: 'file_input', max_files: 10 });

    // Open within Slack's 3 seconds, then narrowed to the levels the platform says the account
    // allows (creator_info), on the same view, guarded by its hash, with the same blocks (so what
    // was typed meanwhile stays) and the choice kept.
    const update = await h.fake.waitForCall('views.update', (c) => c.args.hash !== undefined);
    expect(update.args.view_id).toMatch(/^V\d+$/);
    const narrowed = json<{ private_metadata: string; blocks: Block[] }>(update.args.view);
    expect(json(narrowed.private_metadata)).toEqual({ channelId: channel, privacyChoices: ['public', 'friends', 'private'] });
    expect(narrowed.blocks.map((b) => b.block_id)).toEqual(view.blocks.map((b) => b.block_id));
    const privacy = narrowed.blocks.find((b) => b.block_id === 'tiktok_privacy')!;
    expect((privacy.element as { options: Array<{ value: string }> }).options.map((o) => o.value)).toEqual([
      'public',
      'friends',
      'private',
    ]);
    expect(privacy.element).toMatchObject({ initial_option: { value: 'public' } });
    expect(JSON.stringify(privacy)).toContain('these are the levels your TikTok account allows right now');
  });

  it('drops a preselected privacy level the account does not allow', async () => {
    const updates = h.calls('views.update').length;
    await h.command('post tiktok:followers For followers only', { trigger_id: 'trigger-followers' });
    const update = await until(
      () =>
        h
          .calls('views.update')
          .slice(updates)
          .find((c) => c.args.hash !== undefined),
      'the narrowed modal',
    );
    const privacy = json<{ blocks: Block[] }>(update.args.view).blocks.find((b) => b.block_id === 'tiktok_privacy')!;
    expect((privacy.element as { options: Array<{ value: string }> }).options.map((o) => o.value)).toEqual([
      'public',
      'friends',
      'private',
    ]);
    expect((privacy.element as { initial_option?: unknown }).initial_option).toBeUndefined();
  });

  it('a plain "/iqsp post <caption>" prefills the caption and chooses nothing', async () => {
    const before = h.calls('views.open').length;
    await h.command('post Good morning, world');
    const open = await until(() => h.calls('views.open')[before], 'views.open');
    const view = json<{ blocks: Block[] }>(open.args.view);
    const caption = view.blocks.find((b) => b.block_id === 'caption')!.element!;
    expect(caption.initial_value).toBe('Good morning, world');
    expect(view.blocks.find((b) => b.block_id === 'targets')!.element!.initial_options).toBeUndefined();
  });

  it('a valid submission closes the modal and posts the approval message in Block Kit', async () => {
    const file = fileOf('launch.png', 'image/png', image);
    const before = approvalMessages().length;
    const response = await submitModal({ caption: 'Launch day! <3 & more', accounts: ['acct-x'], files: [file] });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    // The file was fetched with the bot token.
    expect(h.fake.downloads.filter((d) => d.fileId === file.id)).toEqual([{ fileId: file.id, authorized: true }]);
    const approval = await until(() => approvalMessages()[before], 'the approval message');
    const [section, fields, imageBlock, actions] = approval.blocks;
    expect(section!.text!.text).toMatch(/^Post \w{7} from <@U0ALICE> needs 1 approval\(s\): react ✅ to approve, ❌ to reject\./);
    expect(section!.text!.text).toContain('Caption: Launch day! &lt;3 &amp; more');
    expect(section!.text!.text).toContain('Targets: X @acme');
    const [postField, targetsField, mediaField] = fields!.fields!.map((f) => f.text);
    expect([postField, targetsField]).toEqual([`*Post*\n${approval.postId}`, '*Targets*\nX @acme']);
    expect(mediaField).toMatch(/^\*Media\*\nimage 64×48 \d/);
    expect(imageBlock).toMatchObject({ type: 'image', alt_text: expect.any(String) });
    expect(imageBlock!.image_url).toMatch(new RegExp(`^${h.url}/media/`));
    expect(actions!.elements).toEqual([
      expect.objectContaining({ action_id: 'approve_post', value: approval.postId, style: 'primary' }),
      expect.objectContaining({ action_id: 'reject_post', value: approval.postId, style: 'danger' }),
      // For the requester (issue 16): opens the post form filled in.
      expect.objectContaining({ action_id: 'edit_post', value: approval.postId, text: expect.objectContaining({ text: 'Edit' }) }),
    ]);
    const confirm = await h.fake.waitForCall('chat.postEphemeral', (c) =>
      String(c.args.text).includes(`Post ${approval.postId} is waiting for approval`),
    );
    expect(confirm.args.user).toBe('U0ALICE');
    expect(await status(approval.postId)).toBe('pending_approval');
  });

  it('returns validation problems in the modal (response_action: errors) and keeps nothing', async () => {
    const mediaBefore = (await h.db.selectFrom('media').select('id').execute()).length;
    const messagesBefore = approvalMessages().length;
    const tooLong = await submitModal({ caption: 'x'.repeat(301), accounts: ['acct-x'] });
    expect(await tooLong.json()).toEqual({
      response_action: 'errors',
      errors: { targets: 'X @acme: X allows 280 characters; this caption counts 301' },
    });

    const noPrivacy = await submitModal({ caption: 'Clip', accounts: ['acct-tiktok'], files: [fileOf('clip.png', 'image/png', image)] });
    const body = (await noPrivacy.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.targets).toMatch(/^TikTok @acmetok: TikTok needs a privacy level/);

    const notMedia = await submitModal({
      caption: 'Notes',
      accounts: ['acct-x'],
      files: [fileOf('notes.txt', 'text/plain', Buffer.from('just some words\n'))],
    });
    const media = (await notMedia.json()) as { errors: Record<string, string> };
    expect(Object.keys(media.errors)).toEqual(['media']);
    expect(media.errors.media).toMatch(/notes\.txt/);

    expect(approvalMessages()).toHaveLength(messagesBefore);
    expect((await h.db.selectFrom('media').select('id').execute()).length).toBe(mediaBefore);
  });
});

describe('a message with files that mentions the bot', () => {
  it('creates the request without a modal and answers in the thread of the message', async () => {
    const ts = nextTs();
    const file = fileOf('team.png', 'image/png', image);
    const before = approvalMessages().length;
    await h.event('event-message-file-share', {
      event_id: `Ev0F${ts.replace('.', '')}`,
      event: { text: '<@U0BOT> post x Launch day!', ts, event_ts: ts, files: [file] },
    });
    const approval = await until(() => approvalMessages()[before], 'the approval message');
    expect(approval.blocks.some((b) => b.type === 'image')).toBe(true);
    expect(h.fake.downloads.find((d) => d.fileId === file.id)).toEqual({ fileId: file.id, authorized: true });
    const reply = await waitThread(ts, /is waiting for approval/);
    expect(reply).toBe(`Post ${approval.postId} is waiting for approval in this channel.`);
  });

  it('validation problems come back in the thread, and nothing is posted', async () => {
    const ts = nextTs();
    const before = approvalMessages().length;
    await h.event('event-app-mention', {
      event_id: `Ev0F${ts.replace('.', '')}`,
      event: { text: '<@U0BOT> post tiktok Dance', ts, event_ts: ts, files: [fileOf('dance.png', 'image/png', image)] },
    });
    const reply = await waitThread(ts, /Nothing was posted/);
    expect(reply).toMatch(/TikTok @acmetok: TikTok needs a privacy level/);
    expect(approvalMessages()).toHaveLength(before);
  });

  it('posts the approval message without the preview when Slack cannot fetch the image', async () => {
    h.fake.failNext('chat.postMessage', 'invalid_blocks');
    const { postId } = await requestByMention('<@U0BOT> post x Fallback');
    // The first attempt (refused by Slack) carried the image; the one that went out does not.
    const attempts = approvalMessages().filter((m) => m.postId === postId);
    expect(attempts.map((m) => m.blocks.some((b) => b.type === 'image'))).toEqual([true, false]);
    expect(await status(postId)).toBe('pending_approval');
  });
});

describe('approval', () => {
  beforeEach(async () => {
    await h.db.updateTable('workspaces').set({ approvals_required: null }).execute();
  });

  it("ignores the requester's own ✅ and the bot's, then publishes on an eligible ✅ with links in the thread", async () => {
    const { postId, ts } = await requestByMention('<@U0BOT> post x Ship it');
    await react('U0ALICE', ts);
    expect(await waitThread(ts, /cannot approve/)).toBe('<@U0ALICE>: The person who asked for a post cannot approve or reject it.');
    const callsBefore = h.fake.calls.length;
    await react('U0BOT', ts);
    await react('U0OTHERBOT', ts);
    expect(h.fake.calls.slice(callsBefore).filter((c) => c.method !== 'users.info')).toHaveLength(0);
    expect(await status(postId)).toBe('pending_approval');

    await react('U0BOB', ts);
    expect(await waitThread(ts, /approved by/)).toBe('approved by <@U0BOB> (1 of 1): publishing now.');
    const link = await waitThread(ts, /published https:/);
    expect(link).toMatch(/^X @acme: published https:\/\/x\.com\/acme\/status\/\d+$/);
    expect(await waitThread(ts, /^Post \w+: published/)).toBe(`Post ${postId}: published (1 of 1 published).`);
    // Upload progress: one thread message, then updated in place.
    const progress = threadTexts(ts).filter((t) => /uploading/.test(t));
    expect(progress).toHaveLength(1);
    expect(progress[0]).toMatch(/^X @acme: uploading \d{1,2}%$/);
    await h.fake.waitForCall('chat.update', (c) => String(c.args.text) === 'X @acme: uploading 100%');
    // The approval message shows the outcome and loses its buttons.
    const update = await h.fake.waitForCall('chat.update', (c) => c.args.ts === ts && String(c.args.text).includes(': published'));
    expect(json<Block[]>(update.args.blocks).some((b) => b.type === 'actions')).toBe(false);
    expect(h.published.at(-1)).toMatchObject({ platform: 'x', caption: 'Ship it', mediaCount: 1 });
  });

  it('one ❌ (a veto) rejects, and nothing is published', async () => {
    const count = h.published.length;
    const { postId, ts } = await requestByMention('<@U0BOT> post x Not this one');
    await react('U0CAROL', ts, 'x');
    expect(await waitThread(ts, /rejected/)).toBe('rejected by <@U0CAROL>: nothing will be published.');
    await h.fake.waitForCall('chat.update', (c) => c.args.ts === ts && String(c.args.text).includes('rejected'));
    expect(await status(postId)).toBe('rejected');
    expect(h.published).toHaveLength(count);
  });

  it('removing a ✅ withdraws it before the quorum', async () => {
    await h.db.updateTable('workspaces').set({ approvals_required: 2 }).execute();
    const { postId, ts } = await requestByMention('<@U0BOT> post x Two approvals');
    await react('U0BOB', ts);
    expect(await waitThread(ts, /approved by <@U0BOB>/)).toBe('approved by <@U0BOB> (1 of 2).');
    await react('U0BOB', ts, 'white_check_mark', true);
    expect(await waitThread(ts, /withdrew/)).toBe('<@U0BOB> withdrew their approval (0 of 2).');
    // A skin tone is the same reaction.
    await react('U0CAROL', ts, 'white_check_mark::skin-tone-3');
    await react('U0BOB', ts);
    await waitThread(ts, /\(2 of 2\): publishing now/);
    await until(async () => (await status(postId)) === 'published', 'the post published');
  });

  it("the Approve button approves, and the Reject button vetoes; the requester's click is ignored", async () => {
    const first = await requestByMention('<@U0BOT> post x By button');
    await click('U0ALICE', 'approve_post', first.postId, first.ts);
    await waitThread(first.ts, /cannot approve/);
    await click('U0BOB', 'approve_post', first.postId, first.ts);
    expect(await waitThread(first.ts, /approved by/)).toBe('approved by <@U0BOB> (1 of 1): publishing now.');
    await waitThread(first.ts, /published https:/);

    const second = await requestByMention('<@U0BOT> post x Reject by button');
    await click('U0CAROL', 'reject_post', second.postId, second.ts);
    expect(await waitThread(second.ts, /rejected/)).toBe('rejected by <@U0CAROL>: nothing will be published.');
    expect(await status(second.postId)).toBe('rejected');
    const approvals = await h.db
      .selectFrom('approvals')
      .select(['decision', 'via', 'counted'])
      .where('post_id', '=', second.postId)
      .execute();
    expect(approvals).toEqual([{ decision: 'reject', via: 'button', counted: 1 }]);
  });

  it('an Approve on a message that is not the post’s approval message in use (one shown again) decides nothing, and says where to decide', async () => {
    const { postId, ts } = await requestByMention('<@U0BOT> post x Approved on the wrong message');
    const elsewhere = nextTs(); // a copy of the approval message whose id was never stored
    await h.interactive('block-actions-button', {
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0001' },
      container: { type: 'message', message_ts: elsewhere, channel_id: channel, is_ephemeral: false },
      message: { ts: elsewhere },
      response_url: h.fake.responseUrl(),
      actions: [{ action_id: 'approve_post', block_id: 'decide', type: 'button', value: postId, action_ts: nextTs() }],
    });
    const said = await h.fake.waitForResponse((r) => String(r.body.text).includes('not the approval message'));
    expect(said.body.text).toBe(
      `This is not the approval message of post ${postId}: it was shown for approval again in another message of this channel. Approve or reject it there.`,
    );
    expect(await status(postId)).toBe('pending_approval');
    await click('U0BOB', 'approve_post', postId, ts);
    await waitThread(ts, /approved by <@U0BOB>/);
  });

  it('a click on a post of another workspace changes nothing', async () => {
    const { postId, ts } = await requestByMention('<@U0BOT> post x Cross-workspace');
    await h.interactive('block-actions-button', {
      team: { id: 'T0OTHER', domain: 'other' },
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0OTHER' },
      actions: [
        {
          action_id: 'approve_post',
          block_id: 'decide',
          type: 'button',
          value: postId,
          text: { type: 'plain_text', text: 'Approve' },
          action_ts: nextTs(),
        },
      ],
    });
    expect(await status(postId)).toBe('pending_approval');
    expect(threadTexts(ts)).toEqual([]);
  });

  it('status and cancel from the command line answer about the post', async () => {
    const { postId, ts } = await requestByMention('<@U0BOT> post x To cancel');
    const state = await h.replyTo((await h.command(`status ${postId.toLowerCase()}`)).responseUrl);
    expect(state.text).toMatch(new RegExp(`^Post ${postId}: pending approval\\n• X @acme: waiting for approval`));
    const denied = await h.replyTo((await h.command(`cancel ${postId}`, { user_id: 'U0BOB' })).responseUrl);
    expect(denied.text).toMatch(/Only the person who asked/);
    const cancelled = await h.replyTo((await h.command(`cancel ${postId}`)).responseUrl);
    expect(cancelled.text).toBe(`cancelled: X @acme of post ${postId}.`);
    await waitThread(ts, /cancelled by <@U0ALICE>/);
  });
});
