/**
 * Words and numbers for validation sentences, shared by Facebook and Instagram so both phrase
 * limits the same way ("Instagram allows 2,200 characters; this caption counts 2,301.").
 */
import type { MediaInfo } from '../../media/media.js';

const MIB = 1024 * 1024;

const MIME_LABELS: Readonly<Record<string, string>> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'image/gif': 'GIF',
  'image/bmp': 'BMP',
  'image/tiff': 'TIFF',
  'image/heic': 'HEIC',
  'image/heif': 'HEIF',
  'image/avif': 'AVIF',
  'image/svg+xml': 'SVG',
  'video/mp4': 'MP4',
  'video/quicktime': 'MOV',
  'video/webm': 'WebM',
  'video/x-matroska': 'MKV',
  'video/x-msvideo': 'AVI',
};

/** Meta counts characters, not UTF-16 units: an emoji outside the BMP is one code point. */
export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

export function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Sizes in MB of 1,048,576 bytes, as Meta states its limits ("< 8 MiB"). */
export function megabytes(bytes: number): number {
  return bytes * MIB;
}

export function formatSize(bytes: number): string {
  return `${formatNumber(Math.round((bytes / MIB) * 10) / 10)} MB`;
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 120) return `${formatNumber(Math.round(seconds * 10) / 10)} seconds`;
  return `${formatNumber(Math.round((seconds / 60) * 10) / 10)} minutes`;
}

export function formatRatio(ratio: number): string {
  return `${formatNumber(Math.round(ratio * 100) / 100)}:1`;
}

export function mimeLabel(mimeType: string): string {
  return MIME_LABELS[mimeType] ?? mimeType;
}

/** "this image" for a single item, "image 2" when several are attached. */
export function itemName(media: MediaInfo, index: number, total: number): string {
  const kind = media.kind === 'video' ? 'video' : 'image';
  return total > 1 ? `${kind} ${index + 1}` : `this ${kind}`;
}
