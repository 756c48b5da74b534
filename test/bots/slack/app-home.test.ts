/**
 * The app's Home tab (issue 15), through signed `app_home_opened` events to the real app and the
 * fake Slack's views.publish: the workspace's upcoming posts (time as `<!date^…>`, targets,
 * approvals so far, a caption excerpt that never pings) and its latest outcomes, published when
 * the tab is opened and again, once a burst of changes is over, when a post is approved or moved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeView, HOME_BLOCKS_MAX } from '../../../src/bots/slack/home.js';
import type { UpcomingPost } from '../../../src/core/posts.js';
import { json, SlackHarness, until } from './harness.js';

let h: SlackHarness;
const clock = new Date('2026-12-03T10:00:00Z');

/** 2026-12-07 09:30 in Berlin. */
const MONDAY_0930 = Date.UTC(2026, 11, 7, 8, 30) / 1000;

beforeAll(async () => {
  h = await SlackHarness.start({
    now: () => clock,
    surface: { homeRefreshMs: 30 },
    prepare: (fake) => {
      fake.workspace.users.find((u) => u.id === 'U0ALICE')!.tz = 'Europe/Berlin';
      fake.workspace.users.push({ id: 'U0GUEST', name: 'gus', isRestricted: true });
    },
  });
  await h.seedAccounts();
});
afterAll(async () => {
  await h?.close();
});

/** Every mrkdwn and plain text of a view, one line per block. */
function textOf(view: { blocks: readonly object[] } | undefined): string {
  return (view?.blocks ?? [])
    .map((block) => {
      const b = block as Record<string, unknown>;
      const text = (b.text as { text?: string } | undefined)?.text;
      const elements = (b.elements as Array<{ text?: string }> | undefined)?.map((e) => e.text ?? '');
      return text ?? elements?.join(' ') ?? `[${String(b.type)}]`;
    })
    .join('\n');
}

function publishesFor(user: string): number {
  return h.calls('views.publish').filter((c) => c.args.user_id === user).length;
}

/** Alice asks for `caption` on X @acme through the modal, at `when` (unix seconds) if given; the post's id. */
async function requestPost(caption: string, when?: number): Promise<string> {
  const before = h.calls('chat.postMessage').filter((c) => c.args.channel === 'C0GENERAL' && !c.args.thread_ts && c.args.blocks).length;
  await h.interactive('view-submission-post', {
    view: {
      state: {
        values: {
          caption: { caption: { type: 'plain_text_input', value: caption } },
          targets: {
            targets: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'X @acme' }, value: 'acct-x' }] },
          },
          when: { when: { type: 'datetimepicker', selected_date_time: when ?? null } },
        },
      },
    },
  });
  const approval = await until(
    () => h.calls('chat.postMessage').filter((c) => c.args.channel === 'C0GENERAL' && !c.args.thread_ts && c.args.blocks)[before],
    'the approval message',
  );
  return /^Post (\w{7})/.exec(approval.args.text!)![1]!;
}

