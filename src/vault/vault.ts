/**
 * Secrets at rest: AES-256-CBC with a random IV per value, then HMAC-SHA256 over
 * (version, key id, row, IV, ciphertext) — encrypt-then-MAC. The MAC is checked in constant time
 * before anything is decrypted, so a tampered value never reaches the cipher.
 *
 * The row a value belongs to (its owner and name: `SealedFor`) is associated data: covered by the
 * MAC, not written in the sealed text. A value copied or moved to another row (another account's
 * token, or an access token put where the refresh token goes) fails its check there instead of
 * handing one workspace's token to another.
 *
 * Both keys are derived from one 32-byte master key with HKDF-SHA256 and distinct `info`
 * labels; the key id is derived the same way, so it names the key without revealing it.
 *
 * Sealed format (ASCII, safe in any text column):
 *   v2.<keyId>.<iv base64url>.<ciphertext base64url>.<mac base64url>
 * v1, written before the row was bound, has the same fields and a MAC without the row; it still
 * opens, and `vault rotate` re-seals it as v2.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

type Version = 'v1' | 'v2';
const VERSION: Version = 'v2';
const IV_BYTES = 16;
const MAC_BYTES = 32;
const HKDF_SALT = Buffer.from('iqsp-vault');

/**
 * The row a value is sealed for: `owner` names its holder with its kind (`account:<id>`), `name`
 * the secret (`access_token`). Neither is secret; both must match for the value to open.
 */
export interface SealedFor {
  owner: string;
  name: string;
}

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

/**
 * Length-prefixed fields, so no two (row, IV, ciphertext) combinations share an encoding; the
 * ciphertext comes last and needs no prefix. The version leads, so a v2 MAC never verifies as v1.
 */
function macOf(key: DerivedKey, version: Version, sealedFor: SealedFor, iv: Buffer, ciphertext: Buffer): Buffer {
  const mac = createHmac('sha256', key.mac).update(Buffer.from(`${version}.${key.id}.`, 'ascii'));
  if (version === 'v2')
    mac.update(lengthPrefixed(Buffer.from(sealedFor.owner, 'utf8'))).update(lengthPrefixed(Buffer.from(sealedFor.name, 'utf8')));
  return mac.update(lengthPrefixed(iv)).update(ciphertext).digest();
}

function lengthPrefixed(field: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(field.length);
  return Buffer.concat([length, field]);
}

interface Parsed {
  version: Version;
  keyId: string;
  iv: string;
  ciphertext: string;
  mac: string;
}

/** The fields of a sealed value in either format, or undefined when it is not one. */
function parse(sealed: string): Parsed | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 5 || (parts[0] !== 'v1' && parts[0] !== 'v2')) return undefined;
  const [version, keyId, iv, ciphertext, mac] = parts as [Version, string, string, string, string];
  return { version, keyId, iv, ciphertext, mac };
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

  /** Seals a value for one row: it opens only with the same `sealedFor`. */
  seal(plaintext: string, sealedFor: SealedFor): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-cbc', this.current.encryption, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const mac = macOf(this.current, VERSION, sealedFor, iv, ciphertext);
    return [VERSION, this.current.id, b64(iv), b64(ciphertext), b64(mac)].join('.');
  }

  /**
   * Opens a value read from the row `sealedFor` names. A v2 value sealed for another row fails
   * like a tampered one; a v1 value names no row and opens wherever it is, until `vault rotate`.
   */
  open(sealed: string, sealedFor: SealedFor): string {
    const parsed = parse(sealed);
    if (!parsed) throw new VaultError('malformed', 'the stored secret is not in the vault format (v2.<key id>.<iv>.<ciphertext>.<mac>)');
    const key = this.byId.get(parsed.keyId);
    if (!key)
      throw new VaultError(
        'unknown-key',
        `the stored secret was sealed with vault key ${parsed.keyId}, which is neither VAULT_KEY nor in VAULT_PREVIOUS_KEYS`,
      );
    const iv = unb64(parsed.iv);
    const ciphertext = unb64(parsed.ciphertext);
    const mac = unb64(parsed.mac);
    const expected = macOf(key, parsed.version, sealedFor, iv, ciphertext);
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, expected)) throw tampered(parsed, sealedFor);
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
    return parse(sealed)?.keyId;
  }

  /**
   * True when `vault rotate` should re-seal the value: it is under an older key, or in the v1
   * format, which does not bind it to its row.
   */
  needsRotation(sealed: string): boolean {
    const parsed = parse(sealed);
    return parsed?.version !== VERSION || parsed.keyId !== this.current.id;
  }
}

/** The failed check, naming the row (ids and names only: never a value) so an operator can find it. */
function tampered(parsed: Parsed, sealedFor: SealedFor): VaultError {
  if (parsed.version === 'v1')
    return new VaultError('tampered', `the stored secret failed its integrity check (key ${parsed.keyId}): it was altered or damaged`);
  const [kind, ...id] = sealedFor.owner.split(':');
  return new VaultError(
    'tampered',
    `the stored ${sealedFor.name} of ${kind} ${id.join(':')} failed its integrity check (key ${parsed.keyId}): it was sealed for another row (copied or moved here), or altered or damaged`,
  );
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
