/**
 * Delivery claims on an SQLite file, written by a worker thread with its own connection.
 *
 * A claim is an insert and a commit: with `synchronous = FULL` the commit waits for the disk
 * (about 2 ms per statement on the bench's VM), and better-sqlite3 waits on the calling thread.
 * On the event loop that froze every request arriving meanwhile: on a burst of Slack commands,
 * the claims were a quarter of the service's CPU time and its longest pauses (bench/slack-ack.mjs).
 * The worker waits instead; the event loop only sends the keys and reads the answer.
 *
 * Nothing about a claim changes: the same table, the same insert (`on conflict do nothing`,
 * the keys that came back are the ones claimed first), the same durability (FULL), several
 * statements in one transaction, and the same waiting for another process's write lock: a short
 * busy timeout, then tries again after a pause (sqlite.ts), for at most `waitMs`. The worker
 * starts at the first claim, is told the time the caller chose (so a controlled clock still
 * decides `received_at`), and lets the process exit while it has nothing to do. If it fails or
 * exits, the claims waiting on it fail (the caller treats a failed claim as it always has: nothing
 * runs) and the next claim starts a new one. The worker never creates the file (`fileMustExist`):
 * the service made it, private, at opening.
 *
 * Closing is a message, not a kill: the worker answers every claim it was sent (one committed is
 * answered as claimed, so the caller never hears "failed" for a key it holds, which would make
 * the platform's retry look like a replay), fails at once those still waiting for another
 * process's lock (nothing of theirs was written), closes its connection and ends.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Rows per statement: two parameters each, well under SQLite's limit. */
export const CLAIM_ROWS_PER_INSERT = 500;

/** How long closing waits for the worker to finish its statement and end before it is stopped. */
const CLOSE_WAIT_MS = 5_000;

/** Longest pause between two tries of a claim that found the file busy. */
const MAX_PAUSE_MS = 50;

/**
 * The worker, as a script (CommonJS, `eval`): it runs the same from the TypeScript sources
 * under test and from dist/. It takes `{ id, keys, receivedAt }`, one at a time in order, and
 * answers `{ id, inserted }` or `{ id, error }`; `{ close: true }` ends it after the claims before it.
 */
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const sqlite = new Database(workerData.file, { timeout: workerData.busyTimeoutMs, fileMustExist: true });
sqlite.pragma('synchronous = FULL');
sqlite.pragma('secure_delete = ON');
const statements = new Map();
function insertStatement(rows) {
  let statement = statements.get(rows);
  if (!statement) {
    const values = Array.from({ length: rows }, () => '(?, ?)').join(', ');
    statement = sqlite.prepare('insert into "chat_events" ("id", "received_at") values ' + values + ' on conflict ("id") do nothing returning "id"');
    statements.set(rows, statement);
  }
  return statement;
}
const claim = sqlite.transaction((keys, receivedAt) => {
  const inserted = [];
  for (let at = 0; at < keys.length; at += workerData.rowsPerInsert) {
    const chunk = keys.slice(at, at + workerData.rowsPerInsert);
    const parameters = [];
    for (const key of chunk) parameters.push(key, receivedAt);
    for (const row of insertStatement(chunk.length).all(parameters)) inserted.push(row.id);
  }
  return inserted;
});
const queue = [];
let working = false;
let closing = false;
let paused;
function isBusy(error) {
  return Boolean(error && typeof error.code === 'string' && error.code.startsWith('SQLITE_BUSY'));
}
function attempt(message, deadline, tried) {
  paused = undefined;
  try {
    parentPort.postMessage({ id: message.id, inserted: claim.immediate(message.keys, message.receivedAt) });
  } catch (error) {
    if (isBusy(error) && !closing && Date.now() < deadline) {
      const pause = Math.min(workerData.maxPauseMs, 2 ** tried) * (0.5 + Math.random() / 2);
      paused = { message, timer: setTimeout(() => attempt(message, deadline, tried + 1), pause) };
      return;
    }
    const reason = closing && isBusy(error) ? 'the database is closed' : error && error.code ? error.code + ': ' + error.message : String(error);
    parentPort.postMessage({ id: message.id, error: reason });
  }
  next();
}
function next() {
  const message = queue.shift();
  if (message) {
    working = true;
    attempt(message, Date.now() + workerData.waitMs, 1);
    return;
  }
  working = false;
  if (closing) {
    sqlite.close();
    parentPort.close();
  }
}
parentPort.on('message', (message) => {
  if (message.close) {
    closing = true;
    // A claim waiting for another process's lock wrote nothing: it fails now instead of waiting.
    if (paused) {
      clearTimeout(paused.timer);
      attempt(paused.message, 0, 0);
    } else if (!working) next();
    return;
  }
  queue.push(message);
  if (!working) next();
});
`;

interface Pending {
  resolve: (inserted: ReadonlySet<string>) => void;
  reject: (error: Error) => void;
}

type Answer = { id: number; inserted: string[] } | { id: number; error: string };

export interface ClaimWaiting {
  /** How long one try waits for another connection's write lock (blocking the worker only). */
  busyTimeoutMs: number;
  /** How long a claim keeps trying before it fails with SQLITE_BUSY. */
  waitMs: number;
}

export class SqliteClaimWriter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly waiting: ClaimWaiting,
  ) {}

  /** Inserts the distinct `keys` with `receivedAt`; resolves to the ones this call inserted. */
  insertNew(keys: readonly string[], receivedAt: string): Promise<ReadonlySet<string>> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    if (keys.length === 0) return Promise.resolve(new Set());
    const worker = this.started();
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, keys, receivedAt });
    });
  }

  /**
   * Stops taking claims and ends the worker once it has answered those it was sent (failing
   * the ones still waiting for another process's lock); stopped outright after CLOSE_WAIT_MS.
   */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref();
      worker.postMessage({ close: true });
      const stop = setTimeout(() => void worker.terminate(), CLOSE_WAIT_MS);
      await exited;
      clearTimeout(stop);
    }
    this.failAll(new Error('the database is closed'));
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SCRIPT, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: this.file,
        busyTimeoutMs: this.waiting.busyTimeoutMs,
        waitMs: this.waiting.waitMs,
        maxPauseMs: MAX_PAUSE_MS,
        rowsPerInsert: CLAIM_ROWS_PER_INSERT,
      },
    });
    worker.unref();
    worker.on('message', (answer: Answer) => this.answered(answer));
    const gone = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(error);
    };
    worker.on('error', (error) => gone(new Error(`the claims worker failed: ${error.message}`)));
    worker.on('exit', (code) => gone(new Error(`the claims worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private answered(answer: Answer): void {
    const waiting = this.pending.get(answer.id);
    if (!waiting) return;
    this.pending.delete(answer.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in answer) waiting.reject(new Error(`claiming deliveries failed: ${answer.error}`));
    else waiting.resolve(new Set(answer.inserted));
  }

  private failAll(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(error);
  }
}
