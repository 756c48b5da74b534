/**
 * Issue 13, finding 2: the sandbox must never meet production. `IQSP_SANDBOX` (contract.md §2):
 * `auto` runs it only when nothing of a real install is configured — a production install whose
 * credentials failed to mount (DATABASE_URL, VAULT_KEY or an https PUBLIC_URL set, no chat or
 * platform credential) is not a sandbox; `on` forces it and it still never opens DATABASE_URL;
 * `off` forbids it. The sandbox listens on 127.0.0.1 only, and its APIs refuse requests from
 * another origin, another site's page or a rebound host name. Driven through `node dist/cli.js serve`.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cliScratch, freePort, runCli, waitForOk, type RunningCli } from '../helpers/cli.js';

const scratch = cliScratch('iqsp-sandbox-switch-');
const tempDir = scratch.tempDir;
let running: RunningCli | undefined;

/** Starts `serve` in `cwd` and waits until it answers on `port`. */
async function serve(cwd: string, port: number, env: Record<string, string>): Promise<RunningCli> {
  running = scratch.start(['serve'], { cwd, env: { PORT: String(port), ...env } });
  await Promise.race([
    waitForOk(`http://127.0.0.1:${port}/healthz`, 20_000),
    running.exited.then((code) => {
      throw new Error(`serve exited with ${code}: ${running?.output()}`);
    }),
  ]);
  return running;
}

/** An address of this machine that is not loopback, to show the sandbox does not answer there. */
function otherAddress(): string {
  for (const list of Object.values(os.networkInterfaces()))
    for (const entry of list ?? []) if (!entry.internal && entry.family === 'IPv4') return entry.address;
  return '[::1]';
}

/** A request with any Host header (fetch would not let a test send another one). */
function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function sandboxCommand(base: string, headers: Record<string, string> = {}): Promise<number> {
  const form = new FormData();
  form.set('user', 'ada');
  form.set('text', '/iqsp help');
  return (await fetch(`${base}/sandbox/api/command`, { method: 'POST', body: form, headers })).status;
}

describe('IQSP_SANDBOX', () => {
  it('auto: a production install with its credentials missing does not fall into the sandbox', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['DATABASE_URL', { DATABASE_URL: 'sqlite:./prod.sqlite' }],
      ['VAULT_KEY', { VAULT_KEY: randomBytes(32).toString('base64') }],
      ['PUBLIC_URL', { PUBLIC_URL: 'https://iqsp.example.com' }],
    ];
    for (const [variable, env] of cases) {
      const cwd = tempDir();
      const port = await freePort();
      const service = await serve(cwd, port, env);
      expect(service.output(), variable).not.toContain('SANDBOX MODE');
      expect((await fetch(`http://127.0.0.1:${port}/sandbox`)).status, variable).toBe(404);
      expect(existsSync(path.join(cwd, 'data/sandbox.sqlite')), variable).toBe(false);
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }
  }, 90_000);

  it('off forbids the sandbox even with nothing configured', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const service = await serve(cwd, port, { IQSP_SANDBOX: 'off' });
    expect(service.output()).not.toContain('SANDBOX MODE');
    expect((await fetch(`http://127.0.0.1:${port}/sandbox`)).status).toBe(404);
  }, 30_000);

  it('on forces the sandbox, which never opens DATABASE_URL nor uses a real credential', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const service = await serve(cwd, port, {
      IQSP_SANDBOX: 'on',
      DATABASE_URL: 'sqlite:./prod.sqlite',
      X_CLIENT_ID: 'real-client-id',
      X_CLIENT_SECRET: 'real-client-secret',
    });
    expect(service.output()).toContain('SANDBOX MODE');
    expect((await fetch(`http://127.0.0.1:${port}/sandbox`)).status).toBe(200);
    expect(existsSync(path.join(cwd, 'prod.sqlite'))).toBe(false);
    expect(existsSync(path.join(cwd, 'data/sandbox.sqlite'))).toBe(true);
  }, 30_000);

  it('a value other than auto, on or off exits 2 naming IQSP_SANDBOX', async () => {
    const result = await runCli(['serve'], { cwd: tempDir(), env: { IQSP_SANDBOX: 'yes', PORT: String(await freePort()) } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('iqsp: IQSP_SANDBOX: must be auto, on or off (got "yes")\n');
  }, 30_000);
});

describe('the sandbox (auto, nothing configured)', () => {
  it('listens on 127.0.0.1 only and takes API requests from its own page only', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const service = await serve(cwd, port, {});
    expect(service.output()).toContain('SANDBOX MODE');

    // Not reachable from another interface of this machine.
    await expect(fetch(`http://${otherAddress()}:${port}/healthz`)).rejects.toThrow();

    // Its own page (same origin), and tools that are no browser, are served.
    expect(await sandboxCommand(base, { Origin: base, 'Sec-Fetch-Site': 'same-origin' })).toBe(200);
    expect(await sandboxCommand(base)).toBe(200);
    // Another site's page, or another port of this machine, is refused.
    expect(await sandboxCommand(base, { Origin: 'https://evil.example' })).toBe(403);
    expect(await sandboxCommand(base, { Origin: `http://127.0.0.1:${port + 1}` })).toBe(403);
    expect(await sandboxCommand(base, { 'Sec-Fetch-Site': 'cross-site' })).toBe(403);
    expect(await sandboxCommand(base, { 'Sec-Fetch-Site': 'same-site' })).toBe(403);
    const react = await fetch(`${base}/sandbox/api/react`, {
      method: 'POST',
      headers: { Origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ user: 'bob', messageId: 'm1', emoji: 'white_check_mark' }),
    });
    expect(react.status).toBe(403);
    const button = await fetch(`${base}/sandbox/api/button`, {
      method: 'POST',
      headers: { 'Sec-Fetch-Site': 'cross-site' },
      body: JSON.stringify({ user: 'ada', actionId: 'delete_my_data_confirm', value: '' }),
    });
    expect(button.status).toBe(403);
    // A foreign name pointed at 127.0.0.1 (DNS rebinding) can neither read nor act.
    expect(await get(`${base}/sandbox/api/state?user=ada`, { Host: `evil.example:${port}` })).toBe(403);
    expect(await get(`${base}/sandbox/api/state?user=ada`, { Host: `localhost:${port}` })).toBe(200);
    // None of the refused commands reached the channel: only the two served ones did.
    const state = (await (await fetch(`${base}/sandbox/api/state?user=ada`)).json()) as { messages: Array<{ author: string }> };
    expect(state.messages.filter((m) => m.author === 'ada')).toHaveLength(2);
  }, 30_000);
});
