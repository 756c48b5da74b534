import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { SecretStore } from '../../src/vault/secret-store.js';
import { Vault } from '../../src/vault/vault.js';
import { databaseLocation, scratchDatabase, seedAccount } from '../helpers/db.js';
import { freePort, runCli, startCli, waitForOk, type RunningCli } from '../helpers/cli.js';

const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'iqsp-cli-'));
let running: RunningCli | undefined;
afterEach(() => {
  running?.child.kill('SIGKILL');
  running = undefined;
});

describe('iqsp CLI', () => {
  it('keygen prints a fresh base64 32-byte key', async () => {
    const result = await runCli(['keygen'], { cwd: tempDir() });
    expect(result.code).toBe(0);
    expect(Buffer.from(result.stdout.trim(), 'base64')).toHaveLength(32);
  });

  it('prints help for every command and exits 0', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['migrate', '--help'], ['keygen', '--help'], ['vault', 'rotate', '--help']]) {
      const result = await runCli(args, { cwd: tempDir() });
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/Usage: iqsp/);
    }
  });

  it('exits 2 on bad usage', async () => {
    expect((await runCli([], { cwd: tempDir() })).code).toBe(2);
    const unknown = await runCli(['publish-everything'], { cwd: tempDir() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('iqsp: unknown command \'publish-everything\' (run "iqsp --help" for the commands)\n');
    // One line on stderr naming what is wrong, whatever the mistake.
    for (const args of [['serve', '--bogus'], ['keygen', 'extra'], ['vault'], ['serve', '--role'], []]) {
      const result = await runCli(args, { cwd: tempDir() });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n').filter(Boolean), args.join(' ')).toHaveLength(1);
    }
    expect((await runCli(['vault'], { cwd: tempDir() })).stderr).toBe('iqsp: "vault" needs a sub-command (run "iqsp vault --help")\n');
    expect((await runCli(['serve', '--bogus'], { cwd: tempDir() })).stderr).toMatch(/^iqsp: unknown option '--bogus'/);
  });

  it('exits 2 with one line naming the variable on bad configuration', async () => {
    const result = await runCli(['serve'], { cwd: tempDir(), env: { VAULT_KEY: 'dG9vIHNob3J0' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^iqsp: VAULT_KEY: must be base64 of 32 random bytes/);
    const zero = await runCli(['serve'], { cwd: tempDir(), env: { PUBLISH_CONCURRENCY: '0' } });
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe('iqsp: PUBLISH_CONCURRENCY: must be a positive whole number (got "0")\n');
  });

  it('reads .env from the working directory (the real environment wins)', async () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, '.env'), 'CLEANUP_CRON=sometimes\n');
    const bad = await runCli(['migrate'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^iqsp: CLEANUP_CRON: /);
    const overridden = await runCli(['migrate'], { cwd, env: { CLEANUP_CRON: '0 * * * *' } });
    expect(overridden.code).toBe(0);
  });

  it('migrate applies the migrations once, then reports the database up to date', async () => {
    const cwd = tempDir();
    const database = await scratchDatabase(cwd);
    try {
      const env = { DATABASE_URL: database.url };
      const first = await runCli(['migrate'], { cwd, env });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('applied: 0001_initial');
      const second = await runCli(['migrate'], { cwd, env });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('database is up to date');
    } finally {
      await database.drop();
    }
  });

  it('serve starts with no configuration at all, creates ./data, and shuts down cleanly on SIGTERM', async () => {
    const cwd = tempDir();
    const port = await freePort();
    running = startCli(['serve'], { cwd, env: { PORT: String(port) } });
    await waitForOk(`http://127.0.0.1:${port}/healthz`);

    // The sandbox keeps its simulated world apart from a real install's database and media.
    expect(existsSync(path.join(cwd, 'data/sandbox.sqlite'))).toBe(true);
    expect(existsSync(path.join(cwd, 'data/sandbox-media'))).toBe(true);
    expect(existsSync(path.join(cwd, 'data/iqsp.sqlite'))).toBe(false);
    expect(statSync(path.join(cwd, 'data/vault.key')).mode & 0o777).toBe(0o600);
    expect(running.output()).toMatch(/created a new vault key at .*back it up/);
    // No credentials at all: sandbox mode, said plainly, with the simulated platforms on.
    expect(running.output()).toContain('SANDBOX MODE');
    expect(running.output()).toMatch(/"x":"on"/);
    expect((await fetch(`http://127.0.0.1:${port}/sandbox`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.output()).toContain('shutdown complete');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();

    // A second start reuses the key file without the warning.
    running = startCli(['serve'], { cwd, env: { PORT: String(port) } });
    await waitForOk(`http://127.0.0.1:${port}/healthz`);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    expect(running.output()).not.toContain('created a new vault key');
  });

  it('any real credential turns the sandbox off', async () => {
    const cwd = tempDir();
    const port = await freePort();
    running = startCli(['serve'], { cwd, env: { PORT: String(port), X_CLIENT_ID: 'real-id', X_CLIENT_SECRET: 'real-secret' } });
    await waitForOk(`http://127.0.0.1:${port}/healthz`);
    expect(running.output()).not.toContain('SANDBOX MODE');
    expect(running.output()).toMatch(/"x":"on","tiktok":"off \(TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET not set\)"/);
    expect((await fetch(`http://127.0.0.1:${port}/sandbox`)).status).toBe(404);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('serve --role picks what the process runs; a bad role, or a split sandbox, exits 2 naming it', async () => {
    const bogus = await runCli(['serve', '--role', 'everything'], { cwd: tempDir() });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--role .*'everything' is invalid\. Allowed choices are all, web, worker, gateway/);
    const sandbox = await runCli(['serve', '--role', 'worker'], { cwd: tempDir() });
    expect(sandbox.code).toBe(2);
    expect(sandbox.stderr).toBe(
      'iqsp: --role worker needs a configured chat or platform; the sandbox (no credentials) runs as one process (--role all)\n',
    );

    const cwd = tempDir();
    const database = await scratchDatabase(cwd);
    onTestFinished(() => database.drop());
    const port = await freePort();
    // Any real credential turns the sandbox off; nothing is called at start.
    running = startCli(['serve', '--role', 'worker'], {
      cwd,
      env: { PORT: String(port), DATABASE_URL: database.url, X_CLIENT_ID: 'id', X_CLIENT_SECRET: 'secret' },
    });
    await waitForOk(`http://127.0.0.1:${port}/healthz`);
    expect(running.output()).toMatch(
      /"role":"worker".*"runs":\["worker:publish","worker:notice","worker:post-due","worker:verify","cleanup-cron","health-cron"\].*IQSP listening on port \d+ \(http:\/\/localhost:\d+\), role worker/,
    );
    expect((await fetch(`http://127.0.0.1:${port}/connect/x`)).status).toBe(404);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('vault rotate moves secrets to the current key; afterwards the previous key is not needed; a wrong key is refused', async () => {
    const cwd = tempDir();
    const database = await scratchDatabase(cwd);
    onTestFinished(() => database.drop());
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const env = (k: Buffer) => ({ VAULT_KEY: k.toString('base64'), DATABASE_URL: database.url });
    expect((await runCli(['migrate'], { cwd, env: env(oldKey) })).code).toBe(0);

    const db = openDatabase(databaseLocation(database));
    const { accountId } = await seedAccount(db, 'tiktok');
    await new SecretStore(db, new Vault(oldKey)).put({ accountId }, 'refresh_token', 'rt-under-old-key', null);
    await db.destroy();

    const wrong = await runCli(['vault', 'rotate'], { cwd, env: env(newKey) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/sealed with vault key [0-9a-f]{12}, which is neither VAULT_KEY nor in VAULT_PREVIOUS_KEYS/);

    const rotate = await runCli(['vault', 'rotate'], {
      cwd,
      env: { ...env(newKey), VAULT_PREVIOUS_KEYS: oldKey.toString('base64') },
    });
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toContain(`re-encrypted 1 secret(s) with key ${new Vault(newKey).currentKeyId}`);

    const after = openDatabase(databaseLocation(database));
    const stored = await new SecretStore(after, new Vault(newKey)).get({ accountId }, 'refresh_token');
    await after.destroy();
    expect(stored?.value).toBe('rt-under-old-key');
  });
});

describe('iqsp slack manifest and discord register-commands', () => {
  it('prints the Slack manifest for PUBLIC_URL', async () => {
    const result = await runCli(['slack', 'manifest'], { cwd: tempDir(), env: { PUBLIC_URL: 'https://iqsp.example.com' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('https://iqsp.example.com/slack/events');
    expect(result.stdout).toContain('https://iqsp.example.com/slack/oauth_redirect');
    expect(result.stdout).toContain('command: /iqsp');
  });

  it('registers the slash command with Discord, in one guild or globally', async () => {
    const { startDiscordSimulator } = await import('../simulators/discord/index.js');
    const discord = await startDiscordSimulator();
    try {
      const env = { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.world.applicationId, DISCORD_API_URL: discord.apiUrl };
      const guild = await runCli(['discord', 'register-commands', '--guild', discord.world.guildId], { cwd: tempDir(), env });
      expect(guild.stderr).toBe('');
      expect(guild.code).toBe(0);
      expect(guild.stdout).toBe(`registered /iqsp (guild ${discord.world.guildId})\n`);
      expect(discord.commands.get(discord.world.guildId)?.[0]?.name).toBe('iqsp');
      const global = await runCli(['discord', 'register-commands'], { cwd: tempDir(), env });
      expect(global.stdout).toBe('registered /iqsp (global)\n');
      const bad = await runCli(['discord', 'register-commands', '--guild', 'general'], { cwd: tempDir(), env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toBe('iqsp: --guild must be a Discord guild id (digits), got "general"\n');
    } finally {
      await discord.close();
    }
  });
});
