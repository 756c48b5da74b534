/**
 * MEDIA_DIR must take files (every download lands in its `incoming` folder first, whatever the
 * media store): start-up refuses a MEDIA_DIR it cannot write, naming MEDIA_DIR in one line (exit
 * 2 from the CLI), and `/readyz` answers 503, with a log line saying why, while it cannot be
 * written. Running as root, permissions do not stop writes, so "cannot be written" here is a
 * path that is a file rather than a folder, which fails the same way for every user.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openServices, startApp, type RunningApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort, runCli } from '../helpers/cli.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/db.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setting(): Promise<{ dir: string; mediaDir: string; env: Record<string, string> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-media-dir-'));
  const database: ScratchDatabase = await scratchDatabase(dir);
  cleanups.push(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const mediaDir = path.join(dir, 'media');
  return { dir, mediaDir, env: { DATABASE_URL: database.url, MEDIA_DIR: mediaDir, VAULT_KEY: randomBytes(32).toString('base64') } };
}

describe('MEDIA_DIR at start-up', () => {
  it('refuses a MEDIA_DIR that is not a writable folder, naming MEDIA_DIR', async () => {
    const { dir, mediaDir, env } = await setting();
    writeFileSync(mediaDir, 'a file where the folder should be');
    const refused = await openServices(loadConfig(env, dir), createLogger('silent')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variable).toBe('MEDIA_DIR');
    expect((refused as ConfigError).message).toMatch(new RegExp(`^MEDIA_DIR: ${mediaDir} cannot be written: `));
    expect((refused as ConfigError).message).not.toContain('\n');
  });

  it('`iqsp serve` exits 2 with one line naming MEDIA_DIR', async () => {
    const { dir, mediaDir, env } = await setting();
    writeFileSync(mediaDir, 'a file where the folder should be');
    const result = await runCli(['serve'], { cwd: dir, env: { ...env, PORT: String(await freePort()) } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^iqsp: MEDIA_DIR: ${mediaDir} cannot be written: [^\n]+\n$`));
  });

  it('refuses a MEDIA_DIR whose incoming folder cannot be written (downloads land there), though the folder itself exists', async () => {
    const { dir, mediaDir, env } = await setting();
    mkdirSync(mediaDir);
    writeFileSync(path.join(mediaDir, 'incoming'), 'a file where the folder should be');
    const refused = await openServices(loadConfig(env, dir), createLogger('silent')).then(
      async (services) => {
        await services.db.destroy();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variable).toBe('MEDIA_DIR');
  });
});

describe('/readyz and MEDIA_DIR', () => {
  it('answers 503 with a clear log line while MEDIA_DIR cannot be written, and 200 again once it can', async () => {
    const { dir, mediaDir, env } = await setting();
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
    const app: RunningApp = await startApp(loadConfig({ ...env, PORT: String(await freePort()) }, dir), logger, { worker: { pollMs: 50 } });
    cleanups.push(() => app.stop('test over'));
    const readyz = `http://127.0.0.1:${app.port}/readyz`;
    expect((await fetch(readyz)).status).toBe(200);

    // The folder disappears and a file takes its place (a lost mount, an operator's mistake).
    rmSync(mediaDir, { recursive: true, force: true });
    writeFileSync(mediaDir, 'not a folder');
    const failing = await fetch(readyz);
    expect(failing.status).toBe(503);
    const body = (await failing.json()) as { status: string; reason: string };
    expect(body.status).toBe('unavailable');
    expect(body.reason).toMatch(new RegExp(`^MEDIA_DIR ${mediaDir} cannot be written: `));
    // Said once, not at every probe.
    expect((await fetch(readyz)).status).toBe(503);
    const said = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.msg.startsWith('not ready:'));
    expect(said).toHaveLength(1);
    expect(said[0]!.level).toBe('error');
    expect(said[0]!.msg).toContain(`MEDIA_DIR ${mediaDir} cannot be written`);

    rmSync(mediaDir, { force: true });
    mkdirSync(mediaDir);
    expect((await fetch(readyz)).status).toBe(200);
    expect(lines.map((l) => JSON.parse(l) as { msg: string }).some((l) => l.msg === 'ready again')).toBe(true);
  });
});
