/**
 * What every Slack listener needs, and the small translations they share: the bot token Bolt
 * authorised the request with, the workspace it came from, who is asking (an Invocation, admin
 * = workspace admin or owner), and a Reply as a `respond` body.
 */
import type { App, Context, RespondArguments } from '@slack/bolt';
import type { Core } from '../../runtime.js';
import type { Logger } from '../../observability/logger.js';
import type { Invocation, Reply } from '../../core/ports/chat.js';
import { toSlackMessage } from './blocks.js';
import type { HomeTab } from './home-tab.js';
import type { DbInstallationStore } from './installation-store.js';
import type { SlackPeople } from './people.js';

export interface ListenerDependencies {
  app: App;
  core: Core;
  people: SlackPeople;
  /** The Home tab: who opened it, and its refreshes. */
  home: HomeTab;
  /** Absent in single-workspace mode (nothing is stored to delete). */
  installations: DbInstallationStore | undefined;
  logger: Logger;
  /** How long a view submission may work before it must acknowledge without its verdict. */
  viewAckBudgetMs: number;
}

export function botToken(context: Pick<Context, 'botToken'>): string {
  if (!context.botToken) throw new Error('Bolt gave no bot token for this request');
  return context.botToken;
}

/** The workspace an event came from: Bolt's context, else the envelope's `team_id`. */
export function teamOf(context: Context, body: unknown): string | undefined {
  return context.teamId ?? (body as { team_id?: string }).team_id;
}

export function firstWord(text: string): string {
  return (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

export function respondArguments(reply: Reply): RespondArguments {
  return { response_type: reply.visibility === 'private' ? 'ephemeral' : 'in_channel', ...toSlackMessage(reply.message) };
}

/** A Slack timestamp ("1700000450.123456": seconds, microseconds after the dot) as a Date; undefined when absent or unreadable. */
export function dateOfTs(ts: string | undefined): Date | undefined {
  if (ts === undefined || !/^\d+(\.\d+)?$/.test(ts)) return undefined;
  return new Date(Math.round(Number(ts) * 1000));
}

/** Who is asking, with what users.info says of them (admin, name, time zone). */
export async function invocationOf(
  deps: Pick<ListenerDependencies, 'people'>,
  token: string,
  teamId: string,
  userId: string,
  channelId: string,
  fallbackName?: string,
): Promise<Invocation> {
  const person = await deps.people.lookup(token, teamId, userId);
  return {
    chat: 'slack',
    workspaceExternalId: teamId,
    userExternalId: userId,
    userName: person.name ?? fallbackName,
    isAdmin: person.isAdmin,
    channelId,
    timeZone: person.timeZone,
  };
}
