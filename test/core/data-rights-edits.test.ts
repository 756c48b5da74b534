/**
 * Issue 16 and the privacy promises: a post's own versions and its edit history (who changed
 * which text, from what to what, when) are data about the person who asked for it. `data`
 * exports them; `delete-my-data confirm` deletes them, and so does the purge of a removed
 * workspace, leaving no trace of the edited texts in the database (nor, on SQLite, in its files).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMOVED_WORKSPACE_RETENTION_DAYS } from '../../src/core/data-rights.js';
import { isoNow } from '../../src/db/database.js';
import { everyRowAsText, onPostgres } from '../helpers/db.js';
import { rawStorageText, startHarness, type Harness } from '../helpers/harness.js';

const T0 = new Date('2026-03-02T09:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** A harness whose clock moves only when a test moves it. */
async function harnessWithClock(): Promise<{ h: Harness; setClock: (at: Date) => void }> {
  let clock = T0;
  const h = await startHarness({ app: { now: () => clock } });
  return { h, setClock: (at) => (clock = at) };
}

async function request(h: Harness, user: string, text: string): Promise<string> {
  const reply = await h.run(user, text);
  const postId = /Post ([A-Z0-9]+) is waiting/.exec(String(reply.message.text))?.[1];
  if (!postId) throw new Error(`no post id in: ${String(reply.message.text)}`);
  return postId;
}

/** Every byte the database keeps: SQLite's files (after a checkpoint), or every row on PostgreSQL. */
async function storedText(h: Harness): Promise<string> {
  if (!onPostgres) await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.app.services.db);
  return rawStorageText(h.dir) + (onPostgres ? await everyRowAsText(h.app.services.db) : '');
}

interface ExportedPost {
  id: string;
  caption: string;
  targets: Array<{ platform: string; account: string; version: string | null }>;
  edits: Array<{ changed: string; target: string | null; before: string | null; after: string | null; at: string; by: string | null }>;
}

describe('versions and edits in the data rights', () => {
  const USER = 'U_EDITOR_UNIQUE_5151';
  const FIRST = 'first-caption-qq-unique-1111';
  const SECOND = 'second-caption-qq-unique-2222';
  const X_VERSION = 'x-version-qq-unique-3333';
  let h: Harness;
  let setClock: (at: Date) => void;
  let postId: string;

  beforeAll(async () => {
    ({ h, setClock } = await harnessWithClock());
    expect((await h.connect('x', USER)).status).toBe(200);
    expect((await h.connect('facebook', USER, { pages: ['100000000000001'] })).status).toBe(200);
    postId = await request(h, USER, `post x,facebook ${FIRST}`);
    setClock(minutes(1));
    expect((await h.run(USER, `edit ${postId} ${SECOND}`)).message.text).toContain('approvals start over');
    setClock(minutes(2));
    expect((await h.run(USER, `edit ${postId} x ${X_VERSION}`)).message.text).toContain('approvals start over');
  });
  afterAll(() => h?.close());

  it('exports each target’s own version and every edit: which text, before and after, when, and who', async () => {
    setClock(minutes(3));
    expect((await h.run(USER, 'data')).message.text).toBe('Your data export is in your direct messages.');
    const delivered = h.chat.files.find((f) => f.user.userExternalId === USER)!;
    const doc = JSON.parse(delivered.file.content) as { posts: ExportedPost[] };
    const post = doc.posts.find((p) => p.id === postId)!;
    expect(post.caption).toBe(SECOND);
    expect(Object.fromEntries(post.targets.map((t) => [t.platform, t.version]))).toEqual({ x: X_VERSION, facebook: null });
    expect(post.edits).toEqual([
      { changed: 'caption', target: null, before: FIRST, after: SECOND, at: isoNow(minutes(1)), by: USER },
      { changed: 'version', target: 'X @acme', before: SECOND, after: X_VERSION, at: isoNow(minutes(2)), by: USER },
    ]);
  });

  it('delete-my-data leaves no edit row of their posts and no trace of the edited texts', async () => {
    const db = h.app.services.db;
    expect(await db.selectFrom('post_edits').select('id').where('post_id', '=', postId).execute()).toHaveLength(2);
    // The thread's notice of each edit quotes the texts: it was said, and its queued copy kept.
    expect((await storedText(h)).includes(X_VERSION)).toBe(true);

    const done = await h.run(USER, 'delete-my-data confirm');
    expect(done.message.text).toMatch(/^deleted: your data in this workspace \(2 account\(s\), 1 post\(s\)/);
    expect(await db.selectFrom('post_edits').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('post_targets').select('id').where('post_id', '=', postId).execute()).toEqual([]);
    const raw = await storedText(h);
    for (const trace of [USER, FIRST, SECOND, X_VERSION]) expect(raw.includes(trace), trace).toBe(false);
  });
});

describe('a removed workspace’s purge', () => {
  const USER = 'U_PURGED_EDITOR_7272';
  const FIRST = 'purged-first-qq-unique-4444';
  const SECOND = 'purged-second-qq-unique-5555';
  const X_VERSION = 'purged-x-version-qq-unique-6666';
  let h: Harness;
  let setClock: (at: Date) => void;

  beforeAll(async () => {
    ({ h, setClock } = await harnessWithClock());
  });
  afterAll(() => h?.close());

  it('deletes the edits and versions of the workspace’s posts with the rest', async () => {
    expect((await h.connect('x', USER)).status).toBe(200);
    const postId = await request(h, USER, `post x ${FIRST}`);
    setClock(minutes(1));
    await h.run(USER, `edit ${postId} ${SECOND}`);
    await h.run(USER, `edit ${postId} x ${X_VERSION}`);
    const db = h.app.services.db;
    expect(await db.selectFrom('post_edits').select('id').execute()).toHaveLength(2);

    expect(await h.app.core.dataRights.workspaceRemoved('slack', 'T1', 'app_uninstalled')).toEqual({ accounts: 1 });
    setClock(new Date(minutes(1).getTime() + (REMOVED_WORKSPACE_RETENTION_DAYS + 1) * 24 * 3600_000));
    expect((await h.app.core.cleanup.run()).workspacesPurged).toBe(1);

    expect(await db.selectFrom('posts').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('post_edits').select('id').execute()).toEqual([]);
    const raw = await storedText(h);
    for (const trace of [USER, FIRST, SECOND, X_VERSION]) expect(raw.includes(trace), trace).toBe(false);
  });
});
