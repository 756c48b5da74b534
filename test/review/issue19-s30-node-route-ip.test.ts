/**
 * Review of issue 19 (session 30): the direct path's client address (clientIp) must be Koa's ctx.ip
 * with maxIpsCount 1, with and without TRUST_PROXY, whatever X-Forwarded-For a client writes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { clientIp } from '../../src/http/app.js';

function koaIp(trustProxy: boolean, forwarded: string | undefined, peer: string | undefined): string {
  const app = new Koa({ proxy: trustProxy, maxIpsCount: 1 });
  const headers: Record<string, string> = forwarded === undefined ? {} : { 'x-forwarded-for': forwarded };
  const req = { headers, url: '/slack/events', method: 'POST', socket: { remoteAddress: peer } } as unknown as IncomingMessage;
  const res = { getHeader: () => undefined, setHeader: () => undefined } as unknown as ServerResponse;
  return app.createContext(req, res).ip;
}

function ourIp(trustProxy: boolean, forwarded: string | undefined, peer: string | undefined): string {
  const headers: Record<string, string> = forwarded === undefined ? {} : { 'x-forwarded-for': forwarded };
  return clientIp({ headers, socket: { remoteAddress: peer } } as unknown as IncomingMessage, trustProxy);
}

const FORWARDED = [
  undefined,
  '',
  '203.0.113.9',
  '203.0.113.9, 198.51.100.7',
  '203.0.113.9,198.51.100.7',
  '203.0.113.9 ,\t198.51.100.7',
  '203.0.113.9, ',
  '203.0.113.9,',
  ',',
  ' , ',
  '1.1.1.1, 2.2.2.2, 3.3.3.3',
  '::1, 2001:db8::1',
  '[2001:db8::1]:443',
  'unknown',
  'evil\u00a0, 10.0.0.1\u00a0',
  'a,,b',
  '10.0.0.1, ,',
  '\u00a0',
];

// Failed first (fixed since) with TRUST_PROXY: clientIp splits on /\s*,\s*/ but never trims the ends; Koa trims each entry
// (String.trim, which includes U+00A0). Node trims only SP/HTAB from a header, so a 0xA0 byte at the end
// of X-Forwarded-For is kept: '10.0.0.1\u00a0' is logged as '10.0.0.1\u00a0' (Koa: '10.0.0.1'), and '\u00a0'
// alone as '\u00a0' (Koa: the peer). Only the logged ip differs (nothing decides on it).
describe('issue 19 review: the direct path logs the client address Koa would', () => {
  for (const trust of [false, true])
    for (const peer of ['127.0.0.1', undefined])
      it(`TRUST_PROXY=${trust}, peer ${peer ?? 'gone'}: clientIp equals Koa's ctx.ip for every X-Forwarded-For`, () => {
        const ours = FORWARDED.map((f) => ourIp(trust, f, peer));
        const koas = FORWARDED.map((f) => koaIp(trust, f, peer));
        expect(ours).toEqual(koas);
        if (!trust) expect(new Set(ours)).toEqual(new Set([peer ?? '']));
      });

  it('pseudo-random X-Forwarded-For values agree too (fixed seed)', () => {
    let seed = 19;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
    const alphabet = ['1', '.', ',', ' ', '\t', ':', 'a', '\u00a0', '\u0085', '['];
    for (let i = 0; i < 2_000; i++) {
      const value = Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length])
        .join('')
        .trim();
      expect([value, ourIp(true, value, '127.0.0.1')]).toEqual([value, koaIp(true, value, '127.0.0.1')]);
    }
  });
});
