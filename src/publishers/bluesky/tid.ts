/**
 * Record keys as the AT Protocol's TIDs: 64 bits (the top one 0), 53 bits of microseconds since
 * the epoch and a 10-bit clock id, written in base32-sortable as 13 characters. IQSP picks the
 * post's key before the committing request, so an answer lost on the way can be looked up by it.
 */
import { randomInt } from 'node:crypto';

const ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
let last = 0;

export function nextTid(nowMs: number = Date.now()): string {
  // Microseconds, strictly increasing within this process.
  let micros = nowMs * 1000;
  if (micros <= last) micros = last + 1;
  last = micros;
  let value = (BigInt(micros) << 10n) | BigInt(randomInt(1024));
  let text = '';
  for (let i = 0; i < 13; i += 1) {
    text = ALPHABET[Number(value & 31n)] + text;
    value >>= 5n;
  }
  return text;
}

export const TID_PATTERN = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
