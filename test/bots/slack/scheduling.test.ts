/**
 * Scheduling in Slack (issue 15), through signed requests to the real app and the fake Slack:
 * times are read in the person's Slack profile zone (users.info `tz`, asked once for a burst of
 * commands), `/iqsp post x at … Hi` fills the post modal's date-time picker, the picker
 * schedules a post, a time in the past or too far ahead is refused on the picker's field, and
 * the approval message names the time as `<!date^…>` so each reader sees their own zone. The
 * app's clock is a variable the tests move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SlackHarness, until } from './harness.js';

let h: SlackHarness;
let clock = new Date('2026-12-03T10:00:00Z'); // a Thursday; Berlin is on CET (UTC+1)

/** 2026-12-07 09:30 in Berlin. */
const MONDAY_0930 = Date.UTC(2026, 11, 7, 8, 30) / 1000;
const MONDAY_SHOWN = `<!date^${MONDAY_0930}^{date_short_pretty} {time}|Mon 7 Dec 09:30 CET>`;

beforeAll(async () => {
  h = await SlackHarness.start({
    now: () => clock,
    prepare: (fake) => {
      const user = (id: string) => fake.workspace.users.find((u) => u.id === id)!;
      user('U0ALICE').tz = 'Europe/Berlin';
      user('U0CAROL').tz = 'Mars/Olympus_Mons';
    },
  });
  await h.seedAccounts();
});
afterAll(async () => {
  await h?.close();
});

interface ModalBlock {
  block_id?: string;
  element?: { type?: string; initial_date_time?: number; initial_value?: string; initial_options?: Array<{ value: string }> };
}

/** `/iqsp <text>` from Alice: the post modal it opened. */
async function openModal(text: string): Promise<Map<string, ModalBlock>> {
  const before = h.calls('views.open').length;
  await h.command(text, { trigger_id: `trigger-${before + 1}` });
  const open = await until(() => h.calls('views.open')[before], 'the post modal');
  const view = json<{ blocks: ModalBlock[] }>(open.args.view);
  return new Map(view.blocks.map((b) => [b.block_id ?? '', b]));
}

/** Alice submits the modal: `caption` to X @acme, at `when` (unix seconds) when given. */
function submit(caption: string, when: number | null): Promise<Response> {
  return h.interactive('view-submission-post', {
    view: {
      state: {
        values: {
          caption: { caption: { type: 'plain_text_input', value: caption } },
          targets: {
            targets: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'X @acme' }, value: 'acct-x' }] },
          },
          when: { when: { type: 'datetimepicker', selected_date_time: when } },
        },
      },
    },
  });
}

function approvalMessages(): string[] {
  return h
    .calls('chat.postMessage')
    .flatMap((c) => (c.args.channel === 'C0GENERAL' && !c.args.thread_ts && c.args.blocks ? [c.args.text!] : []));
}

async function nextApproval(before: number): Promise<{ text: string; postId: string }> {
  const text = await until(() => approvalMessages()[before], 'the approval message');
  return { text, postId: /^Post (\w{7})/.exec(text)![1]! };
}

