/**
 * redactText skips its patterns for text none of them could match (issue 19): every kind of
 * secret it knows still reaches them, whatever its case or place in the text.
 */
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText } from '../../src/observability/redact.js';

const SECRETS = [
  'Authorization: Bearer abc.DEF-123',
  'authorization: basic dXNlcjpwYXNz',
  'GET /cb?code=4/0AbCdEf&state=xyz',
  'https://x.test/?ACCESS_TOKEN=EAAB123',
  'client_secret=s3cr3t',
  'token xoxb-1234-5678-abcdef',
  'socket xapp-1-A0-123-abc',
  'POST /webhooks/123456789012345678/aBcDeFgHiJkLmNoPqRsTuVwXyZ012345',
  'POST /interactions/123456789012345678/aBcDeFgHiJkLmNoPqRsTuVwXyZ012345/callback',
  'sealed v1.0123456789ab.AAAA.BBBB.CCCC',
];

describe('redactText', () => {
  it.each(SECRETS)('still redacts %s', (text) => {
    expect(redactText(text)).toContain(REDACTED);
  });
  it('returns text that cannot hold a secret as it is', () => {
    const text = 'http request /slack/events 200 in 3 ms';
    expect(redactText(text)).toBe(text);
  });
});
