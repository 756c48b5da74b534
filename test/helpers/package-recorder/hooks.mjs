/** The resolve hook of register.mjs: appends each package name the first time it resolves. */
import { appendFileSync } from 'node:fs';
import { packageOf } from './package-of.mjs';

let file;
const seen = new Set();

export function initialize(data) {
  file = data?.file;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const name = packageOf(result.url);
  if (file && name && !seen.has(name)) {
    seen.add(name);
    appendFileSync(file, `${name}\n`);
  }
  return result;
}
