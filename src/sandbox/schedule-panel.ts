/**
 * What the sandbox panel shows of the workspace's schedule: its upcoming posts and its latest
 * outcomes, as the core's Home view gives them (the same data Slack's App Home shows), with
 * times already written in the reader's zone so the page's script only places text.
 */
import type { HomeView } from '../core/inbound.js';
import { statusWords } from '../core/posts/texts.js';
import { formatInZone } from '../core/schedule/zones.js';

export interface PanelUpcoming {
  id: string;
  /** The instant, for machines (tests). */
  at: string;
  /** The time in the reader's zone, for people. */
  time: string;
  targets: string[];
  /** `approved`, or `1 of 2 approvals`. */
  approvals: string;
  caption: string;
}

export interface PanelOutcome {
  id: string;
  status: string;
  time: string;
  targets: string[];
  caption: string;
}

export interface SchedulePanel {
  zone: string;
  upcoming: PanelUpcoming[];
  recent: PanelOutcome[];
}

/** A caption as a list shows it: one line, at most 80 characters. */
export function captionLine(caption: string, max = 80): string {
  const line = caption.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** How a scheduled post stands: approved, or how many of its approvals it has. */
export function approvalState(post: HomeView['upcoming'][number]): string {
  return post.status === 'approved' ? 'approved' : `${post.approvals} of ${post.required} approvals`;
}

export function schedulePanel(home: HomeView): SchedulePanel {
  const { zone, now } = home;
  return {
    zone,
    upcoming: home.upcoming.map((p) => ({
      id: p.id,
      at: p.at.toISOString(),
      time: formatInZone(p.at, zone, now),
      targets: p.targets,
      approvals: approvalState(p),
      caption: captionLine(p.caption),
    })),
    recent: home.recent.map((r) => ({
      id: r.id,
      status: statusWords(r.status),
      time: formatInZone(r.finishedAt, zone, now),
      targets: r.targets,
      caption: captionLine(r.caption),
    })),
  };
}
