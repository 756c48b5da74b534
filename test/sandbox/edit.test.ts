/**
 * Issue 16 in the sandbox, through the /sandbox page's own API (what its script calls): the
 * approval message has an Edit button; pressed by anyone but the requester it answers why not,
 * pressed by the requester it answers the edit form's content (caption, one own-version field per
 * platform); the form's live counts say what each platform counts; saving it edits the post as
 * Slack's modal does, so approvals start over and the versions go to their platforms only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsentChoice } from '../../src/simulators/consent.js';
import { createSandboxSurface, type SandboxEditForm } from '../../src/sandbox/surface.js';
import { Browser } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

interface Message {
  id: string;
  author: string;
  text: string;
  approvalFor?: string;
  threadId?: string;
  visibleTo?: string;
  buttons?: Array<{ actionId: string; label: string; value: string }>;
}

let h: Harness;

beforeEach(async () => {
  h = await startHarness({ app: { surfaces: [createSandboxSurface({ published: () => h.sims.published() })] } });
}, 30_000);

afterEach(async () => {
  await h?.close();
}, 20_000);

async function messages(user: string): Promise<Message[]> {
  const answer = await fetch(`${h.base}/sandbox/api/state?user=${user}`);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { messages: Message[] }).messages;
}

async function command(user: string, text: string): Promise<void> {
  const form = new FormData();
  form.set('user', user);
  form.set('text', text);
  const answer = await fetch(`${h.base}/sandbox/api/command`, { method: 'POST', body: form });
  expect(answer.status, await answer.clone().text()).toBe(200);
}

async function postJson<T>(route: string, body: unknown, status = 200): Promise<T> {
  const answer = await fetch(`${h.base}/sandbox/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(answer.status, await answer.clone().text()).toBe(status);
  return (await answer.json()) as T;
}

const react = (user: string, messageId: string, remove = false) =>
  postJson('react', { user, messageId, emoji: 'white_check_mark', remove });

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Ada connects `platform` through the sandbox chat and the simulated consent page. */
async function connect(platform: string, choice?: ConsentChoice): Promise<void> {
  const before = (await messages('ada')).length;
  await command('ada', `/iqsp connect ${platform}`);
  const link = await until(async () => {
    const reply = (await messages('ada')).slice(before).find((m) => m.author === 'bot' && m.text.includes('/connect/'));
    return reply ? /(http:\/\/\S+\/connect\/[\w-]+)/.exec(reply.text)?.[1] : undefined;
  }, `the ${platform} connect link`);
  const browser = new Browser();
  const consent = (await browser.fetch(link, { redirect: 'manual' })).headers.get('location');
  expect((await browser.fetch(await h.sims.followConsent(consent!, choice))).status).toBe(200);
}

/** The newest message `user` sees that `match` picks, once it is there. */
const seen = (user: string, match: (m: Message) => boolean, what: string) =>
  until(async () => (await messages(user)).filter(match).at(-1), what);

describe('editing in the sandbox', () => {
  it('opens the edit form from the Edit button, counts as the person types, and saving starts the approvals over', async () => {
    await connect('x');
    await connect('facebook', { pages: ['100000000000001'] });
    await command('ada', '/iqsp approvals 2');
    await command('ada', '/iqsp post x,facebook Hello from the sandbox');
    const approval = await seen('bob', (m) => m.approvalFor !== undefined, 'the approval message');
    const postId = approval.approvalFor!;
    const edit = approval.buttons?.find((b) => b.label === 'Edit');
    expect(edit).toMatchObject({ actionId: 'edit_post', value: postId });
    await react('bob', approval.id);
    await seen('ada', (m) => m.threadId === approval.id && m.text.includes('(1 of 2)'), 'Bob’s approval');

    // Only the requester may edit: Bob is told so, privately, and gets no form.
    const refused = await postJson<{ ok: boolean; edit?: SandboxEditForm }>('button', { user: 'bob', ...edit });
    expect(refused.edit).toBeUndefined();
    await seen(
      'bob',
      (m) => m.visibleTo === 'bob' && m.text === `Only the person who asked for post ${postId} can edit it.`,
      'the refusal',
    );

    const opened = await postJson<{ ok: boolean; edit?: SandboxEditForm }>('button', { user: 'ada', ...edit });
    // One field per platform, in the post's target order (targets made at once have no order among them).
    expect(opened.edit).toEqual({
      postId,
      caption: 'Hello from the sandbox',
      versions: expect.arrayContaining([
        { platform: 'x', name: 'X', version: '' },
        { platform: 'facebook', name: 'Facebook', version: '' },
      ]) as unknown,
    });
    expect(opened.edit?.versions).toHaveLength(2);

    // The live counts under a field: X's limit, and a thread's parts.
    const long = await postJson<{ counts: Array<{ platform: string; line: string; over: boolean }> }>('counts', {
      platforms: ['x'],
      text: 'a'.repeat(281),
    });
    expect(long.counts).toEqual([{ platform: 'x', line: expect.stringMatching(/^X: 281 of 280 /) as unknown, over: true }]);
    const thread = await postJson<{ counts: Array<{ line: string; over: boolean }> }>('counts', {
      platforms: ['x'],
      text: 'First part\n---\nSecond part',
    });
    expect(thread.counts[0]).toMatchObject({
      line: expect.stringMatching(/^X: a thread of 2 posts: 10, 11 of 280 /) as unknown,
      over: false,
    });
    await postJson('counts', { platforms: ['myspace'], text: 'Hi' }, 400);

    await postJson('edit', {
      user: 'ada',
      postId,
      caption: 'Hello from the sandbox, edited',
      versions: { x: 'Short for X', facebook: '' },
    });
    await seen(
      'ada',
      (m) => m.visibleTo === 'ada' && m.text === `Post ${postId} was edited; approvals start over (0 of 2), in its thread.`,
      'the edit’s answer',
    );
    const notice = await seen('bob', (m) => m.threadId === approval.id && m.text.startsWith('edited by'), 'the thread’s notice');
    expect(notice.text).toContain('Caption:\n- Hello from the sandbox\n+ Hello from the sandbox, edited');
    expect(notice.text).toContain('approvals start over (0 of 2)');
    const shown = (await messages('bob')).find((m) => m.id === approval.id)!;
    expect(shown.text).toContain('Short for X');

    // Bob's ✅ was for the old text: Cara's is the only one counting, until Bob gives his again.
    await react('cara', approval.id);
    await seen('ada', (m) => m.threadId === approval.id && m.text.includes('approved by <@cara> (1 of 2)'), 'Cara’s approval');
    expect(h.sims.published()).toEqual([]);
    await react('bob', approval.id, true);
    await react('bob', approval.id);
    await until(async () => (h.sims.published().length === 2 ? true : undefined), 'both targets published');
    expect(
      h.sims
        .published()
        .map((p) => [p.platform, p.text])
        .sort(),
    ).toEqual([
      ['Facebook', 'Hello from the sandbox, edited'],
      ['X', 'Short for X'],
    ]);
  }, 60_000);

  it('refuses an edit form naming a platform it does not know', async () => {
    await postJson('edit', { user: 'ada', postId: 'ABCDEFG', caption: 'Hi', versions: { myspace: 'Hi' } }, 400);
  });
});
