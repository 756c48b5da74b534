/**
 * The built service as an operator runs it: `node dist/cli.js serve` in a child process,
 * configured only by environment variables, with its own port and temporary folder (the
 * SQLite database and MEDIA_DIR live there). Tests reach it only from outside: HTTP, the chat
 * fakes it talks to, the platform simulators, its files, and other CLI commands.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../src/db/database.js';
import { freePort, runCli, startCli, type CliResult, type RunningCli } from '../helpers/cli.js';
import { databaseLocation, everyRowAsText, scratchDatabase, type ScratchDatabase } from '../helpers/db.js';

/** Polls `probe` until it returns a value; on timeout the error says what was awaited and shows `context()`. */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  options: { timeoutMs?: number; context?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.context ? `\n${options.context()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const READY_LINE = 'IQSP listening on port';
/** No cleanup run may surprise a test: the cron fires once a year (tests run `iqsp cleanup` themselves). */
const RARE_CRON = '0 0 1 1 *';

export class ServiceProcess {
  private current: RunningCli | undefined;
  /** Output of earlier runs (before a kill or stop), kept for failure messages. */
  private earlier = '';

  private constructor(
    /** The child's working directory; media (and the SQLite database) are in it. */
    readonly dir: string,
    readonly port: number,
    readonly env: Record<string, string>,
    /** The child's database: SQLite in `dir`, or a fresh PostgreSQL database on CI's PostgreSQL pass. */
    private readonly database: ScratchDatabase,
  ) {}

  /**
   * Starts `serve` with the platform and chat environment given (simulators, fakes), a fresh
   * database and media folder, and waits until it says it is listening (every configured
   * surface has started by then: the Discord bot is logged in).
   */
  static async start(integrations: Record<string, string>, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-e2e-child-'));
    const port = await freePort();
    const database = await scratchDatabase(dir);
    const env = {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'media'),
      VAULT_KEY: randomBytes(32).toString('base64'),
      CLEANUP_CRON: RARE_CRON,
      LOG_LEVEL: 'info',
      ...integrations,
      ...extra,
    };
    const service = new ServiceProcess(dir, port, env, database);
    try {
      await service.boot();
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mediaDir(): string {
    return this.env.MEDIA_DIR!;
  }

  /** Everything the child wrote to stdout and stderr, over all its runs. */
  output(): string {
    return this.earlier + (this.current?.output() ?? '');
  }

  /** The last lines of output, for failure messages. */
  tail(chars = 4_000): string {
    const out = this.output();
    return `--- service output (last ${chars} chars) ---\n${out.slice(-chars)}`;
  }

  /** Starts (again) on the same database, media folder, port and key. */
  async boot(): Promise<void> {
    if (this.current) throw new Error('the service is already running');
    const run = startCli(['serve'], { cwd: this.dir, env: this.env });
    this.current = run;
    let exited: number | null | undefined;
    void run.exited.then((code) => (exited = code));
    await waitFor(() => exited !== undefined || run.output().includes(READY_LINE), 'the service to listen', {
      timeoutMs: 30_000,
      context: () => this.tail(),
    });
    if (exited !== undefined) {
      this.retire();
      throw new Error(`serve exited with code ${exited} before listening\n${this.tail()}`);
    }
  }

  /** SIGKILL: no shutdown of any kind, as a crash or the OOM killer. */
  async kill(): Promise<void> {
    const run = this.current;
    if (!run) return;
    run.child.kill('SIGKILL');
    await run.exited;
    this.retire();
  }

  /** SIGTERM (graceful shutdown), then SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 5_000): Promise<number | null> {
    const run = this.current;
    if (!run) return null;
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
    const code = await run.exited;
    clearTimeout(timer);
    this.retire();
    return code;
  }

  /** Runs another CLI command (`cleanup`, `migrate`…) as a separate process with the same environment. */
  cli(args: string[]): Promise<CliResult> {
    return runCli(args, { cwd: this.dir, env: this.env });
  }

  /** Reads the child's database (as another instance would) through a connection of its own. */
  async read<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const db = openDatabase(databaseLocation(this.database));
    try {
      return await work(db);
    } finally {
      await db.destroy();
    }
  }

  /**
   * Everything stored: every byte under the child's folder (SQLite files, WAL, media) as latin1
   * text, and on PostgreSQL every row of every table as well.
   */
  async storedBytes(): Promise<string> {
    const files = this.fileBytes();
    if (this.database.dialect !== 'postgres') return files;
    const db = openDatabase(databaseLocation(this.database));
    try {
      return `${files}\n${await everyRowAsText(db)}`;
    } finally {
      await db.destroy();
    }
  }

  private fileBytes(): string {
    const out: string[] = [];
    const walk = (folder: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(folder, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) walk(full);
        else {
          try {
            out.push(readFileSync(full).toString('latin1'));
          } catch {
            // removed while we walked (a temp file of the intake)
          }
        }
      }
    };
    walk(this.dir);
    return out.join('\n');
  }

  /** Files in MEDIA_DIR (recursively), relative paths. */
  mediaFiles(): string[] {
    const out: string[] = [];
    const walk = (folder: string, prefix: string) => {
      let entries: Dirent[];
      try {
        entries = readdirSync(folder, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.isDirectory()) walk(path.join(folder, entry.name), `${prefix}${entry.name}/`);
        else out.push(`${prefix}${entry.name}`);
      }
    };
    walk(this.mediaDir, '');
    return out.sort();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.database.drop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private retire(): void {
    this.earlier += this.current?.output() ?? '';
    this.current = undefined;
  }
}
