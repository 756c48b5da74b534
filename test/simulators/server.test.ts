/**
 * The simulator harness on its own: streaming multipart reading (the delimiter split across
 * chunks at every offset), fault injection (order, times, kinds), latency, and the request log.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../../src/simulators/body.js';
import { json, SimServer, type SimRequest, type SimResponse } from '../../src/simulators/server.js';

/** A minimal simulator: POST /echo answers what it received; GET /count counts handled calls. */
class EchoSimulator extends SimServer {
  handled = 0;

  constructor() {
    super({ name: 'echo' });
    this.route('POST', /^\/echo$/, (r) => {
      this.handled += 1;
      return json(
        200,
        r.body.kind === 'multipart'
          ? { fields: r.body.fields, files: r.body.files.map((f) => ({ field: f.field, bytes: f.bytes, sha256: f.sha256 })) }
          : { kind: r.body.kind },
      );
    });
    this.route('GET', /^\/items\/([^/]+)$/, (r) => {
      this.handled += 1;
      return json(200, { id: r.params[0] });
    });
  }

  protected notFound(request: SimRequest): SimResponse {
    return json(404, { error: `no ${request.path}` });
  }

  protected faultResponse(status: number): SimResponse {
    return json(status, { error: 'injected' });
  }
}

function multipart(boundary: string, parts: Array<{ name: string; filename?: string; data: Buffer }>): Buffer {
  const pieces: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    pieces.push(
      Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\ncontent-type: application/octet-stream\r\n\r\n`),
      part.data,
      Buffer.from('\r\n'),
    );
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

async function* inChunks(data: Buffer, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('multipart reading', () => {
  const boundary = '----formdata-undici-0123456789';
  // File bytes that contain a near-delimiter, to catch a reader that stops at a partial match.
  const file = Buffer.concat([randomBytes(300), Buffer.from(`\r\n--${boundary.slice(0, -3)}`), randomBytes(300)]);
  const body = multipart(boundary, [
    { name: 'segment_index', data: Buffer.from('7') },
    { name: 'media', filename: 'media', data: file },
  ]);
  const headers = { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) };

  it('reads fields and counts file bytes, whatever the chunking', async () => {
    for (const size of [1, 2, 3, 7, 41, 64, 1000, body.length]) {
      const parsed = await readBody(inChunks(body, size), headers);
      if (parsed.kind !== 'multipart') throw new Error(parsed.kind);
      expect(parsed.fields).toEqual({ segment_index: '7' });
      expect(parsed.files).toHaveLength(1);
      expect(parsed.files[0]).toMatchObject({
        field: 'media',
        filename: 'media',
        bytes: file.length,
        sha256: createHash('sha256').update(file).digest('hex'),
      });
      expect(parsed.files[0]?.head).toEqual(file.subarray(0, 64));
    }
  });

  it('refuses a body without its closing delimiter', async () => {
    await expect(readBody(inChunks(body.subarray(0, body.length - 10), 100), headers)).rejects.toThrow(/closing delimiter/);
  });
});

describe('faults, latency and the request log', () => {
  let sim: EchoSimulator;

  beforeAll(async () => {
    sim = await new EchoSimulator().start();
  });

  afterAll(async () => {
    await sim.close();
  });

  it('applies matching faults in order, each for its number of times', async () => {
    sim.faults.push({ match: (_m, p) => p === '/items/a', kind: 'status', status: 503, times: 2 });
    sim.faults.push({
      match: (_m, p) => p.startsWith('/items/'),
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '3' },
      body: 'slow down',
    });
    const statuses: number[] = [];
    for (const id of ['a', 'a', 'a', 'b']) {
      const res = await fetch(`${sim.url}/items/${id}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('3');
        expect(await res.text()).toBe('slow down');
      } else await res.text();
    }
    expect(statuses).toEqual([503, 503, 429, 200]);
    expect(sim.faults).toHaveLength(0);
    expect(sim.requests.slice(-4).map((r) => r.fault ?? null)).toEqual(['status', 'status', 'status', null]);
  });

  it('hang never answers; reset drops the connection, after running the route when asked', async () => {
    sim.faults.push({ match: () => true, kind: 'hang' });
    await expect(fetch(`${sim.url}/items/h`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    const before = sim.handled;
    sim.faults.push({ match: () => true, kind: 'reset', process: true });
    await expect(fetch(`${sim.url}/items/r`)).rejects.toThrow();
    expect(sim.handled).toBe(before + 1);
    expect(sim.requests.at(-1)).toMatchObject({ path: '/items/r', fault: 'reset' });
    expect(sim.requests.at(-1)?.status).toBeUndefined();
  });

  it('slow faults and latency delay the answer', async () => {
    sim.faults.push({ match: () => true, kind: 'slow', ms: 80 });
    let started = Date.now();
    await (await fetch(`${sim.url}/items/s`)).text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    sim.latencyMs = 60;
    started = Date.now();
    await (await fetch(`${sim.url}/items/l`)).text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    sim.latencyMs = 0;
  });

  it('logs bodies without file bytes and answers unknown paths in the platform shape', async () => {
    const form = new FormData();
    form.set('segment_index', '0');
    form.set('media', new Blob([Buffer.alloc(70_000, 1)]), 'media');
    const answer = (await (await fetch(`${sim.url}/echo`, { method: 'POST', body: form })).json()) as { files: Array<{ bytes: number }> };
    expect(answer.files[0]?.bytes).toBe(70_000);
    const logged = sim.requests.at(-1);
    expect(logged?.body).toMatchObject({ kind: 'multipart', fields: { segment_index: '0' }, files: [{ field: 'media', bytes: 70_000 }] });
    expect(JSON.stringify(logged)).not.toContain('AQEBAQ'); // no base64 of the bytes anywhere
    const missing = await fetch(`${sim.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no /nowhere' });
  });

  it('close() ends hanging connections', async () => {
    const other = await new EchoSimulator().start();
    other.faults.push({ match: () => true, kind: 'hang' });
    const pending = fetch(`${other.url}/items/x`).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    await other.close();
    expect(await pending).toBe('dropped');
  });
});
