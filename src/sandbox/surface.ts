/**
 * The sandbox surface: a Slack-like channel at /sandbox where a person plays every role —
 * types `/iqsp …` commands, attaches images or videos, follows connect links through the
 * simulated consent pages, and reacts ✅/❌ as a teammate. It is its own chat ('sandbox') and
 * goes through the same inbound facade as Slack and Discord; attachments are uploaded here and
 * fetched by the real media intake.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import busboy from 'busboy';
import { moveWorkspaceChat } from '../core/directory.js';
import type { ButtonOutcome } from '../core/inbound.js';
import type { Invocation, Reply } from '../core/ports/chat.js';
import type { Platform } from '../core/ports/platforms.js';
import type { Surface, SurfaceContext } from '../bots/surface.js';
import { readBodyLimited } from '../http/body.js';
import { publishesToList } from '../publishers/registry.js';
import type { AttachmentSource } from '../media/service.js';
import { SANDBOX_CHANNEL, SANDBOX_WORKSPACE, SandboxChat } from './sandbox-chat.js';
import { homePage } from './home-page.js';
import { sandboxPage, sandboxScript } from './page.js';
import { sandboxRequestGuard } from './same-origin.js';
import { schedulePanel, type SchedulePanel } from './schedule-panel.js';

export interface SandboxPerson {
  id: string;
  name: string;
  isAdmin: boolean;
}

export const SANDBOX_PEOPLE: readonly SandboxPerson[] = [
  { id: 'ada', name: 'Ada (admin)', isAdmin: true },
  { id: 'bob', name: 'Bob', isAdmin: false },
  { id: 'cara', name: 'Cara', isAdmin: false },
];

/** What the page's edit form shows (the Slack modal's edit, drawn by the page): the caption and each platform's own version. */
export interface SandboxEditForm {
  postId: string;
  caption: string;
  versions: Array<{ platform: Platform; name: string; version: string }>;
}

/** The longest text the edit form and its live counts take: the request body's limit holds the whole form. */
const MAX_FORM_TEXT = 16 * 1024;

/** What the sandbox shows of the simulated platforms (published posts, consent pages). */
export interface SandboxPlatforms {
  published(): Array<{ platform: string; account: string; text: string; url: string; media: number; at: string }>;
}

const MAX_UPLOAD_BYTES = 1024 ** 3;
const MAX_FILES = 10;

function person(id: unknown): SandboxPerson {
  const found = SANDBOX_PEOPLE.find((p) => p.id === id);
  if (!found) throw Object.assign(new Error(`unknown sandbox person "${String(id)}"`), { status: 400 });
  return found;
}

/** Reads a multipart command: fields `user`, `text`, and files streamed to the upload folder. */
function readCommand(
  ctx: RouterContext,
  uploadDir: string,
  publicUrl: string,
): Promise<{ fields: Record<string, string>; files: AttachmentSource[] }> {
  return new Promise<{ fields: Record<string, string>; files: AttachmentSource[] }>((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: AttachmentSource[] = [];
    const writes: Promise<void>[] = [];
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: { files: MAX_FILES, fileSize: MAX_UPLOAD_BYTES, fields: 10, fieldSize: 64 * 1024 },
      });
    } catch (error) {
      reject(Object.assign(error as Error, { status: 400 }));
      return;
    }
    parser.on('field', (name, value) => void (fields[name] = value));
    parser.on('file', (_name, stream, info) => {
      const id = randomUUID();
      const file = path.join(uploadDir, id);
      files.push({ url: `${publicUrl}/sandbox/files/${id}`, originalName: info.filename });
      writes.push(
        mkdir(uploadDir, { recursive: true, mode: 0o700 }).then(() => pipeline(stream, createWriteStream(file, { mode: 0o600 }))),
      );
    });
    parser.on('error', (error) => reject(Object.assign(error as Error, { status: 400 })));
    parser.on('close', () => void Promise.all(writes).then(() => resolve({ fields, files }), reject));
    // Read whole under the body limit first: a chunked upload cannot pass it, and nothing is written for one that does not fit.
    readBodyLimited(ctx.req).then((body) => parser.end(body), reject);
  });
}

