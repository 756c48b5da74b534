/**
 * What the Slack app listens to, one file per kind of request, each turning it into a call to
 * the core's inbound facade:
 * - deliveries.ts: an event Slack delivers again is dropped;
 * - slash-command.ts: `/iqsp …` (and `/iqsp post`, which opens the post form);
 * - post-form.ts: the post modal (live counts as it is filled in, and its edit form) and its submission;
 * - messages.ts: messages that mention the bot, and direct messages to it;
 * - buttons.ts: Approve/Reject/Edit, the delete-my-data confirmation, and the post modal's live fields;
 * - reactions.ts: ✅/❌ on approval messages;
 * - home-tab.ts: `app_home_opened`, the Home tab's view;
 * - lifecycle.ts: `app_uninstalled` / `tokens_revoked`, and failures after the ack.
 *
 * Every listener acknowledges first and works after (Slack wants its answer within 3 s), but
 * the view submission (post-form.ts says why).
 */
import { registerButtons } from './buttons.js';
import type { ListenerDependencies } from './context.js';
import { registerEventDedup } from './deliveries.js';
import { registerHomeTab } from './home-tab.js';
import { registerLifecycle } from './lifecycle.js';
import { registerMessages } from './messages.js';
import { registerPostFormSubmission } from './post-form.js';
import { registerReactions } from './reactions.js';
import { registerSlashCommand } from './slash-command.js';

export type { ListenerDependencies } from './context.js';
export { withoutMention } from './messages.js';

export function registerListeners(deps: ListenerDependencies): void {
  registerEventDedup(deps);
  registerSlashCommand(deps);
  registerPostFormSubmission(deps);
  registerButtons(deps);
  registerMessages(deps);
  registerReactions(deps);
  registerHomeTab(deps);
  registerLifecycle(deps);
}
