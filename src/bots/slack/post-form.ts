/**
 * The post form as a Slack modal: `/iqsp post …` opens it (within the 3 s Slack gives a
 * trigger_id), and its submission goes to the inbound facade. A view submission is the one
 * listener that cannot acknowledge first: its validation problems must travel in the ack, so
 * it works within a budget and, past it, acknowledges with a "checking" view and updates the
 * modal when done.
 */
import type { RespondArguments } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { REFUSALS } from '../../core/actions.js';
import { channelRef, rich, timeAt, type RichText } from '../../core/ports/rich-text.js';
import { postFormProblemList, type PostFormOutcome, type PostFormProblems } from '../../core/inbound.js';
import { botToken, invocationOf, type ListenerDependencies } from './context.js';
import { attachmentsFrom } from './files.js';
import { BLOCKS, noticeView, POST_VIEW_ID, postView, readPostForm, type FormMetadata } from './modal.js';
import { toMrkdwn } from './text.js';

const TITLE = 'Post with IQSP';

function slackErrorCode(error: unknown): string | undefined {
  return (error as { data?: { error?: string } }).data?.error;
}

/** Slack refusing the approval message in the form's channel, in words the form can show. */
function cannotPostInChannel(error: unknown): string | undefined {
  const code = slackErrorCode(error);
  if (code === 'not_in_channel' || code === 'channel_not_found' || code === 'is_archived')
    return `IQSP cannot post in that channel (Slack says ${code}). Invite the app to the channel (/invite @IQSP) and try again.`;
  return undefined;
}

/** What the author is told of a post the form asked for: where it waits, and when it goes out (the fallback in `zone`). */
function requested(postId: string, where: RichText, when: Date | undefined, zone: string | undefined): RichText {
  return when
    ? rich`Post ${postId} is scheduled for ${timeAt(when, zone ?? 'UTC')} and waiting for approval in ${where}.`
    : rich`Post ${postId} is waiting for approval in ${where}.`;
}

/**
 * Opens the post form, then narrows its privacy levels to what the platform allows once it says.
 * A time typed after the targets fills the picker, read in the person's Slack zone (users.info is
 * asked only then); one that cannot be used is refused instead, as `post` in a message is.
 */
export async function openPostForm(
  deps: ListenerDependencies,
  client: WebClient,
  token: string,
  where: { teamId: string; channelId: string; triggerId: string; userId: string; userName?: string | undefined },
  text: string,
  respond: (message: RespondArguments) => Promise<unknown>,
): Promise<void> {
  const { channelId } = where;
  const requester = () => invocationOf(deps, token, where.teamId, where.userId, channelId, where.userName);
  const form = await deps.core.inbound.openPostForm({ chat: 'slack', workspaceExternalId: where.teamId }, text, requester);
  if (form.kind === 'refused') {
    await respond({ response_type: 'ephemeral', text: toMrkdwn(form.text) });
    return;
  }
  // Slack wants the modal within 3 seconds of the command: open it at once, then narrow the
  // privacy levels to what the platform says the accounts allow (TikTok's creator_info).
  const opened = await client.views.open({ token, trigger_id: where.triggerId, view: postView(form.accounts, form.values, { channelId }) });
  if (!opened.view?.id) return;
  const allowed = await deps.core.inbound.postFormPrivacy(form);
  if (!allowed) return;
  try {
    // The hash makes Slack refuse the update if the person has submitted or the view moved on.
    await client.views.update({
      token,
      view_id: opened.view.id,
      hash: opened.view.hash,
      view: postView(form.accounts, form.values, { channelId, privacyChoices: allowed }),
    });
  } catch (error) {
    deps.logger.debug({ err: error }, 'the post modal moved on before the privacy levels arrived');
  }
}

export function registerPostFormSubmission(deps: ListenerDependencies): void {
  const { app, core, logger } = deps;

  async function confirmPost(client: WebClient, token: string, channel: string, user: string, said: RichText): Promise<void> {
    try {
      await client.chat.postEphemeral({ token, channel, user, text: toMrkdwn(said) });
    } catch (error) {
      logger.warn({ err: error }, 'could not confirm the post request to its author');
    }
  }

  app.view(POST_VIEW_ID, async ({ ack, body, view, context, client }) => {
    const started = Date.now();
    if (body.type !== 'view_submission') return ack();
    const form = readPostForm(view);
    const token = botToken(context);
    const teamId = body.team?.id ?? view.team_id;
    const metadata: FormMetadata = form.metadata;
    const who = await invocationOf(deps, token, teamId, body.user.id, metadata.channelId, body.user.name);
    const work = core.inbound.submitPostForm(who, form, () => attachmentsFrom(client, token, form.files), cannotPostInChannel);

    // A budget of 0 always acknowledges first.
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, deps.viewAckBudgetMs - (Date.now() - started)));
    });
    let first: PostFormOutcome | 'late';
    try {
      first = deps.viewAckBudgetMs <= 0 ? 'late' : await Promise.race([work, budget]);
    } catch (error) {
      await ack({ response_action: 'errors', errors: { [BLOCKS.targets]: REFUSALS.postFailed } });
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (first !== 'late') {
      if (first.kind === 'refused') {
        const errors: Record<string, string> = {};
        for (const [block, problems] of Object.entries(first.problems))
          if (problems && problems.length > 0) errors[BLOCKS[block as keyof PostFormProblems]] = problems.join('\n');
        await ack({ response_action: 'errors', errors });
        return;
      }
      await ack();
      await confirmPost(client, token, metadata.channelId, body.user.id, requested(first.postId, 'this channel', form.when, who.timeZone));
      return;
    }

    // Past the budget (large files): close the loop in the modal once the work is done.
    await ack({ response_action: 'update', view: noticeView(TITLE, 'Checking your files and targets…', metadata) });
    let outcome: PostFormOutcome;
    try {
      outcome = await work;
    } catch (error) {
      await client.views.update({ token, view_id: view.id, view: noticeView(TITLE, REFUSALS.postFailed, metadata) });
      throw error;
    }
    if (outcome.kind === 'refused') {
      const accounts = await core.inbound.postFormAccounts(who);
      await client.views.update({
        token,
        view_id: view.id,
        view: postView(
          accounts,
          { caption: form.caption, accountIds: form.accountIds, privacy: form.privacy, when: form.when },
          metadata,
          postFormProblemList(outcome.problems),
        ),
      });
      return;
    }
    await client.views.update({
      token,
      view_id: view.id,
      view: noticeView(TITLE, requested(outcome.postId, [channelRef(metadata.channelId)], form.when, who.timeZone), metadata),
    });
  });
}
