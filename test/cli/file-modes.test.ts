/**
 * Issue 13, finding 7: the vault key and the database are for this user only. A key file that
 * the group or others may read stops the start (exit 2, naming the file and the `chmod` to run);
 * the data folder is created 0700 and the SQLite files (with -wal and -shm) 0600. Through
 * `node dist/cli.js`.
 */
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cliScratch, freePort, runCli, waitForOk } from '../helpers/cli.js';

const scratch = cliScratch('iqsp-modes-');
const tempDir = scratch.tempDir;

const modeOf = (file: string): string => (statSync(file).mode & 0o777).toString(8).padStart(4, '0');

describe('the vault key file', () => {
  it('readable by the group or others: exit 2 naming the file and the chmod to run; after it, the start goes on', async () => {
    const cwd = tempDir();
    const keyFile = path.join(cwd, 'vault.key');
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`);
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      chmodSync(keyFile, mode);
      const result = await runCli(['migrate'], { cwd, env: { VAULT_KEY_FILE: keyFile } });
      expect(result.code, mode.toString(8)).toBe(2);
      expect(result.stderr).toBe(
        `iqsp: VAULT_KEY_FILE: ${keyFile} can be read or written by other users (mode 0${mode.toString(8)}); run "chmod 600 ${keyFile}" and start again\n`,
      );
      // Refused before anything was opened.
      expect(existsSync(path.join(cwd, 'data/iqsp.sqlite'))).toBe(false);
    }
    chmodSync(keyFile, 0o600);
    const fixed = await runCli(['migrate'], { cwd, env: { VAULT_KEY_FILE: keyFile } });
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
  });
});

describe('the data folder and the database files', () => {
  it('a first start creates data/ 0700, the media folder 0700, the key file and every SQLite file 0600', async () => {
    const cwd = tempDir();
    const port = await freePort();
    // A real install (VAULT_KEY set, so the key file does not create data/ first), on the default SQLite file.
    scratch.start(['serve'], { cwd, env: { PORT: String(port), VAULT_KEY: randomBytes(32).toString('base64') } });
    await waitForOk(`http://127.0.0.1:${port}/readyz`, 20_000);
    const data = path.join(cwd, 'data');
    expect(modeOf(data)).toBe('0700');
    expect(modeOf(path.join(data, 'media'))).toBe('0700');
    for (const file of ['iqsp.sqlite', 'iqsp.sqlite-wal', 'iqsp.sqlite-shm']) expect(modeOf(path.join(data, file)), file).toBe('0600');
  }, 30_000);

  it('with nothing configured (the sandbox), data/ is 0700 and its files 0600 too', async () => {
    const cwd = tempDir();
    const port = await freePort();
    scratch.start(['serve'], { cwd, env: { PORT: String(port) } });
    await waitForOk(`http://127.0.0.1:${port}/readyz`, 20_000);
    const data = path.join(cwd, 'data');
    expect(modeOf(data)).toBe('0700');
    expect(modeOf(path.join(data, 'sandbox-media'))).toBe('0700');
    for (const file of ['vault.key', 'sandbox.sqlite', 'sandbox.sqlite-wal', 'sandbox.sqlite-shm'])
      expect(modeOf(path.join(data, file)), file).toBe('0600');
  }, 30_000);
});
