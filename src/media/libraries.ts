/**
 * The media libraries, loaded at their first use: sharp (libvips, some 25 MB resident) and
 * file-type (some 10 MB) serve only requests that carry media, so an idle `serve` and the
 * commands that never touch a file do not hold them (issue 19). Every other module reaches
 * them through here (test/architecture/lazy-packages.test.ts).
 */
import type { default as Sharp } from 'sharp';

let sharpLoading: Promise<typeof Sharp> | undefined;
let fileTypeLoading: Promise<typeof import('file-type')> | undefined;

/** sharp's default export, loaded once. */
export function loadSharp(): Promise<typeof Sharp> {
  sharpLoading ??= import('sharp').then((module) => module.default);
  return sharpLoading;
}

/** file-type's `fileTypeFromFile`, loaded once. */
export async function fileTypeFromFile(file: string): ReturnType<(typeof import('file-type'))['fileTypeFromFile']> {
  fileTypeLoading ??= import('file-type');
  return (await fileTypeLoading).fileTypeFromFile(file);
}
