/**
 * MEDIA_DIR must take files whatever the media store: every download lands in its `incoming`
 * folder first (then moves into the folder itself with the local store, or up to the bucket).
 * Checked at start-up and by `/readyz`, by doing what intake does: a probe file is written in
 * `incoming`, moved into MEDIA_DIR and removed. That catches a read-only mount, missing
 * permissions, a path that is not a folder, and a disk that refuses new files.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The folder under MEDIA_DIR where downloads and conversions are written before they are stored. */
export function incomingDirOf(mediaDir: string): string {
  return path.join(mediaDir, 'incoming');
}

/** Why `mediaDir` cannot take files ("<dir> cannot be written: <the system's reason>"), or undefined when it can. */
export async function mediaDirProblem(mediaDir: string): Promise<string | undefined> {
  const incoming = incomingDirOf(mediaDir);
  // Not a UUID: cleanup never mistakes a probe for media.
  const name = `.write-check-${randomUUID()}`;
  try {
    // Created for this user only: media waiting for approval is not for other users of the machine.
    await mkdir(incoming, { recursive: true, mode: 0o700 });
    await writeFile(path.join(incoming, name), 'IQSP checks it can write here', { mode: 0o600 });
    await rename(path.join(incoming, name), path.join(mediaDir, name));
    await rm(path.join(mediaDir, name), { force: true });
    return undefined;
  } catch (error) {
    await rm(path.join(incoming, name), { force: true }).catch(() => undefined);
    return `${mediaDir} cannot be written: ${error instanceof Error ? error.message : String(error)}`;
  }
}
