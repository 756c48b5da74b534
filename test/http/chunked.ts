/**
 * Sends a request body in chunks (Transfer-Encoding: chunked, no Content-Length), as a client
 * dodging a limit on the declared length would, and resolves with the answer as soon as there
 * is one, even if the server answered before taking the whole body.
 */
import { request } from 'node:http';

export interface ChunkedAnswer {
  status: number;
  body: string;
}

export function postChunked(url: string, parts: readonly Buffer[], headers: Record<string, string> = {}): Promise<ChunkedAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers: { ...headers, 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    // The server may answer (and stop reading) before every part is written.
    req.on('error', reject);
    let next = 0;
    const write = (): void => {
      while (next < parts.length) {
        if (!req.write(parts[next++]!)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

/** `total` bytes in 64 KiB parts. */
export function filler(total: number, byte = 0x61): Buffer[] {
  const parts: Buffer[] = [];
  for (let left = total; left > 0; left -= 64 * 1024) parts.push(Buffer.alloc(Math.min(64 * 1024, left), byte));
  return parts;
}
