/**
 * The app's Home tab: the workspace's upcoming posts and its latest outcomes, as a Block Kit
 * `home` view. Pure: the view the core describes in, blocks out (home-tab.ts publishes them).
 *
 * Times are `<!date^…>` tokens, so each reader sees their own zone; the fallback after `|` is in
 * the zone of the person the view was built for. Captions are text segments, escaped like every
 * text IQSP sends: a caption holding `<!channel>` or `<@U…>` shows as typed and never pings.
 */
import type { types } from '@slack/bolt';
import type { HomeView } from '../../core/inbound.js';
import type { RecentOutcome, UpcomingPost } from '../../core/posts.js';
import { statusWords } from '../../core/posts/texts.js';
import { mention, rich, timeAt, type RichText } from '../../core/ports/rich-text.js';
import { clip, toMrkdwn } from './text.js';

type KnownBlock = types.KnownBlock;

/** Block Kit's limit on a view's blocks (https://docs.slack.dev/reference/views). */
export const HOME_BLOCKS_MAX = 100;
/** How much of a caption a line shows: enough to recognise the post. */
const EXCERPT_MAX = 120;
const SECTION_TEXT_MAX = 3000;

export interface SlackHomeView {
  type: 'home';
  blocks: KnownBlock[];
}

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_TEXT_MAX) } };
}

function context(text: RichText): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(toMrkdwn(text), SECTION_TEXT_MAX) }] };
}

/** The first words of a caption on one line; `(no caption)` for none. */
export function captionExcerpt(caption: string): string {
  const line = caption.replace(/\s+/g, ' ').trim();
  return line === '' ? '(no caption)' : clip(line, EXCERPT_MAX);
}

function approvalState(post: UpcomingPost): string {
  return post.status === 'approved' ? 'approved' : `${post.approvals} of ${post.required} approvals`;
}

function upcomingBlock(post: UpcomingPost, zone: string): KnownBlock {
  const head = rich`*${post.id}*  ${timeAt(post.at, zone)} · ${post.targets.join(', ')} · ${approvalState(post)} · from ${mention(post.requesterExternalId)}`;
  // The quote marker is markup, written after the caption is escaped.
  return section(`${toMrkdwn(head)}\n&gt;${toMrkdwn(captionExcerpt(post.caption))}`);
}

function recentBlock(outcome: RecentOutcome, zone: string): KnownBlock {
  const head = rich`*${outcome.id}*  ${statusWords(outcome.status)} ${timeAt(outcome.finishedAt, zone)} · ${outcome.targets.join(', ')}`;
  return section(`${toMrkdwn(head)}\n&gt;${toMrkdwn(captionExcerpt(outcome.caption))}`);
}

/** `items` as blocks, at most `room` of them: the last one says how many more there are. */
function listed<T>(items: readonly T[], room: number, block: (item: T) => KnownBlock, more: (count: number) => string): KnownBlock[] {
  if (items.length <= room) return items.map(block);
  const shown = Math.max(0, room - 1);
  return [...items.slice(0, shown).map(block), context(more(items.length - shown))];
}

/** The Home view of `view`: header, Upcoming, Recent, within Block Kit's 100 blocks. */
export function homeView(view: HomeView): SlackHomeView {
  const head: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Posts of this workspace' } },
    context(rich`Times are shown in your Slack time zone. Updated ${timeAt(view.now, view.zone)}.`),
    section('*Upcoming*'),
  ];
  const middle: KnownBlock[] = [{ type: 'divider' }, section('*Recent*')];
  const fixed = head.length + middle.length;
  const recentRoom = Math.min(Math.max(view.recent.length, 1), 20);
  const upcomingRoom = HOME_BLOCKS_MAX - fixed - recentRoom;

  const upcoming =
    view.upcoming.length === 0
      ? [
          context(
            'Nothing is scheduled. `/iqsp post <targets> at YYYY-MM-DD HH:MM <caption>` schedules a post; `/iqsp post` without a time publishes once approved.',
          ),
        ]
      : listed(
          view.upcoming,
          upcomingRoom,
          (p) => upcomingBlock(p, view.zone),
          (n) => `…and ${n} more. \`/iqsp scheduled\` lists them all.`,
        );
  const recent =
    view.recent.length === 0
      ? [context('No post has finished yet.')]
      : listed(
          view.recent,
          recentRoom,
          (o) => recentBlock(o, view.zone),
          (n) => `…and ${n} more. \`/iqsp status <post-id>\` tells what became of one.`,
        );
  return { type: 'home', blocks: [...head, ...upcoming, ...middle, ...recent] };
}

/** What a person who may not see the workspace's posts (a guest, someone of another organization) finds on the tab. */
export function homeViewForOutsider(): SlackHomeView {
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'IQSP' } },
      section("This workspace's posts are listed here for its members only."),
    ],
  };
}
