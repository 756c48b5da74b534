/**
 * The large packages a running `serve` needs only for some requests are loaded at their first
 * use (issue 19: an idle service holds what it uses). Two checks:
 * - in the source, no module outside the one that loads each package imports it statically;
 * - the built `serve`, with every integration configured (Slack, Discord, every platform, S3
 *   media), has not loaded them once it says it is listening (a resolve hook records every
 *   package the process loads: test/helpers/package-recorder).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSource, readSources } from './imports.js';
import { cliScratch, freePort } from '../helpers/cli.js';
import { startSimulators, type Simulators } from '../../src/simulators/index.js';
import { S3Simulator } from '../../src/simulators/s3.js';
import { generateKey } from '../../src/vault/vault.js';
import { startChatFakes, type ChatFakes } from '../../bench/chat-fakes.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Each lazily loaded package, and the only modules that may import it statically. */
const LAZY: Record<string, readonly string[]> = {
  sharp: ['src/media/libraries.ts'],
  'file-type': ['src/media/libraries.ts'],
  '@aws-sdk/client-s3': ['src/media/s3-store.ts'],
  '@aws-sdk/s3-request-presigner': ['src/media/s3-store.ts'],
  '@atproto/oauth-client-node': ['src/publishers/bluesky/client.ts'],
  // The simulators run in tests and the sandbox only, never in a configured `serve`.
  'twitter-text': ['src/publishers/x/twitter-text.ts', 'src/simulators/'],
  pg: ['src/db/postgres.ts'],
  dotenv: ['src/config.ts'],
  luxon: ['src/core/schedule/zones.ts'],
};

const allowed = (pkg: string, file: string): boolean => LAZY[pkg]!.some((m) => (m.endsWith('/') ? file.startsWith(m) : file === m));

/** Static (run-time) imports of `pkg` in `sources`, by file. */
function staticImporters(sources: ReadonlyMap<string, string>, pkg: string): string[] {
  const known = new Set(sources.keys());
  return [...sources]
    .filter(([file, text]) => parseSource(file, text, known).imports.some((i) => i.target === pkg && !i.typeOnly && !i.dynamic))
    .map(([file]) => file);
}

describe('lazily loaded packages', () => {
  it('are imported statically only by the module that loads them', () => {
    const sources = readSources(ROOT, ['src']);
    const found = Object.fromEntries(Object.keys(LAZY).map((pkg) => [pkg, staticImporters(sources, pkg).filter((f) => !allowed(pkg, f))]));
    expect(found).toEqual(Object.fromEntries(Object.keys(LAZY).map((pkg) => [pkg, []])));
  });

  it('the checker sees a static import, and not a type-only or dynamic one', () => {
    const sources = new Map([
      ['src/a.ts', "import sharp from 'sharp';"],
      ['src/b.ts', "import type { Sharp } from 'sharp';"],
      ['src/c.ts', "const s = await import('sharp');"],
    ]);
    expect(staticImporters(sources, 'sharp')).toEqual(['src/a.ts']);
  });
});

describe('an idle serve with every integration configured', () => {
  const scratch = cliScratch('iqsp-lazy-');
  let sims: Simulators;
  let s3: S3Simulator;
  let chat: ChatFakes;

  beforeAll(async () => {
    sims = await startSimulators();
    s3 = await new S3Simulator({ buckets: ['lazy'] }).start();
    chat = await startChatFakes();
  });
  afterAll(async () => {
    await Promise.all([sims.close(), s3.close(), chat.close()]);
  });

  it('has loaded none of the lazily loaded packages, but has loaded its chats', async () => {
    const dir = scratch.tempDir();
    const record = path.join(dir, 'packages.txt');
    const port = await freePort();
    const recorder = fileURLToPath(new URL('../helpers/package-recorder/register.mjs', import.meta.url));
    const serve = scratch.start(['serve'], {
      cwd: dir,
      env: {
        NODE_OPTIONS: `--import ${recorder}`,
        IQSP_PACKAGE_RECORD: record,
        IQSP_SANDBOX: 'off',
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: `sqlite:${path.join(dir, 'iqsp.sqlite')}`,
        MEDIA_DIR: path.join(dir, 'media'),
        VAULT_KEY: generateKey(),
        ...sims.env,
        ...chat.env,
        MEDIA_STORE: 's3',
        S3_BUCKET: 'lazy',
        S3_REGION: s3.region,
        S3_ENDPOINT: s3.url,
        S3_FORCE_PATH_STYLE: 'true',
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    });
    const deadline = Date.now() + 20_000;
    while (!serve.output().includes('IQSP listening') && Date.now() < deadline && serve.child.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(serve.output()).toContain('IQSP listening');
    const loaded = new Set(readFileSync(record, 'utf8').split('\n').filter(Boolean));
    // The recorder works: the chats and the database are loaded.
    expect([...loaded]).toEqual(expect.arrayContaining(['@slack/bolt', 'discord.js', 'better-sqlite3', 'koa']));
    expect(Object.keys(LAZY).filter((pkg) => loaded.has(pkg))).toEqual([]);
  }, 30_000);
});

it('the package recorder exists', () => {
  expect(existsSync(new URL('../helpers/package-recorder/hooks.mjs', import.meta.url))).toBe(true);
});
