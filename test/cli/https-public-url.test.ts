/**
 * Issue 13, finding 4: HTTPS enforced. Connect links, OAuth redirect URIs and media URLs all
 * start with PUBLIC_URL, so an `http://` PUBLIC_URL other than this machine stops the start
 * (exit 2, naming the variable) unless `ALLOW_HTTP=true`; `TRUST_PROXY` decides whether
 * `X-Forwarded-*` headers are believed (contract.md §2). Through `node dist/cli.js`.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cliScratch, freePort, runCli, waitForOk, type RunningCli } from '../helpers/cli.js';

const scratch = cliScratch('iqsp-https-');
const tempDir = scratch.tempDir;
let running: RunningCli | undefined;

/** `slack manifest` reads the whole configuration and prints PUBLIC_URL's routes: the cheapest full check. */
const manifest = (env: Record<string, string>) => runCli(['slack', 'manifest'], { cwd: tempDir(), env });

describe('PUBLIC_URL and ALLOW_HTTP', () => {
  it('an http:// PUBLIC_URL on another host exits 2 naming PUBLIC_URL and ALLOW_HTTP', async () => {
    for (const url of ['http://iqsp.example.com', 'http://192.0.2.10:3000', 'http://[2001:db8::1]:3000']) {
      const result = await manifest({ PUBLIC_URL: url });
      expect(result.code, url).toBe(2);
      expect(result.stderr, url).toMatch(/^iqsp: PUBLIC_URL: must be an https:\/\/ URL .*ALLOW_HTTP=true/);
      expect(result.stdout).toBe('');
    }
  });

  it('http:// is accepted on this machine, with ALLOW_HTTP=true, and https:// always', async () => {
    const cases: Array<Record<string, string>> = [
      { PUBLIC_URL: 'http://localhost:3000' },
      { PUBLIC_URL: 'http://127.0.0.1:3000' },
      { PUBLIC_URL: 'http://[::1]:3000' },
      { PUBLIC_URL: 'http://iqsp.example.com', ALLOW_HTTP: 'true' },
      { PUBLIC_URL: 'https://iqsp.example.com' },
      {},
    ];
    for (const env of cases) {
      const result = await manifest(env);
      expect(result.stderr, JSON.stringify(env)).toBe('');
      expect(result.code).toBe(0);
    }
  });

  it('ALLOW_HTTP and TRUST_PROXY take true or false only', async () => {
    const allow = await manifest({ ALLOW_HTTP: 'yes' });
    expect(allow.code).toBe(2);
    expect(allow.stderr).toBe('iqsp: ALLOW_HTTP: must be true or false (got "yes")\n');
    const trust = await manifest({ TRUST_PROXY: '1' });
    expect(trust.code).toBe(2);
    expect(trust.stderr).toBe('iqsp: TRUST_PROXY: must be true or false (got "1")\n');
  });
});

describe('TRUST_PROXY', () => {
  /** The client address `serve` logs for a request that claims, in X-Forwarded-For, to come from 203.0.113.9. */
  async function loggedClient(trustProxy: Record<string, string>): Promise<string> {
    const cwd = tempDir();
    const port = await freePort();
    running = scratch.start(['serve'], { cwd, env: { PORT: String(port), VAULT_KEY: randomBytes(32).toString('base64'), ...trustProxy } });
    await waitForOk(`http://127.0.0.1:${port}/healthz`, 20_000);
    await fetch(`http://127.0.0.1:${port}/readyz`, { headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https' } });
    const line = running
      .output()
      .split('\n')
      .find((l) => l.includes('"route":"/readyz"'));
    running.child.kill('SIGTERM');
    await running.exited;
    expect(line, running.output()).toBeDefined();
    return (JSON.parse(line!) as { ip: string }).ip;
  }

  it('by default X-Forwarded-For is not believed: anyone can write it', async () => {
    expect(await loggedClient({})).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  }, 30_000);

  it('TRUST_PROXY=true believes the proxy in front', async () => {
    expect(await loggedClient({ TRUST_PROXY: 'true' })).toBe('203.0.113.9');
  }, 30_000);
});
