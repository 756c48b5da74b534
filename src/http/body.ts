/**
 * Reading request bodies under a limit, counted while the bytes arrive: a body sent in chunks
 * (no Content-Length) is refused as soon as it passes the limit, exactly like one that declares
 * a length over it. Every route that reads a body reads it through here.
 */
import type { IncomingMessage } from 'node:http';

/** Requests larger than this are refused with 413 (Slack's requests and the sandbox's are far smaller). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** A body over the limit; `status` makes the HTTP layer answer 413 with the message. */
export class BodyTooLargeError extends Error {
  readonly status = 413;
  readonly expose = true;

  constructor(
    readonly limitBytes: number,
    declaredBytes?: number,
  ) {
    super(
      declaredBytes === undefined
        ? `the request body is larger than the limit of ${limitBytes} bytes`
        : `request body is ${declaredBytes} bytes; the limit is ${limitBytes} bytes`,
    );
    this.name = 'BodyTooLargeError';
  }
}

/** The declared length when it is over `limitBytes` (refused before reading anything), else undefined. */
export function declaredLengthOver(req: IncomingMessage, limitBytes: number): number | undefined {
  const declared = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(declared) && declared > limitBytes ? declared : undefined;
}

/**
 * The whole body as bytes, refusing it (BodyTooLargeError) past `limitBytes`, declared or not.
 * Past the limit the rest is drained unread rather than the request destroyed, so the client
 * still gets its 413 on the same connection.
 */
export function readBodyLimited(req: IncomingMessage, limitBytes: number = DEFAULT_BODY_LIMIT_BYTES): Promise<Buffer> {
  const declared = declaredLengthOver(req, limitBytes);
  if (declared !== undefined) return Promise.reject(new BodyTooLargeError(limitBytes, declared));
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // A client gone before the end (while its request waited for a route): nothing more will come.
  if (req.destroyed) return Promise.reject(clientGone());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) return void chunks.push(chunk);
      stop();
      chunks.length = 0;
      req.resume();
      reject(new BodyTooLargeError(limitBytes));
    };
    const onEnd = () => (stop(), resolve(Buffer.concat(chunks)));
    // An error of the request stream is the client's (it aborted, the connection reset): a 400, not a failure here.
    const onError = (error: Error) => (stop(), reject(Object.assign(clientGone(), { cause: error })));
    // A client gone before the end: nothing more will come, and nobody waits for the answer.
    const onClose = () => (stop(), reject(clientGone()));
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

function clientGone(): Error & { status: number } {
  return Object.assign(new Error('the client closed the request before its body ended'), { status: 400 });
}
