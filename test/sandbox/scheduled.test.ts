/**
 * Issue 15 in the sandbox, through the /sandbox page's own API (what its script calls): Ada
 * schedules `post x in 1m …` from the chat box, Bob approves it before its time, the panel lists
 * it as scheduled and approved, and once the app's clock passes its time the worker publishes it
 * by itself and the panel shows it among the recent outcomes. The clock is the app's `now`,
 * moved by the test; nothing waits for a minute to pass. /sandbox/home draws the App Home the Slack app publishes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSandboxSurface } from '../../src/sandbox/surface.js';
import type { SchedulePanel } from '../../src/sandbox/schedule-panel.js';
import { Browser } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

interface Message {
  id: string;
  author: string;
  text: string;
  approvalFor?: string;
  threadId?: string;
}
interface State {
  version: number;
  messages: Message[];
  published: Array<{ platform: string; account: string; text: string; url: string }>;
  schedule: SchedulePanel;
}

/** Monday 7 December 2026, 09:00 in Berlin. */
const START = new Date('2026-12-07T08:00:00Z');

let h: Harness;
let clock: Date;

beforeEach(async () => {
  clock = START;
  h = await startHarness({
    env: { DEFAULT_TIMEZONE: 'Europe/Berlin' },
    app: {
      surfaces: [createSandboxSurface({ published: () => h.sims.published() })],
      now: () => clock,
    },
  });
}, 30_000);

afterEach(async () => {
  await h?.close();
}, 20_000);

async function state(user: string): Promise<State> {
  const answer = await fetch(`${h.base}/sandbox/api/state?user=${user}`);
  expect(answer.status).toBe(200);
  return (await answer.json()) as State;
}

async function command(user: string, text: string): Promise<void> {
  const form = new FormData();
  form.set('user', user);
  form.set('text', text);
  const answer = await fetch(`${h.base}/sandbox/api/command`, { method: 'POST', body: form });
  expect(answer.status, await answer.clone().text()).toBe(200);
}

async function react(user: string, messageId: string): Promise<void> {
  const answer = await fetch(`${h.base}/sandbox/api/react`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, messageId, emoji: 'white_check_mark' }),
  });
  expect(answer.status).toBe(200);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Ada connects X through the sandbox chat and the simulated consent page; returns the account's handle. */
async function connectX(): Promise<string> {
  await command('ada', '/iqsp connect x');
  const link = await until(async () => {
    const reply = (await state('ada')).messages.find((m) => m.author === 'bot' && m.text.includes('/connect/'));
    return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
  }, 'the connect link');
  const browser = new Browser();
  const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
  expect(consent).toBeTruthy();
  expect((await browser.fetch(await h.sims.followConsent(consent!))).status).toBe(200);
  return until(async () => /connected: X (@\w+)/.exec((await state('ada')).messages.map((m) => m.text).join('\n'))?.[1], 'connected');
}

/** Ada schedules a post from the chat box; returns its approval message as Bob sees it. */
async function schedule(text: string, caption: string): Promise<Message> {
  await command('ada', `/iqsp post x ${text} ${caption}`);
  return until(
    async () => (await state('bob')).messages.find((m) => m.approvalFor !== undefined && m.text.includes(caption)),
    `the approval message of "${caption}"`,
  );
}

describe('scheduling in the sandbox', () => {
  it('lists a post scheduled `in 1m`, and publishes it by itself once the clock passes its time', async () => {
    const handle = await connectX();
    const approval = await schedule('in 1m', 'Hello in a minute');
    const postId = approval.approvalFor!;
    // The time segment reads as text in the sandbox: the time in the reader's zone, no chat markup.
    expect(approval.text).toContain('Mon 7 Dec 09:01 CET');
    expect(approval.text).not.toMatch(/<!date|<t:/);

    const before = (await state('bob')).schedule;
    expect(before.zone).toBe('Europe/Berlin');
    expect(before.upcoming).toEqual([
      {
        id: postId,
        at: '2026-12-07T08:01:00.000Z',
        time: 'Mon 7 Dec 09:01 CET',
        targets: [`X ${handle}`],
        approvals: '0 of 1 approvals',
        caption: 'Hello in a minute',
      },
    ]);
    expect(before.recent).toEqual([]);

    // Bob approves ahead of time: the post waits, said in its thread, and the panel says approved.
    await react('bob', approval.id);
    await until(async () => ((await state('bob')).schedule.upcoming[0]?.approvals === 'approved' ? true : undefined), 'approved');
    const waiting = await state('bob');
    expect(waiting.messages.filter((m) => m.threadId === approval.id).map((m) => m.text)).toContainEqual(
      expect.stringContaining('scheduled'),
    );
    // The worker keeps polling meanwhile; the clock has not reached the post's time, so nothing goes out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await state('bob')).published).toEqual([]);

    clock = new Date(START.getTime() + 61_000);
    const after = await until(async () => {
      const s = await state('bob');
      return s.schedule.recent.some((r) => r.id === postId) ? s : undefined;
    }, 'the post among the recent outcomes');
    expect(after.schedule.upcoming).toEqual([]);
    expect(after.schedule.recent).toEqual([
      { id: postId, status: 'published', time: 'Mon 7 Dec 09:01 CET', targets: [`X ${handle}`], caption: 'Hello in a minute' },
    ]);
    expect(after.published.map((p) => p.text)).toEqual(['Hello in a minute']);
    expect(after.messages.filter((m) => m.threadId === approval.id).map((m) => m.text)).toContainEqual(
      expect.stringMatching(new RegExp(`^X ${handle}: published https?://`)),
    );
  }, 60_000);

  it('draws the App Home at /sandbox/home: upcoming posts with their times, recent outcomes, every caption escaped', async () => {
    const handle = await connectX();
    const later = await schedule('at 18:30', '<b>Evening</b> & news');
    const tomorrow = await schedule('tomorrow 09:30', 'Launch day!');
    const now = await schedule('in 1m', 'Quick one');
    await react('bob', now.id);
    clock = new Date(START.getTime() + 61_000);
    await until(async () => ((await state('bob')).schedule.recent.length === 1 ? true : undefined), 'the quick post published');

    const page = await fetch(`${h.base}/sandbox/home?user=cara`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const text = html
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
    expect(text).toContain('Posts of this workspace');
    expect(text.indexOf('Upcoming')).toBeLessThan(text.indexOf('Recent'));
    // Soonest first; each with its time in the reader's zone, targets and approvals so far.
    const first = text.indexOf(later.approvalFor!);
    const second = text.indexOf(tomorrow.approvalFor!);
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(text).toContain(`${later.approvalFor!} Mon 7 Dec 18:30 CET · X ${handle} · 0 of 1 approvals · from @ada`);
    expect(text).toContain(`${tomorrow.approvalFor!} Tue 8 Dec 09:30 CET · X ${handle} · 0 of 1 approvals · from @ada`);
    expect(text).toContain(`${now.approvalFor!} published Mon 7 Dec 09:01 CET · X ${handle}`);
    // The caption is shown as text: never markup, never a chat's time markup.
    expect(text).toContain('<b>Evening</b> & news');
    expect(html).not.toContain('<b>Evening</b>');
    expect(html).toContain('<blockquote>&lt;b&gt;Evening&lt;/b&gt; &amp; news</blockquote>');
    expect(html).not.toMatch(/<!date|\uE000/);
  }, 60_000);
});
