import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { ConfigError, parseKey } from '../config.js';
import { generateKey, Vault } from './vault.js';

export interface VaultKeyResult {
  vault: Vault;
  /** Set when the key file was just created: the operator must back it up. */
  createdKeyFile: string | undefined;
  /** Set when the key file can be read by others than its owner. */
  looseKeyFile: string | undefined;
}

/**
 * The vault for this configuration: `VAULT_KEY` if set; otherwise the key in `VAULT_KEY_FILE`,
 * which is created (mode 0600) on first use. Bad key material is a configuration error.
 */
export function openVault(config: Config['vault']): VaultKeyResult {
  if (config.key) return { vault: new Vault(config.key, config.previousKeys), createdKeyFile: undefined, looseKeyFile: undefined };

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
  const key = parseKey('VAULT_KEY_FILE', text.trim(), config.keyFile);
  const mode = statSync(config.keyFile).mode & 0o777;
  return {
    vault: new Vault(key, config.previousKeys),
    createdKeyFile,
    looseKeyFile: mode & 0o077 ? config.keyFile : undefined,
  };
}

function createKeyFile(file: string): string {
  const key = generateKey();
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // 'wx' fails if another process created it first; then we read theirs.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw new ConfigError('VAULT_KEY_FILE', `cannot create ${file}: ${(error as Error).message}`);
  }
}
