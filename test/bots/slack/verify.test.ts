/** The receiver's own check of Slack's v0 signature (issue 19: once, in constant time; Bolt's rules). */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifiedSignature } from '../../../src/bots/slack/receiver.js';

const SECRET = 'signing-secret';
const NOW_MS = 1_700_000_000_000;
const sign = (timestamp: number, body: string, secret = SECRET) =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

describe('verifiedSignature', () => {
  const ts = NOW_MS / 1000 - 10;
  it('accepts Slack’s signature of the body and timestamp', () => {
    expect(verifiedSignature(SECRET, sign(ts, 'a=1'), ts, 'a=1', NOW_MS)).toBe(true);
  });
  it('refuses another body, another secret, another version, a cut signature, none, or no timestamp', () => {
    expect(verifiedSignature(SECRET, sign(ts, 'a=1'), ts, 'a=2', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, sign(ts, 'a=1', 'other'), ts, 'a=1', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, sign(ts, 'a=1').replace('v0=', 'v1='), ts, 'a=1', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, sign(ts, 'a=1').slice(0, -2), ts, 'a=1', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, 'v0=', ts, 'a=1', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, undefined, ts, 'a=1', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, sign(ts, 'a=1'), Number.NaN, 'a=1', NOW_MS)).toBe(false);
  });
  it('refuses a timestamp more than 5 minutes old, even when signed', () => {
    const old = NOW_MS / 1000 - 301;
    expect(verifiedSignature(SECRET, sign(old, 'a=1'), old, 'a=1', NOW_MS)).toBe(false);
    expect(verifiedSignature(SECRET, sign(old + 1, 'a=1'), old + 1, 'a=1', NOW_MS)).toBe(true);
  });
});
