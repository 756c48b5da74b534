/**
 * What a person can press, and what they are told when IQSP refuses or fails what they did.
 * Defined once here, so the core that puts a button on a message and every chat surface that
 * hands the press back (Slack's `action_id`, Discord's custom id, the sandbox page) agree on
 * the ids, and a refusal reads the same in every chat.
 */
import type { DecisionKind } from './approval.js';

/** The ids of the buttons the core puts on messages (`ChatMessage.buttons[].actionId`). */
export const ACTIONS = {
  /** On an approval message; its value is the post id. */
  approvePost: 'approve_post',
  rejectPost: 'reject_post',
  /** On an approval message, for its requester: opens the post form filled in to edit it (issue 16). */
  editPost: 'edit_post',
  /** On the private `delete-my-data` question; its value is `confirm`. */
  confirmDeleteMyData: 'delete_my_data_confirm',
} as const;

export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** What pressing a button asks for; undefined for a button IQSP does not handle (a link button). */
export type ButtonAction =
  { kind: 'decide'; decision: Extract<DecisionKind, 'approve' | 'reject'> } | { kind: 'edit' } | { kind: 'confirm-delete-my-data' };

export function buttonAction(actionId: string): ButtonAction | undefined {
  switch (actionId) {
    case ACTIONS.approvePost:
      return { kind: 'decide', decision: 'approve' };
    case ACTIONS.rejectPost:
      return { kind: 'decide', decision: 'reject' };
    case ACTIONS.editPost:
      return { kind: 'edit' };
    case ACTIONS.confirmDeleteMyData:
      return { kind: 'confirm-delete-my-data' };
    default:
      return undefined;
  }
}

/** The first line of an answer listing why nothing was posted. */
export const NOTHING_POSTED = 'Nothing was posted. Fix these and try again:';

/** `problems` as a refusal: the first line, then one bullet each. */
export function nothingPostedText(problems: readonly string[]): string {
  return [NOTHING_POSTED, ...problems.map((p) => `• ${p}`)].join('\n');
}

/** What a person is told when IQSP refuses, or fails, what they did in chat. */
export const REFUSALS = {
  /** A post request failed on IQSP's side (the post form's answer). */
  postFailed: "Sorry, something went wrong on IQSP's side; nothing was posted. Try again in a minute.",
  /** A command failed before the core could answer it. */
  commandFailed: 'Sorry, IQSP could not answer that command. Try again in a minute.',
  /** A button press failed. */
  clickFailed: 'Sorry, IQSP could not handle that click. Try again in a minute.',
  /** The post form was asked for with no account connected. */
  noAccountForForm:
    'No account is connected in this workspace yet. Run `/iqsp connect <platform>` to connect one, then `/iqsp post` again.',
  /** The post form named an account this workspace no longer has (or never had). */
  accountGone: 'An account you chose is no longer connected here; choose again.',
  /** A command from outside any workspace (a DM, where the chat has no workspace to act in). */
  commandOutsideWorkspace: 'IQSP works in server channels: use /iqsp there.',
  messageOutsideWorkspace: 'IQSP works in server channels: mention me there or use /iqsp.',
} as const;