describe('scheduling in Slack', () => {
  it('`/iqsp post x at 2026-12-07 09:30 Hi` sets the picker to 09:30 in the Slack profile zone; the approval message says when, per reader', async () => {
    const modal = await openModal('post x at 2026-12-07 09:30 Hi');
    expect(modal.get('when')?.element).toEqual({ type: 'datetimepicker', action_id: 'when', initial_date_time: MONDAY_0930 });
    expect(modal.get('caption')?.element?.initial_value).toBe('Hi');
    expect(modal.get('targets')?.element?.initial_options?.map((o) => o.value)).toEqual(['acct-x']);

    const before = approvalMessages().length;
    const response = await submit('Hi', MONDAY_0930);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const { text, postId } = await nextApproval(before);
    expect(text).toContain(`\nScheduled for ${MONDAY_SHOWN}\n`);
    const confirmation = await until(
      () => h.calls('chat.postEphemeral').find((c) => c.args.text?.startsWith(`Post ${postId} `)),
      'the confirmation to Alice',
    );
    expect(confirmation.args.text).toBe(`Post ${postId} is scheduled for ${MONDAY_SHOWN} and waiting for approval in this channel.`);
  });

  it('a mention reads the time in the same zone', async () => {
    const before = approvalMessages().length;
    await h.event('event-app-mention', {
      event_id: 'Ev0MENTIONSCHED',
      event: { text: '<@U0BOT> post x at 2026-12-07 09:30 Mention day', ts: '1700000900.000100', event_ts: '1700000900.000100' },
    });
    const { text } = await nextApproval(before);
    expect(text).toContain(`Scheduled for ${MONDAY_SHOWN}`);
    expect(text).toContain('Caption: Mention day');
  });

  it('the picker schedules a post typed without a time', async () => {
    const modal = await openModal('post x Picked');
    expect(modal.get('when')?.element).toEqual({ type: 'datetimepicker', action_id: 'when' });
    const before = approvalMessages().length;
    const at = clock.getTime() / 1000 + 3 * 3600; // 13:00 UTC, 14:00 in Berlin
    expect(await (await submit('Picked', at)).text()).toBe('');
    const { text } = await nextApproval(before);
    expect(text).toContain(`Scheduled for <!date^${at}^{date_short_pretty} {time}|Thu 3 Dec 14:00 CET>`);
  });

  it('a picked time in the past, or beyond SCHEDULE_MAX_DAYS, is refused on the picker and nothing is posted', async () => {
    const before = approvalMessages().length;
    const past = await submit('Too late', clock.getTime() / 1000 - 3600);
    expect(await past.json()).toEqual({
      response_action: 'errors',
      errors: { when: 'Thu 3 Dec 10:00 CET is in the past (it is Thu 3 Dec 11:00 CET now). Choose a later time.' },
    });
    const far = await submit('Too early', clock.getTime() / 1000 + 31 * 86_400);
    const refusal = (await far.json()) as { response_action: string; errors: Record<string, string> };
    expect(refusal.response_action).toBe('errors');
    expect(Object.keys(refusal.errors)).toEqual(['when']);
    expect(refusal.errors.when).toMatch(/is more than 30 days ahead/);
    expect(approvalMessages()).toHaveLength(before);
  });

  it('`/iqsp post` with a typed time that cannot be used refuses at once, naming the problem, and opens no modal', async () => {
    const opened = h.calls('views.open').length;
    const past = await h.command('post x at 2001-01-01 09:00 Too late', { trigger_id: 'trigger-past' });
    expect((await h.replyTo(past.responseUrl)).text).toBe(
      'Nothing was posted. Fix these and try again:\n• Mon 1 Jan 2001 09:00 CET is in the past (it is Thu 3 Dec 11:00 CET now). Choose a later time.',
    );
    const far = await h.command('post x in 40d Too far', { trigger_id: 'trigger-far' });
    expect((await h.replyTo(far.responseUrl)).text).toMatch(/is more than 30 days ahead/);
    expect(h.calls('views.open')).toHaveLength(opened);
  });

  it('an empty picker publishes once approved, as before', async () => {
    const before = approvalMessages().length;
    await submit('Right away', null);
    const { text } = await nextApproval(before);
    expect(text).not.toContain('Scheduled for');
  });

  it('the profile zone is asked once for a burst; a zone Slack gives that is not IANA, or none, falls back to the default', async () => {
    const { responseUrl } = await h.command('timezone');
    expect((await h.replyTo(responseUrl)).text).toMatch(/^Your time zone is Europe\/Berlin, from your chat profile/);
    // Every command above was Alice's: users.info answered once for all of them.
    expect(h.calls('users.info').filter((c) => c.args.user === 'U0ALICE')).toHaveLength(1);

    const carol = await h.command('timezone', { user_id: 'U0CAROL', user_name: 'carol' });
    expect((await h.replyTo(carol.responseUrl)).text).toMatch(/^Your time zone is UTC, this install's default/);
    const bob = await h.command('timezone', { user_id: 'U0BOB', user_name: 'bob' });
    expect((await h.replyTo(bob.responseUrl)).text).toMatch(/^Your time zone is UTC, this install's default/);
  });

  it('approved ahead, the post waits, then publishes when the clock reaches its time', async () => {
    const before = approvalMessages().length;
    const at = clock.getTime() / 1000 + 3600;
    await submit('On the hour', at);
    const { postId } = await nextApproval(before);
    await h.react('U0BOB', h.approvalTs(postId));
    const thread = () =>
      h
        .calls('chat.postMessage')
        .filter((c) => c.args.thread_ts === h.approvalTs(postId))
        .map((c) => c.args.text ?? '');
    await until(() => thread().some((t) => /scheduled/i.test(t)), 'the thread saying it waits');
    expect(h.published.some((p) => p.caption === 'On the hour')).toBe(false);

    clock = new Date(at * 1000 + 1000);
    await until(() => h.published.some((p) => p.caption === 'On the hour'), 'the post published at its time');
  });
});