describe('the Home tab', () => {
  it('opened with nothing scheduled or finished, says so', async () => {
    await h.openHome('U0ALICE');
    const call = h.calls('views.publish').at(-1)!;
    expect(call.args.user_id).toBe('U0ALICE');
    const view = json<{ type: string; blocks: Array<Record<string, unknown>> }>(call.args.view);
    expect(view.type).toBe('home');
    expect(view.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Posts of this workspace' } });
    expect(textOf(view)).toContain('Nothing is scheduled.');
    expect(textOf(view)).toContain('No post has finished yet.');
  });

  it('the Messages tab publishes nothing', async () => {
    const before = h.calls('views.publish').length;
    await h.openHome('U0ALICE', 'messages');
    expect(h.calls('views.publish')).toHaveLength(before);
  });

  it('lists upcoming posts (time per reader, targets, approvals, an escaped excerpt) and recent outcomes', async () => {
    const scheduled = await requestPost('Launch day <!channel> with <@U0BOB>, read all about it', MONDAY_0930);
    const now = await requestPost('Shipped today');
    await h.react('U0BOB', h.approvalTs(now));
    await until(() => h.published.some((p) => p.caption === 'Shipped today'), 'the post published');
    await until(
      async () => (await h.db.selectFrom('posts').select('finished_at').where('id', '=', now).executeTakeFirst())?.finished_at,
      'its end',
    );

    await h.openHome('U0ALICE');
    const text = textOf(h.homeOf('U0ALICE'));
    expect(text).toContain(
      `*${scheduled}*  <!date^${MONDAY_0930}^{date_short_pretty} {time}|Mon 7 Dec 09:30 CET> · X @acme · 0 of 1 approvals · from <@U0ALICE>\n` +
        '&gt;Launch day &lt;!channel&gt; with &lt;@U0BOB&gt;, read all about it',
    );
    expect(text).toMatch(
      new RegExp(`\\*${now}\\*  published <!date\\^\\d+\\^\\{date_short_pretty\\} \\{time\\}\\|Thu 3 Dec 11:00 CET> · X @acme`),
    );
    expect(text.indexOf(scheduled)).toBeLessThan(text.indexOf('*Recent*'));
    expect(text.indexOf(`*${now}*`)).toBeGreaterThan(text.indexOf('*Recent*'));
    // The caption's broadcast and mention never reach Slack as markup.
    for (const call of h.calls('views.publish')) expect(call.args.view).not.toMatch(/<!channel>|<@U0BOB>/);
  });

  it('is published again once a post is approved, and when one is rescheduled', async () => {
    const postId = await requestPost('Approve me ahead', MONDAY_0930 + 3600);
    await h.surface.settled();
    const before = publishesFor('U0ALICE');
    await h.react('U0BOB', h.approvalTs(postId));
    await until(() => publishesFor('U0ALICE') > before && textOf(h.homeOf('U0ALICE')).includes(`*${postId}*`), 'a refresh');
    await until(
      () =>
        /Approve me ahead/.test(textOf(h.homeOf('U0ALICE'))) &&
        new RegExp(`\\*${postId}\\*[^\\n]* approved ·`).test(textOf(h.homeOf('U0ALICE'))),
      'the approval shown',
    );

    await h.surface.settled();
    const { responseUrl } = await h.command(`reschedule ${postId} at 2026-12-08 10:00`);
    expect((await h.replyTo(responseUrl)).text).toMatch(new RegExp(`^Post ${postId} now publishes Tue 8 Dec 10:00 CET`));
    const tuesday = Date.UTC(2026, 11, 8, 9, 0) / 1000;
    await until(() => textOf(h.homeOf('U0ALICE')).includes(`*${postId}*  <!date^${tuesday}^`), 'the new time shown');
  });

  it('a burst of changes is shown with one publish per viewer', async () => {
    await h.surface.settled();
    const before = publishesFor('U0ALICE');
    for (let i = 0; i < 5; i++) h.surface.port.postsChanged?.('T0001');
    await h.surface.settled();
    expect(publishesFor('U0ALICE')).toBe(before + 1);
    // A workspace nobody looked at is not worked on.
    h.surface.port.postsChanged?.('T0NOBODY');
    await h.surface.settled();
    expect(publishesFor('U0ALICE')).toBe(before + 1);
  });

  it('a guest opening the tab sees no post of the workspace, and is not refreshed', async () => {
    await h.openHome('U0GUEST');
    expect(textOf(h.homeOf('U0GUEST'))).toBe("IQSP\nThis workspace's posts are listed here for its members only.");
    const before = publishesFor('U0GUEST');
    h.surface.port.postsChanged?.('T0001');
    await h.surface.settled();
    expect(publishesFor('U0GUEST')).toBe(before);
  });
});

describe('homeView', () => {
  const post = (i: number): UpcomingPost => ({
    id: `P${String(i).padStart(6, '0')}`,
    at: new Date(Date.UTC(2026, 11, 7, 8, 30) + i * 60_000),
    zone: 'Europe/Berlin',
    status: 'pending_approval',
    targets: ['X @acme'],
    approvals: 1,
    required: 2,
    caption: `Caption ${i}\nsecond line`,
    requesterExternalId: 'U0ALICE',
  });

  it('stays within 100 blocks, saying how many more there are', () => {
    const recent = Array.from({ length: 20 }, (_, i) => ({
      id: `R${String(i).padStart(6, '0')}`,
      status: 'published',
      finishedAt: clock,
      caption: 'Done',
      targets: ['X @acme'],
    }));
    const view = homeView({ zone: 'Europe/Berlin', now: clock, upcoming: Array.from({ length: 120 }, (_, i) => post(i)), recent });
    expect(view.blocks).toHaveLength(HOME_BLOCKS_MAX);
    const text = textOf(view);
    expect(text).toContain('…and 46 more. `/iqsp scheduled` lists them all.');
    expect(text).toContain('*P000000*');
    expect(text).toContain('1 of 2 approvals');
    expect(text).toContain('&gt;Caption 0 second line');
    expect(text).toContain('*R000019*');
  });
});
