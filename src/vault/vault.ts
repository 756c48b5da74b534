/**
 * Secrets at rest: AES-256-CBC with a random IV per value, then HMAC-SHA256 over
 * (version, key id, IV, ciphertext) — encrypt-then-MAC. The MAC is checked in constant time
 * before anything is decrypted, so a tampered value never reaches the cipher.
 *
 * Both keys are derived from one 32-byte master key with HKDF-SHA256 and distinct `info`
 * labels; the key id is derived the same way, so it names the key without revealing it.
 *
 * Sealed format (ASCII, safe in any text column):
 *   v1.<keyId>.<iv base64url>.<ciphertext base64url>.<mac base64url>
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 16;
const MAC_BYTES = 32;
const HKDF_SALT = Buffer.from('iqsp-vault');

export type VaultErrorReason = 'malformed' | 'unknown-key' | 'tampered';

export class VaultError extends Error {
  constructor(
    readonly reason: VaultErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}

interface DerivedKey {
  id: string;
  encryption: Buffer;
  mac: Buffer;
}

function derive(master: Buffer): DerivedKey {
  if (master.length !== 32) throw new Error(`a vault master key is 32 bytes, got ${master.length}`);
  const hkdf = (info: string, length: number) => Buffer.from(hkdfSync('sha256', master, HKDF_SALT, info, length));
  return {
    id: hkdf('iqsp/vault/key-id/v1', 6).toString('hex'),
    encryption: hkdf('iqsp/vault/aes-256-cbc/v1', 32),
    mac: hkdf('iqsp/vault/hmac-sha256/v1', 32),
  };
}

function macOf(key: DerivedKey, iv: Buffer, ciphertext: Buffer): Buffer {
  // Length-prefixed fields so no two (keyId, iv, ciphertext) triples share an encoding.
  const header = Buffer.from(`${VERSION}.${key.id}.`, 'ascii');
  const ivLength = Buffer.alloc(4);
  ivLength.writeUInt32BE(iv.length);
  return createHmac('sha256', key.mac).update(header).update(ivLength).update(iv).update(ciphertext).digest();
}

export class Vault {
  private readonly current: DerivedKey;
  private readonly byId: Map<string, DerivedKey>;
  private readonly master: Buffer;

  /**
   * @param currentKey the key every new value is sealed with (VAULT_KEY)
   * @param previousKeys keys that still open older values (VAULT_PREVIOUS_KEYS)
   */
  constructor(currentKey: Buffer, previousKeys: readonly Buffer[] = []) {
    this.master = Buffer.from(currentKey);
    this.current = derive(currentKey);
    this.byId = new Map([this.current, ...previousKeys.map(derive)].map((k) => [k.id, k]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-cbc', this.current.encryption, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const mac = macOf(this.current, iv, ciphertext);
    return [VERSION, this.current.id, b64(iv), b64(ciphertext), b64(mac)].join('.');
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION)
      throw new VaultError('malformed', 'the stored secret is not in the vault format (v1.<key id>.<iv>.<ciphertext>.<mac>)');
    const [, keyId, ivText, ciphertextText, macText] = parts as [string, string, string, string, string];
    const key = this.byId.get(keyId);
    if (!key)
      throw new VaultError(
        'unknown-key',
        `the stored secret was sealed with vault key ${keyId}, which is neither VAULT_KEY nor in VAULT_PREVIOUS_KEYS`,
      );
    const iv = unb64(ivText);
    const ciphertext = unb64(ciphertextText);
    const mac = unb64(macText);
    const expected = macOf(key, iv, ciphertext);
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, expected))
      throw new VaultError('tampered', `the stored secret failed its integrity check (key ${keyId}): it was altered or damaged`);
    if (iv.length !== IV_BYTES) throw new VaultError('malformed', 'the stored secret has an IV of the wrong length');
    const decipher = createDecipheriv('aes-256-cbc', key.encryption, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  }

  /**
   * A key for another purpose (e.g. signing media URLs), derived from the current master key
   * with its own HKDF label, so no two uses ever share a key.
   */
  subkey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.master, HKDF_SALT, `iqsp/${purpose}`, 32));
  }

  /** The key id a sealed value names, without opening it. */
  static keyIdOf(sealed: string): string | undefined {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
  }

  /** True when the value is sealed with an older key and `vault rotate` should re-seal it. */
  needsRotation(sealed: string): boolean {
    return Vault.keyIdOf(sealed) !== this.current.id;
  }
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function unb64(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new VaultError('malformed', 'the stored secret has a field that is not base64url');
  return Buffer.from(text, 'base64url');
}

/** A fresh master key, as `iqsp keygen` prints it. */
export function generateKey(): string {
  return randomBytes(32).toString('base64');
}
