/**
 * What each large dependency costs in resident memory once loaded: every package is imported
 * alone in a fresh Node process, and the process's RSS after a full GC is compared with a
 * process that imported nothing. Median of --runs (default 3) per package.
 *
 *   node bench/dependency-cost.mjs [--runs 3] [package ...]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = [
  'discord.js',
  '@atproto/oauth-client-node',
  '@slack/bolt',
  '@slack/bolt/dist/App.js',
  'sharp',
  'kysely',
  '@aws-sdk/client-s3',
  'undici',
  'twitter-text',
  'pg',
  'koa',
  'file-type',
  'prom-client',
  'pino',
  'dotenv',
  'better-sqlite3',
];

const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 3;
const named = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--runs');
const packages = named.length > 0 ? named : PACKAGES;

/** RSS (MB) of a fresh process after importing `name` (nothing when undefined) and two full GCs. */
function rssAfter(name) {
  const source = `${name ? `await import(${JSON.stringify(name)});` : ''}
    globalThis.gc(); globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); globalThis.gc();
    process.stdout.write(String(process.memoryUsage().rss));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', source], { cwd: ROOT, encoding: 'utf8' });
  return Number(out) / 1024 / 1024;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const empty = median(Array.from({ length: RUNS }, () => rssAfter(undefined)));
console.log(`an empty Node process: ${empty.toFixed(1)} MB RSS`);
const rows = [];
for (const name of packages) {
  const rss = median(Array.from({ length: RUNS }, () => rssAfter(name)));
  rows.push({ name, delta: rss - empty });
}
rows.sort((a, b) => b.delta - a.delta);
console.log('| package | RSS when loaded alone |');
console.log('|---|---|');
for (const { name, delta } of rows) console.log(`| ${name} | +${delta.toFixed(1)} MB |`);
