/**
 * The built service in sandbox mode, as the sandbox tests drive it: `serve` started with no
 * configuration at all (which is what turns the sandbox on) in a folder of its own, and the
 * /sandbox page's own API (what its script calls): the state a person sees, a command with
 * files, a reaction. Plus what a browser does on a simulated consent page when Allow is clicked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { freePort, startCli, waitForOk, type RunningCli } from './cli.js';

export interface SandboxMessage {
  id: string;
  author: string;
  text: string;
  approvalFor?: string;
  threadId?: string;
}

export interface SandboxState {
  messages: SandboxMessage[];
  published: Array<{ platform: string; account: string; text: string; url: string; media: number }>;
}

export interface SandboxFile {
  name: string;
  type: string;
  bytes: Buffer;
}

export interface SandboxService {
  /** The service's base URL, once started. */
  readonly base: string;
  /** What `user` sees on the page. */
  state(user: string): Promise<SandboxState>;
  /** `user` sends `text` with `files`, as the page's composer does. */
  command(user: string, text: string, files?: readonly SandboxFile[]): Promise<void>;
  /** `user` reacts with `emoji` (Slack's name: `white_check_mark`) on a message. */
  react(user: string, messageId: string, emoji: string): Promise<void>;
}

/** Starts the sandbox service before the file's tests (and stops it after them). */
export function useSandboxService(): SandboxService {
  let dir = '';
  let base = '';
  let service: RunningCli | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-sandbox-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = startCli(['serve'], { cwd: dir, env: { PORT: String(port), PUBLIC_URL: base } });
    await waitForOk(`${base}/sandbox`, 20_000);
    expect(service.output()).toContain('SANDBOX MODE');
  }, 30_000);

  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  return {
    get base() {
      return base;
    },
    async state(user) {
      return (await (await fetch(`${base}/sandbox/api/state?user=${user}`)).json()) as SandboxState;
    },
    async command(user, text, files = []) {
      const form = new FormData();
      form.set('user', user);
      form.set('text', text);
      for (const f of files) form.append('file', new Blob([new Uint8Array(f.bytes)], { type: f.type }), f.name);
      const answer = await fetch(`${base}/sandbox/api/command`, { method: 'POST', body: form });
      expect(answer.status, await answer.clone().text()).toBe(200);
    },
    async react(user, messageId, emoji) {
      const answer = await fetch(`${base}/sandbox/api/react`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, messageId, emoji }),
      });
      expect(answer.status, await answer.clone().text()).toBe(200);
    },
  };
}

/** Polls `probe` until it gives a value, for at most `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What a browser does on a simulated consent page when Allow is clicked: every box as it is ticked, each select's first option. */
export async function clickAllow(consentUrl: string): Promise<string> {
  const page = await (await fetch(consentUrl)).text();
  const submit = new URL(/<form method="get" action="([^"]+)"/.exec(page)?.[1] ?? '', consentUrl);
  for (const [, name, value] of page.matchAll(/<input type="(?:hidden|checkbox)" name="([^"]+)" value="([^"]*)"/g))
    submit.searchParams.append(name ?? '', value ?? '');
  for (const [, name, value] of page.matchAll(/<select name="([^"]+)"><option value="([^"]*)"/g))
    submit.searchParams.append(name ?? '', value ?? '');
  const answer = await fetch(submit, { redirect: 'manual' });
  expect(answer.status, `Allow on ${consentUrl}`).toBe(302);
  return answer.headers.get('location') ?? '';
}
