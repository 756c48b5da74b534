/**
 * Publishing fans out per account (issue 19), through the built service (`node dist/cli.js
 * serve`) and Slack: two people's X accounts each publish up to X's limit of 2 at once, side by
 * side, so four posts to X are in flight together where a limit for the whole platform allowed
 * two. X holds every answer (the requests hang), so what is in flight stays in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/simulators/index.js';
import { startWorld, type Person, type SurfaceWorld } from './chat-surface.js';
import { connectLinkIn, followConnectLink, X_SUPPORT_ACCOUNT } from './platforms.js';
import { waitFor } from './service.js';
import { SlackSurface } from './slack-surface.js';

let world: SurfaceWorld<SlackSurface>;
let zed: Person;

beforeAll(async () => {
  world = await startWorld(
    () => SlackSurface.start(),
    (surface) => {
      zed = surface.addPerson('zed_fanout', 'Zed Fanout');
    },
  );
  const { alice } = world.surface.people;
  for (const [person, choice, label] of [
    [alice, undefined, 'X @acme'],
    [zed, { account: X_SUPPORT_ACCOUNT }, 'X @acme_support'],
  ] as const) {
    const outcome = await followConnectLink(world.sims, connectLinkIn(await world.surface.command(person, 'connect x')), choice);
    expect(outcome.status).toBe(200);
    await world.surface.waitForDm(person, new RegExp(`^connected: ${label} `));
  }
}, 60_000);
afterAll(() => world?.close(), 30_000);

describe('publishing fan-out', () => {
  it('two accounts on one platform publish side by side, each up to the platform limit', async () => {
    const chat = world.surface;
    const { alice, carol } = chat.people;
    const x = world.sims.x;
    const isTweet = (method: string, path: string) => method === 'POST' && path === '/2/tweets';
    x.faults.push({ match: isTweet, kind: 'hang', times: 6 });
    const hanging = (): RecordedRequest[] => x.requests.filter((r) => isTweet(r.method, r.path) && r.fault === 'hang');

    const approvals: string[] = [];
    for (const [person, name] of [
      [alice, 'acme'],
      [zed, 'acme_support'],
    ] as const)
      for (let i = 0; i < 3; i += 1) {
        const before = chat.approvalCount();
        await chat.mention(person, `post @${name} Fan-out ${name} ${i}`);
        const approval = await chat.nextApproval(before);
        await chat.react(carol, approval.id, '✅');
        approvals.push(approval.id);
      }
    for (const id of approvals) await chat.waitInThread(id, /publishing now/);

    await waitFor(() => hanging().length >= 4, 'four posts to X in flight at once', {
      context: () => `in flight: ${hanging().length}`,
    });
    const textOf = (r: RecordedRequest) => (r.body.kind === 'json' ? String((r.body.value as { text?: string }).text) : '');
    const byAccount = (name: string) => hanging().filter((r) => textOf(r).startsWith(`Fan-out ${name} `)).length;
    // Two per account: X's limit holds for each account, not for X as a whole.
    expect([byAccount('acme'), byAccount('acme_support')]).toEqual([2, 2]);
  });
});
