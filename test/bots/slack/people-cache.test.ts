/**
 * The people cache (issue 19): a burst of commands from one person asks users.info once, and
 * an answer is kept only its TTL (admin rights come from it).
 */
import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { SlackPeople } from '../../../src/bots/slack/people.js';
import { createLogger } from '../../../src/observability/logger.js';

function stubClient(isAdmin: () => boolean) {
  const asked: string[] = [];
  const release: Array<() => void> = [];
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        asked.push(user);
        await new Promise<void>((resolve) => release.push(resolve));
        return { ok: true, user: { id: user, is_admin: isAdmin(), profile: { display_name: user.toLowerCase() } } };
      },
    },
  } as unknown as WebClient;
  const answerAll = () => release.splice(0).forEach((r) => r());
  return { client, asked, answerAll };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SlackPeople', () => {
  it('lookups of one person while users.info is on its way share that call', async () => {
    const { client, asked, answerAll } = stubClient(() => false);
    const people = new SlackPeople(client, createLogger('silent'), 60_000);
    const lookups = [people.lookup('xoxb-t', 'T1', 'U1'), people.lookup('xoxb-t', 'T1', 'U1'), people.lookup('xoxb-t', 'T1', 'U2')];
    await tick();
    answerAll();
    const [a, b, c] = await Promise.all(lookups);
    expect(asked).toEqual(['U1', 'U2']);
    expect(a).toBe(b);
    expect(c?.name).toBe('u2');
  });

  it('an answer is kept for its TTL only: an admin removed in Slack stops being one once it passes', async () => {
    let admin = true;
    let now = 5_000_000;
    const { client, asked, answerAll } = stubClient(() => admin);
    const people = new SlackPeople(client, createLogger('silent'), 60_000, () => now);
    const first = people.lookup('xoxb-t', 'T1', 'U1');
    await tick();
    answerAll();
    expect((await first).isAdmin).toBe(true);
    admin = false;
    now += 59_999;
    expect((await people.lookup('xoxb-t', 'T1', 'U1')).isAdmin).toBe(true);
    expect(asked).toHaveLength(1);
    now += 2;
    const again = people.lookup('xoxb-t', 'T1', 'U1');
    await tick();
    answerAll();
    expect((await again).isAdmin).toBe(false);
    expect(asked).toHaveLength(2);
  });
});
