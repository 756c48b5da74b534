/**
 * The README's webhook receiver, run as written: it accepts what IQSP sends (signed by the real
 * Webhooks worker) and refuses a body whose signature does not match.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Webhooks, WEBHOOK_QUEUE } from '../../src/core/webhooks.js';
import { JobQueue } from '../../src/jobs/queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../helpers/cli.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

const SECRET = 'readme-secret-0123456789';
let child: ChildProcess | undefined;
let t: TestDatabase | undefined;
let worker: Worker | undefined;

afterEach(async () => {
  await worker?.stop();
  child?.kill();
  await t?.close();
});

function readmeReceiver(): string {
  const readme = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Webhooks'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('no receiver in the README');
  return code;
}

it('accepts a delivery signed by IQSP and refuses a forged one', async () => {
  t = await testDatabase();
  const file = path.join(t.dir, 'receiver.mjs');
  writeFileSync(file, readmeReceiver());
  const port = await freePort();
  const lines: string[] = [];
  child = spawn(process.execPath, [file], { env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: String(port) } });
  child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 200; i += 1) {
    if (
      await fetch(url, { method: 'POST', body: '{}' }).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 25));
  }
  // Unsigned: refused.
  expect((await fetch(url, { method: 'POST', body: '{"type":"post.expired"}' })).status).toBe(401);

  const queue = new JobQueue(t.db);
  const delivered: string[] = [];
  const webhooks = new Webhooks({
    queue,
    logger: createLogger('silent'),
    target: { url, secret: SECRET },
    publicUrl: 'https://iqsp.example',
    onDelivery: (outcome) => delivered.push(outcome),
  });
  worker = new Worker(queue, { queue: WEBHOOK_QUEUE, handler: webhooks.handle, concurrency: 1, pollMs: 10 }, createLogger('silent'));
  void worker.start();
  await webhooks.emit(undefined, { type: 'post.expired', post_id: 'P1' });
  for (let i = 0; i < 500 && delivered.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
  expect(delivered).toEqual(['delivered']);
  for (let i = 0; i < 100 && !lines.includes('post.expired'); i += 1) await new Promise((r) => setTimeout(r, 10));
  expect(lines).toContain('post.expired');
});
