import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { probeFile, UnsupportedMediaError } from '../../src/media/probe.js';
import { writeMp4 } from '../helpers/mp4.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iqsp-probe-'));

describe('probeFile', () => {
  it('reads type and dimensions of images from their bytes, whatever the name says', async () => {
    const file = path.join(dir, 'photo.gif'); // a PNG named .gif
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#336699' } })
      .png()
      .toFile(file);
    expect(await probeFile(file)).toEqual({ mimeType: 'image/png', kind: 'image', width: 640, height: 480 });
  });

  it('reads duration and the video track size of an MP4', async () => {
    const file = path.join(dir, 'clip.mp4');
    await writeMp4(file, { durationMs: 12_345, width: 1080, height: 1920, sizeBytes: 100_000 });
    expect(await probeFile(file)).toEqual({ mimeType: 'video/mp4', kind: 'video', durationMs: 12_345, width: 1080, height: 1920 });
  });

  it('calls an HTML page what it is', async () => {
    const file = path.join(dir, 'login.png');
    writeFileSync(file, '<!DOCTYPE html><html><body>Sign in to Slack</body></html>');
    await expect(probeFile(file, 'photo.png')).rejects.toThrow(/"photo.png" is a web page, not an image or video/);
  });

  it('refuses other files, naming the type', async () => {
    const file = path.join(dir, 'doc.pdf');
    writeFileSync(file, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(200)]));
    await expect(probeFile(file, 'doc.pdf')).rejects.toThrow(UnsupportedMediaError);
    await expect(probeFile(file, 'doc.pdf')).rejects.toThrow(/application\/pdf, not an image or video/);
  });
});
