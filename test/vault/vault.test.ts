import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateKey, Vault, VaultError } from '../../src/vault/vault.js';

const key = () => randomBytes(32);
/** The row the values of these tests are sealed for. */
const row = { owner: 'account:a1', name: 'access_token' };

/** Flips one bit in the base64url field `index` (1 = key id, 2 = IV, 3 = ciphertext, 4 = MAC). */
function flipByte(sealed: string, field: 2 | 3 | 4): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[field]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[field] = bytes.toString('base64url');
  return parts.join('.');
}

describe('Vault', () => {
  it('opens what it sealed', () => {
    const vault = new Vault(key());
    for (const secret of ['x-access-token-123', '', 'ünïcødé 🔐', 'a'.repeat(10_000)]) {
      expect(vault.open(vault.seal(secret, row), row)).toBe(secret);
    }
  });

  it('seals the same plaintext differently every time (random IV)', () => {
    const vault = new Vault(key());
    const a = vault.seal('same', row);
    const b = vault.seal('same', row);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('names its key id and uses a 16-byte IV and a 32-byte MAC', () => {
    const vault = new Vault(key());
    const [version, keyId, iv, , mac] = vault.seal('t', row).split('.');
    expect(version).toBe('v2');
    expect(keyId).toBe(vault.currentKeyId);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(mac!, 'base64url')).toHaveLength(32);
  });

  it.each([
    [2, 'IV'],
    [3, 'ciphertext'],
    [4, 'MAC'],
  ] as const)('rejects a flipped byte in field %s (%s) before decrypting', (field, _name) => {
    const vault = new Vault(key());
    const tampered = flipByte(vault.seal('secret', row), field);
    expect(() => vault.open(tampered, row)).toThrow(VaultError);
    try {
      vault.open(tampered, row);
    } catch (error) {
      expect((error as VaultError).reason).toBe('tampered');
      expect((error as Error).message).toMatch(/integrity check/);
    }
  });

  it('rejects a value whose key id was changed to another known key', () => {
    const old = key();
    const current = new Vault(key(), [old]);
    const sealed = current.seal('secret', row);
    const parts = sealed.split('.');
    parts[1] = new Vault(old).currentKeyId;
    expect(() => current.open(parts.join('.'), row)).toThrow(/integrity check/);
  });

  it('refuses a value sealed under a key it does not have, naming the key id', () => {
    const writer = new Vault(key());
    const reader = new Vault(key());
    const sealed = writer.seal('secret', row);
    expect(() => reader.open(sealed, row)).toThrow(VaultError);
    expect(() => reader.open(sealed, row)).toThrow(writer.currentKeyId);
  });

  it('opens values sealed under a previous key, and says they need rotation', () => {
    const oldKey = key();
    const sealedOld = new Vault(oldKey).seal('legacy token', row);
    const vault = new Vault(key(), [oldKey]);
    expect(vault.open(sealedOld, row)).toBe('legacy token');
    expect(vault.needsRotation(sealedOld)).toBe(true);
    expect(vault.needsRotation(vault.seal('new', row))).toBe(false);
  });

  it('opens a v2 value only for the row it was sealed for (owner and name are in the MAC)', () => {
    const vault = new Vault(key());
    const sealed = vault.seal('page token', { owner: 'account:a1', name: 'access_token' });
    for (const elsewhere of [
      { owner: 'account:a2', name: 'access_token' },
      { owner: 'account:a1', name: 'refresh_token' },
      { owner: 'slack_installation:a1', name: 'access_token' },
      // Length prefixes: moving a character from the owner to the name is another row too.
      { owner: 'account:a', name: '1access_token' },
    ]) {
      expect(() => vault.open(sealed, elsewhere)).toThrow(VaultError);
      expect(() => vault.open(sealed, elsewhere)).toThrow(`of ${elsewhere.owner.replace(':', ' ')} failed its integrity check`);
    }
    expect(vault.open(sealed, { owner: 'account:a1', name: 'access_token' })).toBe('page token');
  });

  it('opens v1 values (sealed before v2) for any row, and says they need rotation though under the current key', () => {
    const v1 = JSON.parse(readFileSync(new URL('../fixtures/vault/v1-sealed.json', import.meta.url), 'utf8')) as {
      masterKey: string;
      values: { plaintext: string; sealed: string }[];
    };
    const vault = new Vault(Buffer.from(v1.masterKey, 'base64'));
    for (const { plaintext, sealed } of v1.values) {
      expect(vault.open(sealed, row)).toBe(plaintext);
      expect(vault.open(sealed, { owner: 'account:other', name: 'other' })).toBe(plaintext);
      expect(Vault.keyIdOf(sealed)).toBe(vault.currentKeyId);
      expect(vault.needsRotation(sealed)).toBe(true);
    }
    // A v1 value relabelled v2 does not open: the version is in the MAC.
    const relabelled = v1.values[0]!.sealed.replace(/^v1\./, 'v2.');
    expect(() => vault.open(relabelled, row)).toThrow(/integrity check/);
  });

  it('refuses garbage with a clear error instead of returning garbage', () => {
    const vault = new Vault(key());
    expect(() => vault.open('plain-token', row)).toThrow(/vault format/);
    expect(() => vault.open('v1.abc.!!.!!.!!', row)).toThrow(VaultError);
  });

  it('derives a key id that does not reveal the key', () => {
    const master = key();
    const vault = new Vault(master);
    expect(vault.currentKeyId).toMatch(/^[0-9a-f]{12}$/);
    expect(master.toString('hex')).not.toContain(vault.currentKeyId);
  });

  it('generates 32-byte base64 keys', () => {
    const generated = generateKey();
    expect(Buffer.from(generated, 'base64')).toHaveLength(32);
    expect(generateKey()).not.toBe(generated);
  });
});
