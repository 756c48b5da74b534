/**
 * What the chat-surface contract suite needs from a chat: one small interface that the Slack
 * and the Discord drivers both implement (like Kysely's one suite over every dialect), so the
 * same scenario runs through both. A scenario says what people do and see in chat terms;
 * each surface turns that into its own requests (signed Slack events, Discord gateway
 * events) and reads its own answers back. Where the two surfaces answer the same thing in
 * different forms, the surface asserts its form (`expectApprovalRequest`, `identity`,
 * `formAccepted`).
 */
import type { ConsentChoice, Simulators } from '../../src/simulators/index.js';
import { connectLinkIn, followConnectLink, ONE_PAGE, startFastSimulators, type PlatformName } from './platforms.js';
import { ServiceProcess } from './service.js';

/** Someone in the workspace (a Slack user, a Discord member). */
export interface Person {
  id: string;
  /** The handle: Slack's `name`, Discord's `username`. */
  name: string;
  /** The name shown: Slack's `real_name`, Discord's `global_name` (when the test set one). */
  displayName?: string | undefined;
}

/** A file a person attaches. `side` is the pixel size of a square image (Discord states it on attachments). */
export interface ChatFile {
  name: string;
  mimetype: string;
  bytes: Buffer;
  side?: number;
}

/** A post request as a person fills in the structured form (Slack's modal, Discord's `/iqsp post`). */
export interface PostForm {
  /** Comma-separated platforms, TikTok with its privacy (`x,tiktok:public`). */
  targets: string;
  caption: string;
  files?: ChatFile[];
}

/** An approval message the app posted in the channel. */
export interface ApprovalSeen {
  postId: string;
  /** The message's id: what reactions point at and the thread hangs from (Slack's ts, Discord's message id). */
  id: string;
  /** The preview (a /media/:token URL of the service). */
  imageUrl: string | undefined;
}

export interface ChatSurface {
  readonly kind: 'slack' | 'discord';
  readonly people: { alice: Person; bob: Person; carol: Person };
  /** A member the fake knows from the start (call before the service starts). */
  addPerson(name: string, displayName: string): Person;
  /** The child's settings for this surface. */
  env(): Record<string, string>;
  /** Told once the service runs (Slack sends its events to the service's URL). */
  attach(service: ServiceProcess): void;
  close(): Promise<void>;
  describe(): string;

  // ---- what people do -------------------------------------------------------------------------

  /** `/iqsp <line>` in the channel, as Slack types it; Discord sends the same as a structured slash command. Resolves with the answer. */
  command(person: Person, line: string): Promise<string>;
  /** A message in the channel mentioning the bot, with files when given. Resolves with its id. */
  mention(person: Person, text: string, files?: ChatFile[]): Promise<string>;
  /** The structured post form, filled in and sent; resolves with its answer (see `formAccepted`). */
  postForm(person: Person, form: PostForm): Promise<string>;
  /** What a person sees when a post form is accepted for post `postId`. */
  formAccepted(postId: string): string;
  /**
   * A request the app refuses, made the way this surface answers a refusal to the person's
   * face: Slack's mention (answered in its thread), Discord's `/iqsp post` (answered in place).
   * Resolves with the refusal.
   */
  refusedPost(person: Person, form: PostForm): Promise<string>;
  react(person: Person, messageId: string, emoji: '✅' | '❌'): Promise<void>;

  // ---- what people see ------------------------------------------------------------------------

  approvalCount(): number;
  /** The approval message of the next post after `before` approval messages, ready to be reacted to. */
  nextApproval(before: number): Promise<ApprovalSeen>;
  /** Checks how the approval message presents the request (each surface has its own layout). */
  expectApprovalRequest(approval: ApprovalSeen, request: { requester: Person; targets: string; caption: string }): Promise<void>;
  /** What the app said in the thread of message `messageId`, oldest first. */
  thread(messageId: string): string[];
  waitInThread(messageId: string, pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The approval message as it reads now (updated as the post moves on); '' before any update. */
  current(messageId: string): string;
  waitForDm(person: Person, pattern: RegExp): Promise<string>;
  /** The data export file the app sent `person` by DM after `/iqsp data`. */
  dataExport(person: Person): Promise<{ filename: string; text: string }>;
  /** The `you` part of `person`'s data export. */
  identity(person: Person): Record<string, unknown>;

  /**
   * Called just before the service is killed; what it returns checks, once the restarted
   * service has settled the post, what this surface must show of the restart.
   */
  beforeRestart(): (approval: ApprovalSeen, requester: Person) => Promise<void>;
}

/** Simulators, a chat surface and the built service running against both. */
export interface SurfaceWorld<S extends ChatSurface = ChatSurface> {
  sims: Simulators;
  surface: S;
  service: ServiceProcess;
  close(): Promise<void>;
}

/**
 * Starts the simulators and the surface, lets `setup` add people before the service starts,
 * then starts the service against both.
 */
export async function startWorld<S extends ChatSurface>(
  start: () => Promise<S>,
  setup: (surface: S) => void = () => {},
): Promise<SurfaceWorld<S>> {
  const [sims, surface] = await Promise.all([startFastSimulators(), start()]);
  setup(surface);
  const service = await ServiceProcess.start({ ...sims.env, ...surface.env() });
  surface.attach(service);
  return {
    sims,
    surface,
    service,
    close: async () => {
      await service.close();
      await Promise.all([sims.close(), surface.close()]);
    },
  };
}

export const ALL_PLATFORMS: ReadonlyArray<readonly [PlatformName, ConsentChoice?]> = [
  ['x'],
  ['facebook', ONE_PAGE],
  ['instagram', ONE_PAGE],
  ['tiktok'],
];

/** `person` connects each platform (the consent answered with its choice), failing loudly when one does not connect. */
export async function connectAccounts(
  world: SurfaceWorld,
  person: Person,
  platforms: ReadonlyArray<readonly [PlatformName, ConsentChoice?]> = ALL_PLATFORMS,
): Promise<void> {
  for (const [platform, choice] of platforms) {
    const outcome = await followConnectLink(world.sims, connectLinkIn(await world.surface.command(person, `connect ${platform}`)), choice);
    if (outcome.status !== 200) throw new Error(`connecting ${platform} failed: ${outcome.html}`);
  }
}
