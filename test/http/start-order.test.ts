/**
 * `serve` listens before its chat surfaces have loaded (issue 19: Bolt and discord.js are most
 * of the start): /healthz answers at once, /readyz answers by the database as ever (contract:
 * 200 when it answers), a request for a surface's route waits until the surface is there and
 * reaches it (never a 404), and a surface that fails to load closes the server and fails the
 * start. Each surface here is held by a gate the test opens: no timing is guessed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.js';
import type { SurfaceFactory } from '../../src/bots/surface.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../helpers/cli.js';
import { scratchDatabase } from '../helpers/db.js';
import { MemoryChat } from '../helpers/memory-chat.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A promise the test settles. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void; fail(error: Error): void } {
  let open!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** A surface whose loading waits for `loaded`, with a route POST /late/hello. */
function gatedSurface(loaded: Promise<void>, started: () => void): SurfaceFactory {
  return async () => {
    started();
    await loaded;
    return {
      name: 'late',
      port: new MemoryChat(),
      routes: (router) =>
        void router.post('/late/hello', (ctx) => {
          ctx.body = { hello: 'from the surface' };
        }),
    };
  };
}

/** Starts the app (not awaited: the test watches it start) on a fresh database, with its log lines. */
async function starting(
  surfaces: SurfaceFactory[],
): Promise<{ started: Promise<RunningApp>; base: string; logs: () => Array<Record<string, unknown>> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-start-order-'));
  const database = await scratchDatabase(dir);
  const port = await freePort();
  const lines: string[] = [];
  const config = loadConfig(
    { PORT: String(port), DATABASE_URL: database.url, MEDIA_DIR: path.join(dir, 'media'), VAULT_KEY: randomBytes(32).toString('base64') },
    dir,
  );
  const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  const started = startApp(config, logger, { surfaces, worker: { pollMs: 20 } });
  cleanups.push(async () => {
    await started.then(
      (app) => app.stop('test over'),
      () => undefined,
    );
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { started, base: `http://127.0.0.1:${port}`, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The first answer of `url` once the server accepts connections (it is refused until it listens). */
async function firstAnswer(url: string, init?: RequestInit): Promise<Response> {
  for (;;) {
    try {
      return await fetch(url, init);
    } catch {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

describe('serve start order', () => {
  it('answers /healthz and /readyz while a surface loads; an early request for its route waits for it, then reaches it', async () => {
    const loaded = gate();
    const loading = gate();
    const { started, base, logs } = await starting([gatedSurface(loaded.promise, () => loading.open())]);
    await loading.promise;

    const health = await firstAnswer(`${base}/healthz`);
    expect(health.status).toBe(200);
    // Per contract: ready when the database answers, whatever the surfaces are doing.
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    let answered = false;
    const early = fetch(`${base}/late/hello`, { method: 'POST' }).then((res) => ((answered = true), res));
    // The request has reached the server and waits: the health route still answers meanwhile.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(answered).toBe(false);
    expect(logs().some((l) => String(l.msg).startsWith('IQSP listening'))).toBe(false);

    loaded.open();
    const res = await early;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'from the surface' });
    await started;
    // A path no route has is still a 404 once every route is there.
    expect((await fetch(`${base}/late/nothing`)).status).toBe(404);
    // Its method is checked as the server's own routes' are.
    expect((await fetch(`${base}/late/hello`)).status).toBe(405);
    const listening = logs().find((l) => String(l.msg).startsWith('IQSP listening'))!;
    expect(listening).toMatchObject({ listeningMs: expect.any(Number), startMs: expect.any(Number) });
    expect(Object.keys(listening.phases as object)).toEqual(['load', 'database', 'core', 'listen', 'surfaces', 'background']);
    expect(listening.startMs).toBeGreaterThanOrEqual(listening.listeningMs as number);
  });

  it('a surface that fails to load closes the server and fails the start; a request that waited for it is answered 503', async () => {
    const loaded = gate();
    const loading = gate();
    const { started, base } = await starting([gatedSurface(loaded.promise, () => loading.open())]);
    await loading.promise;
    expect((await firstAnswer(`${base}/healthz`)).status).toBe(200);
    const early = fetch(`${base}/late/hello`, { method: 'POST' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    loaded.fail(new Error('the surface could not load'));
    await expect(started).rejects.toThrow('the surface could not load');
    expect((await early).status).toBe(503);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