export function createSandboxSurface(platforms: SandboxPlatforms): (context: SurfaceContext) => Promise<Surface> {
  return async ({ config, core, services, logger }) => {
    const chat = new SandboxChat();
    // A sandbox database from before the sandbox was its own chat keeps its workspace.
    await moveWorkspaceChat(services.db, SANDBOX_WORKSPACE, 'slack', chat.chat);
    const uploadDir = path.join(config.mediaDir, 'sandbox-uploads');

    const invocationOf = (who: SandboxPerson): Invocation => ({
      chat: chat.chat,
      workspaceExternalId: SANDBOX_WORKSPACE,
      workspaceName: 'Sandbox',
      userExternalId: who.id,
      userName: who.name,
      isAdmin: who.isAdmin,
      channelId: SANDBOX_CHANNEL,
    });
    const answer = async (who: SandboxPerson, reply: Reply) => {
      if (reply.visibility === 'private')
        await chat.sendPrivate({ chat: chat.chat, workspaceExternalId: SANDBOX_WORKSPACE, userExternalId: who.id }, reply.message);
      else await chat.postInChannel(SANDBOX_WORKSPACE, SANDBOX_CHANNEL, reply.message);
    };

    const homeReader = (who: SandboxPerson) => ({
      chat: chat.chat,
      workspaceExternalId: SANDBOX_WORKSPACE,
      workspaceName: 'Sandbox',
      userExternalId: who.id,
      userName: who.name,
    });
    // The page polls often; the schedule is read again only when the chat's version moved (every
    // change to a post says so: postsChanged, or the approval message being edited).
    const schedules = new Map<string, { version: number; panel: SchedulePanel }>();
    const scheduleFor = async (who: SandboxPerson, version: number): Promise<SchedulePanel> => {
      const cached = schedules.get(who.id);
      if (cached?.version === version) return cached.panel;
      const panel = schedulePanel(await core.inbound.home(homeReader(who)));
      schedules.set(who.id, { version, panel });
      return panel;
    };

    const guard = sandboxRequestGuard(config.publicUrl);
    const routes = (router: Router): void => {
      router.get('/sandbox', guard, (ctx) => {
        ctx.type = 'html';
        ctx.body = sandboxPage(SANDBOX_PEOPLE);
      });

      router.get('/sandbox/page.js', guard, (ctx) => {
        ctx.type = 'application/javascript';
        ctx.body = sandboxScript();
      });

      router.get('/sandbox/api/state', guard, async (ctx) => {
        const who = person(ctx.query.user);
        const version = chat.version;
        ctx.body = {
          version,
          messages: chat.viewFor(who.id),
          people: SANDBOX_PEOPLE,
          platforms: [...core.publishers.values()].map((p) => ({ platform: p.platform, name: p.displayName })),
          published: platforms.published(),
          schedule: await scheduleFor(who, version),
        };
      });

      router.get('/sandbox/home', guard, async (ctx) => {
        const who = person(ctx.query.user ?? SANDBOX_PEOPLE[0]!.id);
        ctx.type = 'html';
        ctx.body = homePage(await core.inbound.home(homeReader(who)));
      });

      router.post('/sandbox/api/command', guard, async (ctx) => {
        const { fields, files } = await readCommand(ctx, uploadDir, config.publicUrl);
        const who = person(fields.user);
        const text = (fields.text ?? '').trim();
        chat.userMessage(who.id, files.length > 0 ? `${text} (📎 ${files.length} file${files.length > 1 ? 's' : ''})` : text);
        const commandText = text
          .replace(/^\/iqsp\b/i, '')
          .replace(/^@iqsp\b/i, '')
          .trim();
        try {
          await answer(who, await core.inbound.text(invocationOf(who), commandText, files));
        } finally {
          // The intake has its own copy by now (or refused it); the upload is not kept.
          for (const f of files) await rm(path.join(uploadDir, f.url.split('/').pop()!), { force: true });
        }
        ctx.body = { ok: true };
      });

      router.get('/sandbox/files/:id', guard, async (ctx) => {
        const id = String(ctx.params.id ?? '');
        if (!/^[0-9a-f-]{36}$/.test(id)) return void (ctx.status = 404);
        const file = path.join(uploadDir, id);
        try {
          ctx.length = (await stat(file)).size;
        } catch {
          return void (ctx.status = 404);
        }
        ctx.type = 'application/octet-stream';
        ctx.body = createReadStream(file);
      });

      router.post('/sandbox/api/react', guard, async (ctx) => {
        const body = await readJson(ctx);
        const who = person(body.user);
        const emoji = body.emoji === 'x' ? 'x' : 'white_check_mark';
        const remove = body.remove === true;
        if (!chat.react(String(body.messageId), who.id, emoji, remove)) return void (ctx.body = { ok: true, changed: false });
        await core.inbound.reaction({
          chat: chat.chat,
          workspaceExternalId: SANDBOX_WORKSPACE,
          messageId: String(body.messageId),
          mark: emoji === 'x' ? 'reject' : 'approve',
          change: remove ? 'remove' : 'add',
          decider: async () => ({ userExternalId: who.id, userName: who.name, isBot: false }),
        });
        ctx.body = { ok: true };
      });

      router.post('/sandbox/api/button', guard, async (ctx) => {
        const body = await readJson(ctx);
        const who = person(body.user);
        const outcome = await core.inbound.button({
          chat: chat.chat,
          workspaceExternalId: SANDBOX_WORKSPACE,
          actionId: String(body.actionId),
          value: String(body.value),
          messageId: typeof body.messageId === 'string' ? body.messageId : undefined,
          decider: async () => ({ userExternalId: who.id, userName: who.name, isBot: false }),
          invoker: async () => invocationOf(who),
        });
        ctx.body = { ok: true, ...(await pressed(who, outcome)) };
      });

      // The edit form's Save: what Slack's modal submission does, through the same core call.
      router.post('/sandbox/api/edit', guard, async (ctx) => {
        const body = await readJson(ctx);
        const who = person(body.user);
        const postId = formText(body.postId, 'postId');
        const caption = formText(body.caption, 'caption');
        const versions = new Map<Platform, string>();
        const given = body.versions && typeof body.versions === 'object' && !Array.isArray(body.versions) ? body.versions : {};
        for (const [platform, text] of Object.entries(given)) versions.set(knownPlatform(platform), formText(text, `versions.${platform}`));
        await answer(who, await core.inbound.submitEditForm(invocationOf(who), postId, { caption, versions }));
        ctx.body = { ok: true };
      });

      // The live counts under the edit form's fields (the Slack modal's dispatch_action).
      router.post('/sandbox/api/counts', guard, async (ctx) => {
        const body = await readJson(ctx);
        const platforms = Array.isArray(body.platforms) ? body.platforms.map((p) => knownPlatform(p)) : [];
        ctx.body = { counts: core.inbound.textCounts(platforms, formText(body.text, 'text')) };
      });
    };

    /** What a button press answers the page: an Edit opens the edit form there; a reply is said in the channel. */
    const pressed = async (who: SandboxPerson, outcome: ButtonOutcome): Promise<{ edit?: SandboxEditForm }> => {
      switch (outcome.kind) {
        case 'ignored':
        case 'decided':
          return {};
        case 'answered':
          await answer(who, outcome.reply);
          return {};
        case 'edit':
          return {
            edit: {
              postId: outcome.postId,
              caption: outcome.content.caption,
              versions: outcome.content.platforms.map((p) => ({
                platform: p.platform,
                name: core.publishers.get(p.platform)?.displayName ?? p.platform,
                version: p.version,
              })),
            },
          };
      }
    };

    const knownPlatform = (value: unknown): Platform => {
      const found = [...core.publishers.keys()].find((p) => p === value);
      if (!found) throw Object.assign(new Error(`unknown platform "${String(value)}"`), { status: 400 });
      return found;
    };

    logger.warn(
      `SANDBOX MODE: no chat or platform credentials are configured, so IQSP runs against simulated Slack-like chat and simulated ${publishesToList()} on this machine. Open ${config.publicUrl}/sandbox to try it. Nothing is published anywhere real. It answers on this machine only; IQSP_SANDBOX=off forbids it, and any real credential, DATABASE_URL or VAULT_KEY turns it off.`,
    );
    return { name: 'sandbox', port: chat, routes, attachmentHosts: [new URL(config.publicUrl).host] };
  };
}

/** A text field of a sandbox form: a string no longer than the form takes. */
function formText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length > MAX_FORM_TEXT)
    throw Object.assign(new Error(`${name} must be a text of at most ${MAX_FORM_TEXT} characters`), { status: 400 });
  return value;
}

async function readJson(ctx: RouterContext): Promise<Record<string, unknown>> {
  const body = await readBodyLimited(ctx.req, 64 * 1024);
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw Object.assign(new Error('the body must be a JSON object'), { status: 400 });
}
