/**
 * The post form as a Slack modal: `/iqsp post …` opens it (within the 3 s Slack gives a
 * trigger_id), and its submission goes to the inbound facade. A view submission is the one
 * listener that cannot acknowledge first: its validation problems must travel in the ack, so
 * it works within a budget and, past it, acknowledges with a "checking" view and updates the
 * modal when done.
 *
 * The same modal edits a post (the approval message's Edit button): filled in with the post's
 * caption and versions, its submission is an edit, answered privately. While it is filled in,
 * its text fields and accounts dispatch `block_actions`, answered by putting the view back with
 * its live counts (and a version field per chosen platform).
 */
import type { BlockAction, RespondArguments } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { REFUSALS } from '../../core/actions.js';
import { channelRef, rich, timeAt, type RichText } from '../../core/ports/rich-text.js';
import type { PostFormOutcome, PostFormProblems } from '../../core/inbound.js';
import type { EditableContent } from '../../core/posts.js';
import { postFormProblemList } from '../../core/inbound.js';
import type { Invocation, Reply } from '../../core/ports/chat.js';
import { botToken, invocationOf, type ListenerDependencies } from './context.js';
import { toSlackMessage } from './blocks.js';
import { attachmentsFrom } from './files.js';
import { BLOCKS, isLiveField, noticeView, POST_VIEW_ID, postView, readPostForm, type FormMetadata, type TextCounts } from './modal.js';
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
  const counts: TextCounts = (platforms, text) => deps.core.inbound.textCounts(platforms, text);
  const opened = await client.views.open({
    token,
    trigger_id: where.triggerId,
    view: postView(form.accounts, form.values, { channelId }, [], counts),
  });
  if (!opened.view?.id) return;
  const allowed = await deps.core.inbound.postFormPrivacy(form);
  if (!allowed) return;
  try {
    // The hash makes Slack refuse the update if the person has submitted or the view moved on.
    await client.views.update({
      token,
      view_id: opened.view.id,
      hash: opened.view.hash,
      view: postView(form.accounts, form.values, { channelId, privacyChoices: allowed }, [], counts),
    });
  } catch (error) {
    deps.logger.debug({ err: error }, 'the post modal moved on before the privacy levels arrived');
  }
}

/** The most a Slack plain_text_input holds (its max_length). */
export const SLACK_FIELD_MAX = 3000;

/** Whether the caption and every version fit the form's fields whole (a longer one would be cut). */
export function fitsSlackForm(content: EditableContent): boolean {
  return [content.caption, ...content.platforms.map((p) => p.version)].every((text) => text.length <= SLACK_FIELD_MAX);
}

/**
 * Opens the post form to edit post `postId` (its requester pressed Edit): the caption and each
 * platform's own version filled in; no targets, time or files (an edit changes the text only).
 */
export async function openEditForm(
  deps: ListenerDependencies,
  client: WebClient,
  token: string,
  where: { triggerId: string; channelId: string },
  postId: string,
  content: EditableContent,
): Promise<void> {
  const metadata: FormMetadata = { channelId: where.channelId, edit: { postId, platforms: content.platforms.map((p) => p.platform) } };
  const versions = new Map(content.platforms.map((p) => [p.platform, p.version]));
  await client.views.open({
    token,
    trigger_id: where.triggerId,
    view: postView([], { caption: content.caption, versions }, metadata, [], (platforms, text) =>
      deps.core.inbound.textCounts(platforms, text),
    ),
  });
}

/**
 * A field of the open modal changed (a character typed, an account chosen): the view again, from
 * what it holds now, with fresh counts. The hash makes Slack refuse it when a later keystroke's
 * update, or the submission, came first; that one wins.
 */
export async function refreshPostForm(deps: ListenerDependencies, client: WebClient, token: string, body: BlockAction): Promise<void> {
  const view = body.view;
  if (!view || view.callback_id !== POST_VIEW_ID || !body.actions.some((a) => isLiveField(a.action_id))) return;
  const form = readPostForm(view);
  const { metadata } = form;
  const teamId = body.team?.id ?? view.team_id;
  const accounts = metadata.edit
    ? []
    : await deps.core.inbound.postFormAccounts(await invocationOf(deps, token, teamId, body.user.id, metadata.channelId, body.user.name));
  const values = { caption: form.caption, accountIds: form.accountIds, privacy: form.privacy, when: form.when, versions: form.versions };
  try {
    await client.views.update({
      token,
      view_id: view.id,
      hash: view.hash,
      view: postView(accounts, values, metadata, [], (platforms, text) => deps.core.inbound.textCounts(platforms, text)),
    });
  } catch (error) {
    deps.logger.debug({ err: error }, 'the post modal moved on before its counts were updated');
  }
}

export function registerPostFormSubmission(deps: ListenerDependencies): void {
  const { app, core, logger } = deps;
  const counts: TextCounts = (platforms, text) => core.inbound.textCounts(platforms, text);

  /** An edit's answer, to its author only. */
  async function answerEdit(client: WebClient, token: string, channel: string, user: string, reply: Reply): Promise<void> {
    try {
      await client.chat.postEphemeral({ token, channel, user, ...toSlackMessage(reply.message) });
    } catch (error) {
      logger.warn({ err: error }, 'could not answer an edit to its author');
    }
  }

  /** A submitted edit: the modal closes at once; the edit's outcome (done, or why not) goes privately to its author. */
  async function submitEdit(client: WebClient, token: string, who: Invocation, form: ReturnType<typeof readPostForm>): Promise<void> {
    const edit = form.metadata.edit!;
    const versions = new Map(edit.platforms.map((platform) => [platform, form.versions.get(platform) ?? '']));
    const reply = await core.inbound.submitEditForm(who, edit.postId, { caption: form.caption, versions });
    await answerEdit(client, token, form.metadata.channelId, who.userExternalId, reply);
  }

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
    if (metadata.edit) {
      await ack();
      await submitEdit(client, token, who, form);
      return;
    }
    const postForm = {
      caption: form.caption,
      accountIds: form.accountIds,
      privacy: form.privacy,
      when: form.when,
      versions: form.versions,
    };
    const work = core.inbound.submitPostForm(who, postForm, () => attachmentsFrom(client, token, form.files), cannotPostInChannel);

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
          { caption: form.caption, accountIds: form.accountIds, privacy: form.privacy, when: form.when, versions: form.versions },
          metadata,
          postFormProblemList(outcome.problems),
          counts,
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
