import nock from 'nock';
import { Readable } from 'node:stream';
import { it, expect } from 'vitest';
import { httpRequest } from '../../../src/publishers/http.js';

it('scratch', async () => {
  nock.disableNetConnect();
  let seen: unknown;
  nock('https://up.example.com', { reqheaders: { 'content-length': '6', 'content-range': 'bytes 0-5/6', 'content-type': 'video/mp4' } })
    .put('/x', (body: unknown) => { seen = body; return true; })
    .reply(201, '');
  const node = Readable.from([Buffer.from([0, 1, 2]), Buffer.from([250, 251, 252])]);
  const res = await httpRequest('https://up.example.com/x', {
    method: 'PUT',
    headers: { 'Content-Type': 'video/mp4', 'Content-Length': '6', 'Content-Range': 'bytes 0-5/6' },
    body: Readable.toWeb(node) as ReadableStream,
  });
  console.log(res.status, typeof seen, JSON.stringify(seen));
  expect(res.status).toBe(201);
});
