/**
 * Builds a small but structurally real MP4 (ftyp, moov with mvhd and a video trak/tkhd, mdat),
 * so type sniffing and the movie-header probe can be tested without an encoder. `padTo`
 * extends the mdat (zero-filled, written in chunks) to make large files cheaply.
 */
import { open } from 'node:fs/promises';

function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export interface Mp4Options {
  durationMs: number;
  width: number;
  height: number;
}

export function mp4Header({ durationMs, width, height }: Mp4Options): Buffer {
  const timescale = 1000;
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(512), Buffer.from('isomiso2avc1mp41', 'latin1'));
  const mvhd = box(
    'mvhd',
    Buffer.from([0, 0, 0, 0]),
    u32(0),
    u32(0),
    u32(timescale),
    u32(durationMs),
    u32(0x00010000),
    Buffer.alloc(2 + 10 + 36 + 24 + 4 + 2),
  );
  const matrix = Buffer.alloc(36);
  const tkhd = box(
    'tkhd',
    Buffer.from([0, 0, 0, 3]),
    u32(0), // creation
    u32(0), // modification
    u32(1), // track id
    u32(0), // reserved
    u32(durationMs),
    Buffer.alloc(8), // reserved
    Buffer.alloc(2 + 2 + 2 + 2), // layer, alternate group, volume, reserved
    matrix,
    u32(width * 65536),
    u32(height * 65536),
  );
  const moov = box('moov', mvhd, box('trak', tkhd));
  return Buffer.concat([ftyp, moov]);
}

/** Writes an MP4 of at least `sizeBytes` bytes (header + zero-filled mdat) to `file`. */
export async function writeMp4(file: string, options: Mp4Options & { sizeBytes?: number }): Promise<void> {
  const header = mp4Header(options);
  const mdatBody = Math.max(16, (options.sizeBytes ?? 0) - header.length - 8);
  const handle = await open(file, 'w');
  try {
    await handle.write(header);
    const mdatHeader = Buffer.alloc(8);
    mdatHeader.writeUInt32BE(8 + mdatBody, 0);
    mdatHeader.write('mdat', 4, 'latin1');
    await handle.write(mdatHeader);
    const chunk = Buffer.alloc(Math.min(mdatBody, 8 * 1024 * 1024));
    for (let written = 0; written < mdatBody;) {
      const n = Math.min(chunk.length, mdatBody - written);
      await handle.write(chunk, 0, n);
      written += n;
    }
  } finally {
    await handle.close();
  }
}
