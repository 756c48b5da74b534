/**
 * Review (issue 19, session 30: a queued slash command is claimed in its turn). Attacks on "no
 * acknowledged, fresh command is lost or silently dropped": the database closing while commands
 * are queued, stop() during a flood (and a command arriving after it), and what a command
 * abandoned at stop becomes afterwards. Claims are core.inbound's (DeliveryClaims over
 * claimDeliveries on the test database). Each person's response_url is served by the test.
 */
import { afterEach, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import type { Server } from 'node:http';
import { testDatabase, type TestDatabase } from '../helpers/db.js';
import { claimsInstance, deferred } from './claims-instance.js';
import { sendToApp } from '../simulators/slack.js';

const SECRET = 's30-claims-loss-secret';
const servers: Server[] = [];
let t: TestDatabase | undefined;
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await t?.close().catch(() => undefined);
  t = undefined;
});

function instance(db: Db, run: (id: string) => Promise<void>, concurrency = 8) {
  return claimsInstance(SECRET, servers, db, run, concurrency);
}

it('the database closing while commands are queued: none runs, and every person is told', async () => {
  t = await testDatabase();
  const ran: string[] = [];
  const a = await instance(t.db, async (id) => void ran.push(id));
  const ids = Array.from({ length: 12 }, (_, i) => `q-${i}`);
  for (const id of ids) expect((await sendToApp(a.url, SECRET, a.command(id))).status).toBe(200);
  await t.db.destroy();
  await a.receiver.idle();
  expect(ran).toEqual([]);
  expect([...a.told.keys()].sort()).toEqual([...ids].sort());
  for (const texts of a.told.values()) expect(texts).toEqual([expect.stringMatching(/could not take this command.*Nothing was run/)]);
}, 20_000);

it('stop() during a flood: every acked command either runs or its person is told (once), a late one included', async () => {
  t = await testDatabase();
  const gate = deferred();
  const ran: string[] = [];
  const a = await instance(
    t.db,
    async (id) => {
      ran.push(id);
      await gate.promise;
    },
    2,
  );
  const ids = Array.from({ length: 10 }, (_, i) => `f-${i}`);
  for (const id of ids) expect((await sendToApp(a.url, SECRET, a.command(id))).status).toBe(200);
  await expect.poll(() => ran, { timeout: 5_000 }).toEqual(['f-0', 'f-1']);
  const stopped = a.receiver.stop();
  // A command acked after stop() began (the HTTP server still listens while the app drains).
  expect((await sendToApp(a.url, SECRET, a.command('late'))).status).toBe(200);
  gate.resolve();
  await stopped;
  await a.receiver.idle();
  expect(ran).toEqual(['f-0', 'f-1']);
  for (const id of [...ids.slice(2), 'late']) expect(a.told.get(id)).toEqual([expect.stringMatching(/restarting.*Nothing was done/)]);
  for (const id of ids.slice(0, 2)) expect(a.told.get(id)).toBeUndefined();
}, 20_000);

it('a command abandoned at stop ("Nothing was done") does not run later when its signed request comes again', async () => {
  // Before 15a149b the signature was claimed at the ack, so an abandoned command's request was
  // spent; now an abandoned command was never claimed, and its signed request (valid 5 minutes)
  // runs on the next instance, after the person was told nothing was done (and may have retried).
  t = await testDatabase();
  const ranA: string[] = [];
  const a = await instance(t.db, async (id) => void ranA.push(id));
  const request = a.command('abandoned');
  const timestamp = Math.floor(Date.now() / 1000);
  expect((await sendToApp(a.url, SECRET, request, { timestamp })).status).toBe(200);
  await a.receiver.stop();
  expect(ranA).toEqual([]);
  expect(a.told.get('abandoned')).toEqual([expect.stringMatching(/restarting.*Nothing was done/)]);

  // The restarted service (or another instance), same database: the same signed request arrives.
  const ranB: string[] = [];
  const b = await instance(t.open(), async (id) => void ranB.push(id));
  expect((await sendToApp(b.url, SECRET, request, { timestamp })).status).toBe(200);
  await b.receiver.idle();
  expect(ranB).toEqual([]);
}, 20_000);
