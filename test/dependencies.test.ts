/**
 * Issue 13, finding 16 (last part): every runtime dependency is code the service runs. A package
 * nothing imports (as `@koa/bodyparser` was) is attack surface and update noise for nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runtime dependencies the service's code does not import by name, and why they stay. */
const NOT_IMPORTED_BY_NAME: Readonly<Record<string, string>> = {
  undici: 'pinned at the top level, where @slack/socket-mode takes it from (npm ls undici)',
  ws: "pinned at the top level, where discord.js's gateway (@discordjs/ws) takes it from; the test simulators import it too",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [full] : [];
  });
}

it('imports every runtime dependency somewhere in src/ or migrations/', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const code = ['src', 'migrations']
    .flatMap((dir) => sourceFiles(path.join(ROOT, dir)))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const unused = Object.keys(pkg.dependencies).filter((name) => {
    if (name in NOT_IMPORTED_BY_NAME) return false;
    const quoted = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    return !new RegExp(`(from|import\\(|require\\()\\s*'${quoted}(/[^']*)?'`).test(code);
  });
  expect(unused).toEqual([]);
});
