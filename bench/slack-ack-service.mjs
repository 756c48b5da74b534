/**
 * The service side of bench/slack-ack.mjs, one process per service so its CPU is its own:
 * `iqsp` (the built app from IQSP_DIST or ../dist: Koa + Bolt + the Slack surface, on SQLite)
 * or `bare` (a Koa route answering 200). Started by the parent through `fork`; it says
 * `{ ready, port }`, then answers `{ measure: 'start' }` / `{ measure: 'stop' }` with the CPU
 * this process spent between them, and `{ stop: true }` by waiting for the replies still
 * running and exiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from 'node:http';
import Koa from 'koa';

const [kind, fakeUrl, signingSecret, logLevel] = process.argv.slice(2);

async function startIqsp() {
  const dist = process.env.IQSP_DIST ?? new URL('../dist/', import.meta.url).href;
  const base = dist.startsWith('file:') ? dist : new URL(`file://${path.resolve(dist)}/`).href;
  const { startApp } = await import(new URL('app.js', base).href);
  const { loadConfig } = await import(new URL('config.js', base).href);
  const { createLogger } = await import(new URL('observability/logger.js', base).href);
  const { generateKey } = await import(new URL('vault/vault.js', base).href);
  const { slackSurfaceFactory, isSlackSurface } = await import(new URL('bots/slack/index.js', base).href);
  const probe = createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address();
  await new Promise((r) => probe.close(r));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-bench-'));
  const config = loadConfig(
    {
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, 'iqsp.sqlite')}`,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: generateKey(),
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_BOT_TOKEN: 'xoxb-bench-0000-token',
      SLACK_API_URL: `${fakeUrl}/api/`,
      LOG_LEVEL: logLevel,
    },
    dir,
  );
  // Log lines go to /dev/null through pino's own destination: their cost is counted, not their disk.
  const { default: pino } = await import('pino');
  const logger = createLogger(logLevel, pino.destination({ dest: '/dev/null', sync: true }));
  const app = await startApp(config, logger, { surfaces: [slackSurfaceFactory({ retries: 0 })], publishers: new Map() });
  const surface = app.surfaces.find(isSlackSurface);
  return {
    port: app.port,
    settled: () => surface.settled(),
    stop: async () => {
      await app.stop('benchmark over');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startBare() {
  const koa = new Koa();
  koa.use((ctx) => {
    ctx.status = 200;
  });
  const server = koa.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    port: server.address().port,
    settled: async () => undefined,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const service = kind === 'iqsp' ? await startIqsp() : await startBare();
let startedCpu;
process.on('message', async (message) => {
  if (message.measure === 'start') {
    startedCpu = process.cpuUsage();
    process.send({ measuring: true });
  } else if (message.measure === 'stop') {
    const used = process.cpuUsage(startedCpu);
    process.send({ cpuMicros: used.user + used.system });
  } else if (message.settle) {
    await service.settled();
    process.send({ settled: true });
  } else if (message.stop) {
    await service.settled();
    await service.stop();
    process.send({ stopped: true });
    process.disconnect();
  }
});
process.send({ ready: true, port: service.port });
