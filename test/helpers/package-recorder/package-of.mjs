import { fileURLToPath } from 'node:url';

/** The package a resolved file (path or file: URL) belongs to: the name after the last node_modules/. */
export function packageOf(resolved) {
  if (typeof resolved !== 'string') return undefined;
  if (resolved.startsWith('file:')) resolved = fileURLToPath(resolved);
  const parts = resolved.split(/[\\/]node_modules[\\/]/);
  if (parts.length < 2) return undefined;
  const [first, second] = parts.at(-1).split(/[\\/]/);
  return first.startsWith('@') ? `${first}/${second}` : first;
}
