/**
 * Review (issue 19, session 30: a queued slash command is claimed in its turn). Attacks on
 * "no command runs twice" and "in the order they came", with the real claim path: DeliveryClaims
 * (batches, memory of recent keys) over claimDeliveries on the test database (SQLite: the claims
 * worker), one DeliveryClaims per instance as core.inbound has. Every request of a flood is acked
 * before any claim (quietMs is generous, so the flood never pauses); `receiver.idle()` waits for
 * the queue to drain.
 */
import { afterEach, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import type { Server } from 'node:http';
import { testDatabase, type TestDatabase } from '../helpers/db.js';
import { claimsInstance, deferred, QUIET } from './claims-instance.js';
import { commandRequest, sendToApp } from '../simulators/slack.js';

const SECRET = 's30-claims-replay-secret';
const servers: Server[] = [];
let t: TestDatabase | undefined;
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await t?.close();
  t = undefined;
});

function instance(db: Db, run: (id: string) => Promise<void>, concurrency = 8) {
  return claimsInstance(SECRET, servers, db, run, concurrency);
}

it('one signed command replayed 60 times in the same flood, all queued before any claim, runs once', async () => {
  t = await testDatabase();
  const ran: string[] = [];
  const a = await instance(t.db, async (id) => void ran.push(id));
  const captured = commandRequest('slash-command', { text: 'help', trigger_id: 'captured' });
  const timestamp = Math.floor(Date.now() / 1000);
  const statuses = await Promise.all(
    Array.from({ length: 60 }, () => sendToApp(a.url, SECRET, captured, { timestamp }).then((r) => r.status)),
  );
  expect(statuses.every((s) => s === 200)).toBe(true);
  // Acked, none claimed or run yet: the replays sit in the queue beside the original.
  expect(ran).toEqual([]);
  await a.receiver.idle();
  expect(ran).toEqual(['captured']);
}, 20_000);

it('replays split over two instances sharing the database, interleaved with fresh commands, run once each, each instance in arrival order', async () => {
  t = await testDatabase();
  const ranA: string[] = [];
  const ranB: string[] = [];
  const a = await instance(t.db, async (id) => void ranA.push(id), 3);
  const b = await instance(t.open(), async (id) => void ranB.push(id), 3);
  const captured = commandRequest('slash-command', { text: 'help', trigger_id: 'captured' });
  const timestamp = Math.floor(Date.now() / 1000);
  const sentA: string[] = [];
  const sentB: string[] = [];
  for (let i = 0; i < 20; i++) {
    const id = `fresh-${String(i).padStart(2, '0')}`;
    const to = i % 2 === 0 ? a : b;
    (to === a ? sentA : sentB).push(id);
    expect((await sendToApp(to.url, SECRET, commandRequest('slash-command', { text: 'help', trigger_id: id }))).status).toBe(200);
    // The captured command, to both, between every fresh one.
    await Promise.all([sendToApp(a.url, SECRET, captured, { timestamp }), sendToApp(b.url, SECRET, captured, { timestamp })]);
  }
  await Promise.all([a.receiver.idle(), b.receiver.idle()]);
  expect([...ranA, ...ranB].filter((id) => id === 'captured')).toHaveLength(1);
  expect(ranA.filter((id) => id !== 'captured')).toEqual(sentA);
  expect(ranB.filter((id) => id !== 'captured')).toEqual(sentB);
}, 30_000);

it('a replay arriving while the original is queued on another instance, and again while it runs, is dropped', async () => {
  t = await testDatabase();
  const gate = deferred();
  const ran: string[] = [];
  const work = async (id: string) => {
    ran.push(id);
    await gate.promise;
  };
  const a = await instance(t.db, work);
  const b = await instance(t.open(), work);
  const captured = commandRequest('slash-command', { text: 'help', trigger_id: 'captured' });
  const timestamp = Math.floor(Date.now() / 1000);
  // Queued on A and on B, neither claimed yet.
  await sendToApp(a.url, SECRET, captured, { timestamp });
  await sendToApp(b.url, SECRET, captured, { timestamp });
  await expect.poll(() => ran, { timeout: 5_000 }).toEqual(['captured']);
  // The original is running (held by the gate): more replays to both.
  for (let i = 0; i < 5; i++) await Promise.all([a, b].map((x) => sendToApp(x.url, SECRET, captured, { timestamp })));
  await new Promise((resolve) => setTimeout(resolve, QUIET.quietMs + 300));
  gate.resolve();
  await Promise.all([a.receiver.idle(), b.receiver.idle()]);
  expect(ran).toEqual(['captured']);
}, 20_000);

it('a flood of 40 fresh commands starts its work in arrival order, each after its own claim', async () => {
  t = await testDatabase();
  const started: string[] = [];
  const a = await instance(
    t.db,
    async (id) => {
      started.push(id);
      // Some work waits on the network, some not: places are released out of order.
      await new Promise((resolve) => setTimeout(resolve, (Number(id.slice(-2)) * 7) % 30));
    },
    4,
  );
  const ids = Array.from({ length: 40 }, (_, i) => `t-${String(i).padStart(2, '0')}`);
  for (const id of ids) await sendToApp(a.url, SECRET, commandRequest('slash-command', { text: 'help', trigger_id: id }));
  await a.receiver.idle();
  expect(started).toEqual(ids);
}, 30_000);
