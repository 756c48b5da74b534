import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { redactDeep, redactText } from '../../src/observability/redact.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('debug', stream), text: () => lines.join('') };
}

const TOKEN = 'EAAG-super-secret-page-token-1234567890';

describe('logs', () => {
  it('redact a token placed anywhere in a logged object', () => {
    const { logger, text } = capture();
    logger.info(
      {
        account: { id: 'a1', tokens: { accessToken: TOKEN, refresh_token: `r-${TOKEN}` } },
        list: [{ client_secret: TOKEN }],
        headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        url: `https://iqsp.example.com/oauth/x/callback?state=abc&code=${TOKEN}`,
        query: { code: TOKEN, state: 'opaque-state-value' },
        slackBot: 'xoxb-1234-5678-abcdefghijkl',
      },
      `calling with access_token=${TOKEN}`,
    );
    const out = text();
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('xoxb-1234');
    expect(out).not.toContain('opaque-state-value');
    expect(out).toContain('"id":"a1"');
    expect(out).toContain('application/json');
    expect(out).toContain('[redacted]');
  });

  it('redact tokens in error messages and keep error codes', () => {
    const { logger, text } = capture();
    const error = Object.assign(new Error(`GET https://graph.example/me?access_token=${TOKEN} failed`), { code: 'ECONNRESET' });
    logger.error({ err: error }, 'request failed');
    const out = text();
    expect(out).not.toContain(TOKEN);
    expect(out).toContain('ECONNRESET');
    expect((JSON.parse(out) as { err: { message: string } }).err.message).toContain('access_token=[redacted]');
  });

  it('are one JSON object per line with level and time', () => {
    const { logger, text } = capture();
    logger.warn('hello');
    const entry = JSON.parse(text()) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'warn', msg: 'hello', service: 'iqsp' });
    expect(typeof entry.time).toBe('string');
  });
});

describe('redaction', () => {
  it('handles cycles, buffers and sealed vault values', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactDeep(a)).toEqual({ name: 'a', self: '[circular]' });
    expect(redactDeep({ body: Buffer.alloc(10) })).toEqual({ body: '[10 bytes]' });
    expect(redactText('stored v1.0123456789ab.aaaa.bbbb.cccc here')).toBe('stored [redacted] here');
  });
});

describe('Discord interaction tokens', () => {
  it('are redacted from webhook and callback paths', () => {
    const token = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQtdG9rZW4tdmFsdWU';
    expect(redactText(`PATCH /webhooks/1234567890/${token}/messages/@original`)).toBe(
      'PATCH /webhooks/1234567890/[redacted]/messages/@original',
    );
    expect(redactText(`POST /interactions/99887766/${token}/callback`)).toBe('POST /interactions/99887766/[redacted]/callback');
  });
});
