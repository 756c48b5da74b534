/**
 * Reads what validation needs from a media file without loading it: the type from its first
 * bytes (`file-type`), image dimensions (`sharp` metadata), and for MP4/MOV the duration and
 * the video track's dimensions from the `moov` box (ISO base media file format).
 */
import { open } from 'node:fs/promises';
import { fileTypeFromFile, loadSharp } from './libraries.js';
import type { MediaKind } from './media.js';

export interface Probe {
  mimeType: string;
  kind: MediaKind;
  width?: number | undefined;
  height?: number | undefined;
  durationMs?: number | undefined;
}

export class UnsupportedMediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedMediaError';
  }
}

const MAX_MOOV_BYTES = 64 * 1024 * 1024;

export async function probeFile(file: string, originalName?: string): Promise<Probe> {
  const type = await fileTypeFromFile(file);
  const name = originalName ? `"${originalName}"` : 'the file';
  if (!type) {
    const head = await readHead(file, 512);
    if (/^\s*(<!doctype html|<html|<\?xml|<head|<body)/i.test(head.toString('latin1')))
      throw new UnsupportedMediaError(`${name} is a web page, not an image or video (the chat did not hand over the file)`);
    throw new UnsupportedMediaError(`${name} is not an image or video IQSP recognises`);
  }
  if (type.mime.startsWith('image/')) {
    try {
      const sharp = await loadSharp();
      const meta = await sharp(file).metadata();
      return { mimeType: type.mime, kind: 'image', width: meta.width, height: meta.height };
    } catch {
      // A format sharp cannot read (its dimensions stay unknown; validators decide).
      return { mimeType: type.mime, kind: 'image' };
    }
  }
  if (type.mime.startsWith('video/')) {
    const movie = type.mime === 'video/mp4' || type.mime === 'video/quicktime' || type.ext === 'm4v' ? await readMovieHeader(file) : {};
    return { mimeType: type.mime, kind: 'video', ...movie };
  }
  throw new UnsupportedMediaError(`${name} is ${type.mime}, not an image or video`);
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

interface MovieHeader {
  durationMs?: number;
  width?: number;
  height?: number;
}

/** Walks top-level boxes to `moov` (reading only box headers), then parses `mvhd` and `tkhd`. */
async function readMovieHeader(file: string): Promise<MovieHeader> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    let offset = 0;
    const header = Buffer.alloc(16);
    while (offset + 8 <= size) {
      await handle.read(header, 0, 16, offset);
      let boxSize = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      let headerSize = 8;
      if (boxSize === 1) {
        boxSize = Number(header.readBigUInt64BE(8));
        headerSize = 16;
      } else if (boxSize === 0) boxSize = size - offset;
      if (boxSize < headerSize) return {};
      if (type === 'moov') {
        const length = Math.min(boxSize - headerSize, MAX_MOOV_BYTES);
        const moov = Buffer.alloc(length);
        await handle.read(moov, 0, length, offset + headerSize);
        return parseMoov(moov);
      }
      offset += boxSize;
    }
    return {};
  } finally {
    await handle.close();
  }
}

function* boxes(buffer: Buffer): Generator<{ type: string; body: Buffer }> {
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    let size = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    let headerSize = 8;
    if (size === 1 && offset + 16 <= buffer.length) {
      size = Number(buffer.readBigUInt64BE(offset + 8));
      headerSize = 16;
    } else if (size === 0) size = buffer.length - offset;
    if (size < headerSize || offset + size > buffer.length) return;
    yield { type, body: buffer.subarray(offset + headerSize, offset + size) };
    offset += size;
  }
}

function parseMoov(moov: Buffer): MovieHeader {
  const result: MovieHeader = {};
  for (const box of boxes(moov)) {
    if (box.type === 'mvhd' && box.body.length >= 20) {
      const version = box.body[0];
      const timescale = version === 1 ? box.body.readUInt32BE(20) : box.body.readUInt32BE(12);
      const duration = version === 1 ? Number(box.body.readBigUInt64BE(24)) : box.body.readUInt32BE(16);
      if (timescale > 0) result.durationMs = Math.round((duration / timescale) * 1000);
    }
    if (box.type === 'trak' && result.width === undefined) {
      for (const inner of boxes(box.body)) {
        if (inner.type !== 'tkhd') continue;
        const version = inner.body[0];
        const at = version === 1 ? 88 : 76; // width and height are the last two 16.16 fields
        if (inner.body.length < at + 8) continue;
        const width = inner.body.readUInt32BE(at) / 65536;
        const height = inner.body.readUInt32BE(at + 4) / 65536;
        if (width > 0 && height > 0) {
          result.width = Math.round(width);
          result.height = Math.round(height);
        }
      }
    }
  }
  return result;
}
