import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { ConfigError, parseKey } from '../config.js';
import { generateKey, Vault } from './vault.js';

export interface VaultKeyResult {
  vault: Vault;
  /** Set when the key file was just created: the operator must back it up. */
  createdKeyFile: string | undefined;
}

/**
 * The vault for this configuration: `VAULT_KEY` if set; otherwise the key in `VAULT_KEY_FILE`,
 * which is created (mode 0600, its folder 0700) on first use. Bad key material, and a key file
 * that other users can read or write, are configuration errors.
 */
export function openVault(config: Config['vault']): VaultKeyResult {
  if (config.key) return { vault: new Vault(config.key, config.previousKeys), createdKeyFile: undefined };

  let createdKeyFile: string | undefined;
  let text: string;
  try {
    text = readFileSync(config.keyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ConfigError('VAULT_KEY_FILE', `cannot read ${config.keyFile}: ${(error as Error).message}`);
    text = createKeyFile(config.keyFile);
    createdKeyFile = config.keyFile;
  }
  refuseLooseKeyFile(config.keyFile);
  const key = parseKey('VAULT_KEY_FILE', text.trim(), config.keyFile);
  return { vault: new Vault(key, config.previousKeys), createdKeyFile };
}

/**
 * Whoever reads the key reads every stored token: a key file that the group or others may read
 * (or replace) is refused, naming the command that fixes it. Windows has no such mode bits.
 */
function refuseLooseKeyFile(file: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  throw new ConfigError(
    'VAULT_KEY_FILE',
    `${file} can be read or written by other users (mode ${mode.toString(8).padStart(4, '0')}); run "chmod 600 ${file}" and start again`,
  );
}

function createKeyFile(file: string): string {
  const key = generateKey();
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // 'wx' fails if another process created it first; then we read theirs.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw new ConfigError('VAULT_KEY_FILE', `cannot create ${file}: ${(error as Error).message}`);
  }
}
