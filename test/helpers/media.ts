/**
 * Media for publisher tests: a fresh temp folder with a FileMediaAccess over it for each
 * test, and small real files (sharp images, MP4-looking videos) registered in it. Publishers
 * trust MediaInfo, not the container, so a video is a few patterned bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach } from 'vitest';
import type { MediaInfo } from '../../src/media/media.js';
import { FileMediaAccess } from './file-media.js';

/** Where a test's media lives: the folder and the MediaAccess over it. */
export interface MediaDir {
  readonly workDir: string;
  readonly media: FileMediaAccess;
}

/** A temp folder (named `<prefix>…`) and a FileMediaAccess over it, fresh for each test and removed after it. */
export function useMediaDir(prefix = 'iqsp-media-'): MediaDir {
  const state: { workDir: string; media: FileMediaAccess | undefined } = { workDir: '', media: undefined };
  beforeEach(() => {
    state.workDir = mkdtempSync(path.join(os.tmpdir(), prefix));
    state.media = new FileMediaAccess(state.workDir);
  });
  afterEach(() => rmSync(state.workDir, { recursive: true, force: true }));
  return {
    get workDir() {
      return state.workDir;
    },
    get media() {
      if (!state.media) throw new Error('useMediaDir is read inside a test');
      return state.media;
    },
  };
}

export interface ImageSpec {
  id: string;
  format: 'jpeg' | 'png' | 'webp';
  width: number;
  height: number;
  /** Written to `<id>.<extension>` (the format's name unless given). */
  extension?: string;
  background: string | { r: number; g: number; b: number; alpha?: number };
  /** 4 for an image with an alpha channel. */
  channels?: 3 | 4;
  originalName?: string;
}

/** A solid-colour image drawn by sharp, registered with its true type and size. */
export async function addImage(dir: MediaDir, spec: ImageSpec): Promise<MediaInfo> {
  const { id, format, width, height } = spec;
  const file = path.join(dir.workDir, `${id}.${spec.extension ?? format}`);
  await sharp({ create: { width, height, channels: spec.channels ?? 3, background: spec.background } })
    .toFormat(format)
    .toFile(file);
  const info = { id, kind: 'image' as const, mimeType: `image/${format}`, width, height };
  return dir.media.add(file, spec.originalName === undefined ? info : { ...info, originalName: spec.originalName });
}

/** `bytes` written to `<id>.mp4` and registered as an MP4 video with `info` (size, duration…). */
export function addVideoBytes(dir: MediaDir, id: string, bytes: Buffer, info: Partial<MediaInfo>): Promise<MediaInfo> {
  const file = path.join(dir.workDir, `${id}.mp4`);
  return writeFile(file, bytes).then(() => dir.media.add(file, { id, kind: 'video', mimeType: 'video/mp4', ...info }));
}
