/**
 * The Home view as Block Kit blocks: the workspace's upcoming posts (id, time, targets,
 * approvals so far) and its latest outcomes. Times are written as Slack writes them
 * (`<!date^…|fallback>`, each reader's own zone in Slack; the fallback in `view.zone`).
 */
import type { HomeView } from '../core/inbound.js';
import { statusWords } from '../core/posts/texts.js';
import { formatInZone } from '../core/schedule/zones.js';
import type { HomeBlock } from './block-kit-html.js';
import { approvalState, captionLine } from './schedule-panel.js';

/** Slack's three escapes, for text placed in mrkdwn. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function slackTime(at: Date, view: HomeView): string {
  const fallback = escapeMrkdwn(formatInZone(at, view.zone, view.now)).replace(/\|/g, '¦');
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

export function homeBlocks(view: HomeView): HomeBlock[] {
  const blocks: HomeBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Upcoming posts' } },
    { type: 'context', elements: [mrkdwn(`Times in your zone (${escapeMrkdwn(view.zone)}). Updated ${slackTime(view.now, view)}.`)] },
  ];
  if (view.upcoming.length === 0)
    blocks.push({
      type: 'section',
      text: mrkdwn('Nothing is scheduled. Schedule a post with `post <targets> at YYYY-MM-DD HH:MM <caption>`.'),
    });
  for (const post of view.upcoming) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${escapeMrkdwn(post.id)}* · ${slackTime(post.at, view)}\n${escapeMrkdwn(captionLine(post.caption))}`),
      fields: [mrkdwn(`*Targets*\n${escapeMrkdwn(post.targets.join(', ') || 'none')}`), mrkdwn(`*Approvals*\n${approvalState(post)}`)],
    });
    blocks.push({ type: 'context', elements: [mrkdwn(`Asked by <@${escapeMrkdwn(post.requesterExternalId)}>`)] });
  }
  blocks.push({ type: 'divider' }, { type: 'header', text: { type: 'plain_text', text: 'Recent outcomes' } });
  if (view.recent.length === 0) blocks.push({ type: 'context', elements: [mrkdwn('No post has finished yet.')] });
  for (const outcome of view.recent)
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `*${escapeMrkdwn(outcome.id)}* ${statusWords(outcome.status)} ${slackTime(outcome.finishedAt, view)} · ${escapeMrkdwn(outcome.targets.join(', '))} · ${escapeMrkdwn(captionLine(outcome.caption, 60))}`,
        ),
      ],
    });
  return blocks;
}
