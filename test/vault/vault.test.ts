import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKey, Vault, VaultError } from '../../src/vault/vault.js';

const key = () => randomBytes(32);

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
      expect(vault.open(vault.seal(secret))).toBe(secret);
    }
  });

  it('seals the same plaintext differently every time (random IV)', () => {
    const vault = new Vault(key());
    const a = vault.seal('same');
    const b = vault.seal('same');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('names its key id and uses a 16-byte IV and a 32-byte MAC', () => {
    const vault = new Vault(key());
    const [version, keyId, iv, , mac] = vault.seal('t').split('.');
    expect(version).toBe('v1');
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
    const tampered = flipByte(vault.seal('secret'), field);
    expect(() => vault.open(tampered)).toThrow(VaultError);
    try {
      vault.open(tampered);
    } catch (error) {
      expect((error as VaultError).reason).toBe('tampered');
      expect((error as Error).message).toMatch(/integrity check/);
    }
  });

  it('rejects a value whose key id was changed to another known key', () => {
    const old = key();
    const current = new Vault(key(), [old]);
    const sealed = current.seal('secret');
    const parts = sealed.split('.');
    parts[1] = new Vault(old).currentKeyId;
    expect(() => current.open(parts.join('.'))).toThrow(/integrity check/);
  });

  it('refuses a value sealed under a key it does not have, naming the key id', () => {
    const writer = new Vault(key());
    const reader = new Vault(key());
    const sealed = writer.seal('secret');
    expect(() => reader.open(sealed)).toThrow(VaultError);
    expect(() => reader.open(sealed)).toThrow(writer.currentKeyId);
  });

  it('opens values sealed under a previous key, and says they need rotation', () => {
    const oldKey = key();
    const sealedOld = new Vault(oldKey).seal('legacy token');
    const vault = new Vault(key(), [oldKey]);
    expect(vault.open(sealedOld)).toBe('legacy token');
    expect(vault.needsRotation(sealedOld)).toBe(true);
    expect(vault.needsRotation(vault.seal('new'))).toBe(false);
  });

  it('refuses garbage with a clear error instead of returning garbage', () => {
    const vault = new Vault(key());
    expect(() => vault.open('plain-token')).toThrow(/vault format/);
    expect(() => vault.open('v1.abc.!!.!!.!!')).toThrow(VaultError);
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
