/**
 * `node --import <this file>`: records every package the process loads (by name, one per line,
 * in the file named by IQSP_PACKAGE_RECORD): ES imports through a module resolve hook,
 * require() (CommonJS packages, createRequire) through Module._resolveFilename. Used by
 * test/architecture/lazy-packages.test.ts to see what an idle `serve` has loaded.
 */
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { packageOf } from './package-of.mjs';

const file = process.env.IQSP_PACKAGE_RECORD;
register(new URL('./hooks.mjs', import.meta.url), { data: { file } });

const seen = new Set();
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function recorded(...args) {
  const resolved = resolveFilename.apply(this, args);
  const name = packageOf(resolved);
  if (file && name && !seen.has(name)) {
    seen.add(name);
    appendFileSync(file, `${name}\n`);
  }
  return resolved;
};
