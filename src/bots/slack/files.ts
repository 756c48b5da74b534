/**
 * Files people give the bot (modal `file_input`, or files on a message), as attachments
 * the core downloads. Slack serves `url_private_download` only with the bot token in an
 * Authorization header (without it, a 200 HTML login page: the core refuses `text/html`).
 * Files shared across organisations may come without URLs (`file_access:
 * "check_file_info"`); files.info gives them.
 */
import type { WebClient } from '@slack/web-api';
import type { AttachmentIntake } from '../../core/inbound.js';
import type { AttachmentSource } from '../../media/service.js';

export interface SlackFileRef {
  id: string;
  name: string | undefined;
  urlPrivateDownload: string | undefined;
  fileAccess: string | undefined;
}

/** Reads the file fields we use from an event's `files` entry. */
export function fileRef(file: {
  id: string;
  name?: string | null;
  url_private_download?: string;
  url_private?: string;
  file_access?: string;
}): SlackFileRef {
  return {
    id: file.id,
    name: file.name ?? undefined,
    urlPrivateDownload: file.url_private_download || file.url_private || undefined,
    fileAccess: file.file_access,
  };
}

export type FileIntake = AttachmentIntake;

export async function attachmentsFrom(client: WebClient, token: string, files: readonly SlackFileRef[]): Promise<FileIntake> {
  const attachments: AttachmentSource[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let url = file.fileAccess === 'check_file_info' ? undefined : file.urlPrivateDownload;
    let name = file.name;
    if (!url) {
      const info = await client.files.info({ token, file: file.id });
      url = info.file?.url_private_download || info.file?.url_private || undefined;
      name ??= info.file?.name ?? undefined;
    }
    if (!url) {
      problems.push(
        `"${name ?? file.id}" cannot be downloaded by IQSP (it may be a link to a file stored outside Slack); upload the file itself.`,
      );
      continue;
    }
    attachments.push({ url, headers: { Authorization: `Bearer ${token}` }, ...(name ? { originalName: name } : {}) });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, attachments };
}
