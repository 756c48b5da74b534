/**
 * The Home tab, kept current: `app_home_opened` (tab `home`) publishes the person's view
 * (views.publish), and a change to the workspace's posts (the chat port's `postsChanged`)
 * publishes it again for the people who opened it lately.
 *
 * Who opened it is remembered in memory, per instance: Slack sends `app_home_opened` to one
 * instance, and a post may change on another (the one whose worker published it), whose
 * refresh then finds nobody to show it to. That is acceptable: the tab is built afresh each
 * time it is opened, so a view left behind lasts only until the person looks at it again, and
 * the approval message and its thread, which every instance updates, stay the record of a
 * post. Remembering viewers in the database would buy a live view across instances for a table
 * and a fan-out on every change.
 */
import type { WebClient } from '@slack/web-api';
import type { Inbound } from '../../core/inbound.js';
import type { Logger } from '../../observability/logger.js';
import type { SlackAuthorizer } from './authorization.js';
import { botToken, teamOf, type ListenerDependencies } from './context.js';
import { homeView, homeViewForOutsider } from './home.js';

export interface HomeTabOptions {
  /** Changes within this long of the first are shown with one refresh (a post approved, then published). */
  debounceMs: number;
  /** People remembered per workspace, the most recent first. */
  viewersPerWorkspace?: number;
  /** How long after opening the tab a person's view is still refreshed. */
  rememberMs?: number;
  /** The clock of that memory (tests). */
  now?: () => number;
}

interface Viewer {
  timeZone: string | undefined;
  openedAt: number;
}

const WORKSPACES_MAX = 1_000;

export class HomeTab {
  /** Team → user → when they opened the tab (a Map keeps insertion order: the oldest first). */
  private readonly viewers = new Map<string, Map<string, Viewer>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly perWorkspace: number;
  private readonly rememberMs: number;
  private readonly now: () => number;

  constructor(
    private readonly deps: { client: WebClient; auth: SlackAuthorizer; inbound: Pick<Inbound, 'home'>; logger: Logger },
    private readonly options: HomeTabOptions,
  ) {
    this.perWorkspace = options.viewersPerWorkspace ?? 50;
    this.rememberMs = options.rememberMs ?? 24 * 3600_000;
    this.now = options.now ?? Date.now;
  }

  /** `userId` opened the tab: their view is published now, and again when posts change. */
  async opened(
    token: string,
    teamId: string,
    userId: string,
    person: { timeZone: string | undefined; isOutsider: boolean },
  ): Promise<void> {
    if (person.isOutsider) {
      await this.deps.client.views.publish({ token, user_id: userId, view: homeViewForOutsider() });
      return;
    }
    this.remember(teamId, userId, person.timeZone);
    await this.publish(token, teamId, userId, person.timeZone);
  }

  /** Posts of `teamId` changed: shown again to who opened the tab lately, once the burst is over. Never throws. */
  postsChanged(teamId: string): void {
    if (!this.viewers.has(teamId) || this.timers.has(teamId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(teamId);
      const run = this.refresh(teamId).finally(() => this.running.delete(run));
      this.running.add(run);
    }, this.options.debounceMs);
    timer.unref();
    this.timers.set(teamId, timer);
  }

  /** Resolves once no refresh is waiting or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.running.size > 0) {
      if (this.running.size > 0) await Promise.allSettled([...this.running]);
      else await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.debounceMs, 50)));
    }
  }

  /**
   * Refreshes still waiting are dropped (the tab is built afresh when it is next opened); one
   * already running is waited for, so it does not outlive the database it reads.
   */
  async stop(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private remember(teamId: string, userId: string, timeZone: string | undefined): void {
    let people = this.viewers.get(teamId);
    if (!people) {
      if (this.viewers.size >= WORKSPACES_MAX) this.viewers.delete(this.viewers.keys().next().value!);
      people = new Map();
      this.viewers.set(teamId, people);
    }
    people.delete(userId);
    people.set(userId, { timeZone, openedAt: this.now() });
    while (people.size > this.perWorkspace) people.delete(people.keys().next().value!);
  }

  /** Who of `teamId` opened the tab within rememberMs; the others are forgotten. */
  private recentViewers(teamId: string): Array<[string, Viewer]> {
    const people = this.viewers.get(teamId);
    if (!people) return [];
    const since = this.now() - this.rememberMs;
    for (const [userId, viewer] of people) if (viewer.openedAt < since) people.delete(userId);
    if (people.size === 0) this.viewers.delete(teamId);
    return [...people];
  }

  private async refresh(teamId: string): Promise<void> {
    const viewers = this.recentViewers(teamId);
    if (viewers.length === 0) return;
    try {
      const token = (await this.deps.auth.forTeam(teamId)).botToken;
      // One at a time: views.publish is rate limited per workspace, and the views differ only in their zone.
      for (const [userId, viewer] of viewers) await this.publish(token, teamId, userId, viewer.timeZone);
    } catch (error) {
      this.deps.logger.warn({ err: error, teamId }, 'could not refresh the Home tab');
    }
  }

  private async publish(token: string, teamId: string, userId: string, timeZone: string | undefined): Promise<void> {
    try {
      const view = await this.deps.inbound.home({ chat: 'slack', workspaceExternalId: teamId, userExternalId: userId, timeZone });
      await this.deps.client.views.publish({ token, user_id: userId, view: homeView(view) });
    } catch (error) {
      // Someone who left the workspace, or a view Slack refused: the others still get theirs.
      this.deps.logger.warn({ err: error, teamId, userId }, 'could not publish a Home view');
    }
  }
}

/** `app_home_opened` on the Home tab (not the Messages tab): the person's view, published. */
export function registerHomeTab(deps: ListenerDependencies): void {
  const { app, people, home } = deps;
  app.event('app_home_opened', async ({ event, context, body }) => {
    const teamId = teamOf(context, body);
    if (event.tab !== 'home' || !teamId) return;
    const token = botToken(context);
    const person = await people.lookup(token, teamId, event.user, context.enterpriseId);
    await home.opened(token, teamId, event.user, person);
  });
}
