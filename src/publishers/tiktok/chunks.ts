/**
 * TikTok's chunk arithmetic for FILE_UPLOAD (Media Transfer Guide, platform-apis.md §4.5):
 * - every chunk is 5–64 MB, except the last, which absorbs the trailing bytes (up to 128 MB);
 * - total_chunk_count = floor(video_size / chunk_size), between 1 and 1000;
 * - a video under 5 MB goes whole, with chunk_size = video_size.
 * "MB" is read strictly both ways: at least 5 MiB, at most 64,000,000 bytes, so the plan holds
 * whichever unit TikTok means. The last chunk is then under 2 × 64 MB = 128 MB by construction.
 */
import type { ByteRange } from '../../media/media.js';

export const MIN_CHUNK_BYTES = 5 * 1024 * 1024;
export const MAX_CHUNK_BYTES = 64_000_000;
export const MAX_CHUNKS = 1000;

export interface ChunkPlan {
  videoSize: number;
  chunkSize: number;
  totalChunkCount: number;
}

/** The init fields for a video of `videoSize` bytes, given a preferred chunk size. */
export function planChunks(videoSize: number, preferredChunkBytes: number): ChunkPlan {
  if (!Number.isSafeInteger(videoSize) || videoSize <= 0) throw new RangeError(`cannot upload a video of ${videoSize} bytes`);
  let chunkSize = Math.min(Math.max(Math.floor(preferredChunkBytes), MIN_CHUNK_BYTES), MAX_CHUNK_BYTES);
  // Enough bytes per chunk to stay within 1000 chunks (a 4 GB video needs at least ~4.3 MB).
  chunkSize = Math.min(Math.max(chunkSize, Math.ceil(videoSize / MAX_CHUNKS)), MAX_CHUNK_BYTES);
  // Below one chunk (including every video under 5 MB) the file goes whole as its only chunk.
  if (videoSize <= chunkSize) return { videoSize, chunkSize: videoSize, totalChunkCount: 1 };
  // A video over 64 MB must go in several chunks, even when it is under two preferred chunks.
  if (videoSize > MAX_CHUNK_BYTES && videoSize < 2 * chunkSize) chunkSize = Math.floor(videoSize / 2);
  const totalChunkCount = Math.floor(videoSize / chunkSize);
  if (totalChunkCount > MAX_CHUNKS) throw new RangeError(`a video of ${videoSize} bytes needs more than ${MAX_CHUNKS} chunks`);
  return { videoSize, chunkSize, totalChunkCount };
}

/** The inclusive byte range of chunk `index`; the last one runs to the end of the file. */
export function chunkRange(plan: ChunkPlan, index: number): ByteRange {
  const start = index * plan.chunkSize;
  const end = index === plan.totalChunkCount - 1 ? plan.videoSize - 1 : start + plan.chunkSize - 1;
  return { start, end };
}

/** The Content-Range header of a chunk: "bytes first-last/total". */
export function contentRange(plan: ChunkPlan, range: ByteRange): string {
  return `bytes ${range.start}-${range.end}/${plan.videoSize}`;
}
