/**
 * Bolt's receiver inside our HTTP server (modelled on bolt-js's examples/custom-receiver
 * KoaReceiver; `POST /slack/events` is a node route, served without Koa once loaded: NodeRoute in
 * http/app.ts), plus Socket Mode for development without a public URL. Either way the
 * same Bolt App processes the request, but for slash commands over HTTP, which the receiver
 * acknowledges itself and hands to the command runner (slash-command.ts) without Bolt's middleware.
 *
 * HTTP (`POST /slack/events`): the signature is checked before anything else (v0
 * HMAC-SHA256 over the raw body; a timestamp more than 5 minutes off either way is refused);
 * a refused request gets 401 and nothing else happens; a malformed body gets 400. Then
 * `url_verification` and `ssl_check` are answered. A signature seen before is a replay (Slack
 * signs every delivery afresh, retries included: its last retry comes 5 minutes after the first
 * try, past the window of the first timestamp); it gets an empty 200 and nothing happens. A
 * slash command is acknowledged (an empty 200) at once and queued, acks first; its signature is
 * claimed in its turn, before its work (acknowledgeCommand, after-ack-queue.ts); everything else
 * is claimed, then goes to Bolt with an ack that writes the HTTP response: listeners ack at once
 * and do their work after, so Slack has its answer within 3 s.
 *
 * Work still running after the ack is tracked, so stopping waits for it before the database
 * closes.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { App, BufferedIncomingMessage, Receiver, ReceiverEvent, SlashCommand, Logger as SlackLogger } from '@slack/bolt';
import { HTTPModuleFunctions, HTTPResponseAck, ReceiverMultipleAckError } from './bolt.js';
import { SocketModeClient } from '@slack/socket-mode';
import { BodyTooLargeError, readBodyLimited } from '../../http/body.js';
import { postToResponseUrl } from './respond.js';
import { AfterAckQueue, type AfterAckQueueOptions, type QueuedJob } from './after-ack-queue.js';
import type { Logger } from '../../observability/logger.js';

const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface SlackReceiverOptions {
  /** Absent in Socket Mode without HTTP: nothing can be verified, so every HTTP request is refused. */
  signingSecret: string | undefined;
  logger: Logger;
  slackLogger: SlackLogger;
  bodyLimitBytes: number;
  /** Socket Mode: an app-level token (xapp-…) and the API base `apps.connections.open` is called on. */
  socketMode?: { appToken: string; apiUrl: string } | undefined;
  /** How long `stop()` waits for work that is still running. */
  drainMs: number;
  /**
   * Claims a verified request by its signature's hash; false when it was claimed before (by
   * this instance or another one sharing the database). Kept longer than a signature is valid.
   */
  claimSignature: (signatureHash: string) => Promise<boolean>;
  /** Whether a signature is known to be claimed already, without asking the database (true: a replay). */
  signatureKnown?: (signatureHash: string) => boolean;
  /** How many slash commands' work (after their ack) runs at once; the rest wait their turn in order. */
  commandConcurrency?: number;
  /** How long one command's work holds its place before the next may start beside it (AfterAckQueue). */
  commandPlaceMs?: number;
  /** Counts a body refused for its size while it streamed (as the HTTP layer counts a declared one). */
  tooLarge?: () => void;
  /** What a pause in the requests is, and the longest a command waits for one (AfterAckQueue's defaults otherwise). */
  commandPause?: Pick<AfterAckQueueOptions, 'quietMs' | 'maxWaitMs'>;
}

interface SocketModeEventArgs {
  ack: (response?: unknown) => Promise<void>;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}

type Refusal = 'signature' | 'timestamp' | 'too-large' | 'malformed' | 'incomplete' | 'no-signing-secret';

/** The hash a request is remembered by: the signature itself is not kept. */
export function signatureHash(signature: string): string {
  return createHash('sha256').update(signature).digest('hex');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Slack sends forms as `application/x-www-form-urlencoded`; a proxy may add a charset. */
function parseBody(text: string, contentType: string | undefined): Record<string, unknown> {
  if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded') {
    const form = parseQuery(text);
    if (form.payload === undefined) return form;
    // An interactive payload is a JSON object: `payload=null`, a string, a number or an array is malformed.
    if (typeof form.payload !== 'string') throw new SyntaxError('the form has more than one payload');
    return jsonObject(form.payload, 'the payload');
  }
  return jsonObject(text, 'the body');
}

function jsonObject(text: string, what: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SyntaxError(`${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Slack's v0 signature (`v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`), compared in
 * constant time; a timestamp older than 5 minutes is refused (as Bolt's verifySlackRequest).
 */
export function verifiedSignature(
  signingSecret: string,
  signature: string | undefined,
  timestamp: number,
  body: string,
  nowMs: number,
): boolean {
  if (signature === undefined || Number.isNaN(timestamp)) return false;
  if (timestamp < Math.floor(nowMs / 1000) - MAX_CLOCK_SKEW_SECONDS) return false;
  const [version, given] = signature.split('=');
  if (version !== 'v0' || !given) return false;
  const expected = Buffer.from(createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex'));
  const offered = Buffer.from(given);
  return offered.length === expected.length && timingSafeEqual(offered, expected);
}

/**
 * An acknowledged slash command while it waits its turn: its bytes and how they are encoded. The
 * bytes are held outside the JavaScript heap, so a flood's queued commands are not copied by every
 * young-generation collection (each parsed form was ~1.2 KB of heap, in dictionary mode); the form
 * is parsed again when the command's work starts (it parsed before, so it parses again).
 */
interface RawForm {
  raw: Buffer;
  contentType: string | undefined;
}

function parsedForm(form: RawForm): Record<string, unknown> {
  return parseBody(form.raw.toString('utf8'), form.contentType);
}

/** An acknowledged slash command waiting for its turn: a few fields; its work is the receiver's. */
class QueuedCommand implements QueuedJob {
  constructor(
    private readonly receiver: SlackReceiver,
    readonly form: RawForm,
    readonly hash: string,
    readonly retryNum: number | undefined,
    readonly retryReason: string | undefined,
  ) {}

  run(): Promise<void> {
    return this.receiver.runQueued(this);
  }

  abandon(): void {
    this.receiver.abandonQueued(this);
  }
}

/** Bolt's event for a command already acknowledged: its listener's `ack` sends nothing. */
function acknowledgedEvent(body: Record<string, unknown>, retryNum: number | undefined, retryReason: string | undefined): ReceiverEvent {
  let acked = false;
  return {
    body,
    ack: (response?: unknown) => {
      if (acked) return Promise.reject(new ReceiverMultipleAckError());
      acked = true;
      if (response !== undefined && response !== '')
        return Promise.reject(new Error('a slash command is acknowledged before its listener runs; reply through respond'));
      return Promise.resolve();
    },
    retryNum,
    retryReason,
  };
}

function ended(res: ServerResponse): Promise<void> {
  if (res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
  });
}

/** Enough to keep Slack's API busy for a burst of commands; few enough that acks come first. */
const COMMAND_CONCURRENCY = 8;
/** How long a command's work holds its place before the next one may start beside it. */
const COMMAND_PLACE_MS = 250;

export class SlackReceiver implements Receiver {
  private app: App | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly socket: SocketModeClient | undefined;
  private readonly commands: AfterAckQueue;
  /** Signatures of the commands queued and not yet claimed: a replay of one takes no place. */
  private readonly unclaimed = new Set<string>();
  /** Runs an acknowledged slash command without Bolt (slash-command.ts); unset, Bolt processes it. */
  private commandRunner: ((command: SlashCommand) => Promise<void>) | undefined;

  constructor(private readonly options: SlackReceiverOptions) {
    this.commands = new AfterAckQueue(
      options.commandConcurrency ?? COMMAND_CONCURRENCY,
      options.commandPlaceMs ?? COMMAND_PLACE_MS,
      options.commandPause,
    );
    if (options.socketMode) {
      this.socket = new SocketModeClient({
        appToken: options.socketMode.appToken,
        logger: options.slackLogger,
        clientOptions: { slackApiUrl: options.socketMode.apiUrl },
      });
      this.socket.on('slack_event', (args: SocketModeEventArgs) => this.onSocketEvent(args));
    }
  }

  init(app: App): void {
    this.app = app;
  }

  /** Slash commands over HTTP go to `run` after their ack and claim, not through Bolt's middleware. */
  runCommandsWith(run: (command: SlashCommand) => Promise<void>): void {
    this.commandRunner = run;
  }

  async start(): Promise<void> {
    if (this.socket) await this.socket.start();
  }

  async stop(): Promise<void> {
    // Commands whose work has not started are told so now, while the database is still open for the rest.
    this.commands.close();
    if (this.socket) await this.socket.disconnect();
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, this.options.drainMs).unref());
    await Promise.race([this.idle(), deadline]);
  }

  /**
   * Resolves once no work started by requests is running (tests and shutdown wait on it),
   * including work that running work started meanwhile (a word to a person whose command was abandoned).
   */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.commands.busy) await Promise.allSettled([...this.running, this.commands.settled()]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    return work;
  }

  private replayDropped(): void {
    this.options.logger.warn({ reason: 'replay' }, 'Slack request dropped: its signature was seen before (a replay)');
  }

  private refuse(res: ServerResponse, reason: Refusal, status: number, error?: string): void {
    this.options.logger.warn({ reason }, `Slack request refused (${reason})`);
    if (error === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const body = JSON.stringify({ error });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** `POST /slack/events`: the caller hands over the raw Node request and response. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const app = this.app;
    if (!app) throw new Error('the Slack receiver was not initialised by a Bolt App');
    const { signingSecret } = this.options;
    if (signingSecret === undefined) {
      req.resume();
      this.refuse(res, 'no-signing-secret', 401);
      return;
    }

    // Bolt refuses stale timestamps; a timestamp from the future is refused here.
    const timestamp = Number(header(req, 'x-slack-request-timestamp'));
    if (Number.isFinite(timestamp) && timestamp - Date.now() / 1000 > MAX_CLOCK_SKEW_SECONDS) {
      req.resume();
      this.refuse(res, 'timestamp', 401);
      return;
    }

    // Read under the limit while it streams (chunked or not).
    let rawBody: Buffer;
    try {
      rawBody = await readBodyLimited(req, this.options.bodyLimitBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        // The same answer, and the same count, as a body whose declared length is over the limit.
        this.options.tooLarge?.();
        this.refuse(res, 'too-large', 413, error.message);
        return;
      }
      // The client went away before its body ended: nobody waits for an answer, and nothing failed here.
      if ((error as { status?: unknown }).status === 400) {
        this.refuse(res, 'incomplete', 400);
        return;
      }
      throw error;
    }
    const buffered: BufferedIncomingMessage = Object.assign(req, { rawBody });
    const contentType = header(req, 'content-type');
    const text = rawBody.toString('utf8');

    // Slack's `ssl_check=1` is not signed (Bolt's rule: a form with exactly this content type);
    // it is answered, and anything smuggled beside it is ignored. Nothing is claimed for it.
    if (contentType === 'application/x-www-form-urlencoded' && text.includes('ssl_check') && parseQuery(text).ssl_check === '1') {
      HTTPModuleFunctions.buildSSLCheckResponse(res);
      return;
    }
    if (!verifiedSignature(signingSecret, header(req, 'x-slack-signature'), timestamp, text, Date.now())) {
      this.refuse(res, 'signature', 401);
      return;
    }
    // A request from Slack is acknowledged before queued command work starts (AfterAckQueue); one
    // that is not Slack's (refused above) holds nothing back.
    this.commands.arrived();

    let body: Record<string, unknown>;
    try {
      body = parseBody(text, contentType);
    } catch {
      this.refuse(res, 'malformed', 400);
      return;
    }
    if (body.ssl_check) {
      HTTPModuleFunctions.buildSSLCheckResponse(res);
      return;
    }
    if (body.type === 'url_verification') {
      HTTPModuleFunctions.buildUrlVerificationResponse(res, body);
      return;
    }

    // Verified, so the signature header is there and is Slack's; a second sight of it is a replay.
    const hash = signatureHash(header(req, 'x-slack-signature') ?? '');
    if (typeof body.command === 'string' && body.payload === undefined) {
      this.acknowledgeCommand(req, res, { raw: rawBody, contentType }, hash);
      return;
    }
    if (!(await this.options.claimSignature(hash))) {
      this.replayDropped();
      HTTPModuleFunctions.buildNoBodyResponse(res, 200);
      return;
    }

    const ack = new HTTPResponseAck({
      logger: this.options.slackLogger,
      processBeforeResponse: false,
      httpRequest: buffered,
      httpRequestBody: body,
      httpResponse: res,
    });
    const event: ReceiverEvent = {
      body,
      ack: ack.bind(),
      retryNum: HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req),
      retryReason: HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req),
    };
    const work = this.track(
      app.processEvent(event).catch(async (error: unknown) => {
        // Bolt reads the body's shape before any listener runs: a signed body whose parts have the
        // wrong JSON type (`event: 0`, `actions: null`, `authorizations: [42]`) throws a TypeError
        // there. That is a malformed request (400), not a failure of the service (500).
        if (error instanceof TypeError && !res.headersSent) {
          this.refuse(res, 'malformed', 400);
          return;
        }
        await HTTPModuleFunctions.defaultProcessEventErrorHandler({
          error: error instanceof Error ? error : new Error(String(error)),
          logger: this.options.slackLogger,
          request: req,
          response: res,
          storedResponse: ack.storedResponse as unknown,
        });
      }),
    );
    // The request is over once Slack has its answer; the listener's work goes on.
    await Promise.race([work, ended(res)]);
  }

  /**
   * A slash command's answer is always an empty 200: the command listener acknowledges before
   * anything else, Bolt acknowledges a command from a workspace it cannot authorise too, and a
   * replay gets the same empty 200. So it is sent at once, and the command is queued (AfterAckQueue,
   * acks first, in the order commands came) as one small object (QueuedCommand); a replay known
   * already (of a command still queued, or claimed lately) is dropped instead and takes no place. In its turn its signature is claimed (the claim's
   * write, an fsync on SQLite, is off the ack's path), then a fresh command's work runs (the command
   * runner, or Bolt's middleware and the listener); a replay is dropped there. When the claim
   * cannot be made (the database failing), or the service stops before the command's turn, nothing
   * runs and the person is told so through the command's response_url. A listener that tried to
   * answer with a body would be told so (its `ack` throws): a command's reply goes through its
   * response_url.
   */
  private acknowledgeCommand(req: IncomingMessage, res: ServerResponse, form: RawForm, hash: string): void {
    HTTPModuleFunctions.buildNoBodyResponse(res, 200);
    // A replay known now (of a command waiting for its turn, or claimed lately) takes no place in the queue.
    if (this.unclaimed.has(hash) || this.options.signatureKnown?.(hash)) {
      this.replayDropped();
      return;
    }
    this.unclaimed.add(hash);
    this.commands.push(
      new QueuedCommand(
        this,
        form,
        hash,
        HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req),
        HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req),
      ),
    );
  }

  /** A queued command's claim (QueuedCommand); its signature is no longer waiting for one after. */
  claimQueued(command: QueuedCommand): Promise<boolean> {
    return this.options.claimSignature(command.hash).finally(() => this.unclaimed.delete(command.hash));
  }

  /**
   * A queued command's turn: claimed in its turn, in the order commands came (during a flood no
   * claim is written, no database write and no wake of the claims worker, until the acks are out);
   * the claim still comes before any work, so a replay is dropped unrun.
   */
  async runQueued(command: QueuedCommand): Promise<void> {
    const fresh = await this.claimQueued(command).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'a Slack command was not run: its delivery could not be recorded');
      this.tell(
        command,
        'IQSP could not take this command just now (its database did not answer). Nothing was run; try again in a minute.',
      );
      return undefined;
    });
    if (fresh === false) this.replayDropped();
    if (!fresh) return;
    const body = parsedForm(command.form);
    const [run, app] = [this.commandRunner, this.app];
    if (!run && !app) return;
    await (
      run ? run(body as unknown as SlashCommand) : app!.processEvent(acknowledgedEvent(body, command.retryNum, command.retryReason))
    ).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'a Slack command failed after its ack');
    });
  }

  /**
   * A queued command dropped because the service stops: claimed all the same (the commands dropped
   * now go to the database together, while it is still open), so its signed request cannot run
   * later, replayed to this instance once restarted or to another; then its person is told. A
   * replay of a command claimed before is dropped without a word.
   */
  abandonQueued(command: QueuedCommand): void {
    void this.track(
      this.claimQueued(command).then(
        (fresh) => {
          if (!fresh) return this.replayDropped();
          this.stoppedBefore(command);
        },
        () => this.stoppedBefore(command),
      ),
    );
  }

  private stoppedBefore(command: QueuedCommand): void {
    this.options.logger.warn('a Slack command was not run: IQSP is stopping');
    this.tell(command, 'IQSP is restarting and did not run this command. Nothing was done; try it again in a minute.');
  }

  /** A word to the command's person through its response_url; tracked, so stopping waits for it (within drainMs). */
  private tell(command: QueuedCommand, text: string): void {
    const responseUrl = parsedForm(command.form).response_url;
    if (typeof responseUrl !== 'string') return;
    void this.track(
      Promise.resolve()
        .then(() => postToResponseUrl(responseUrl, { response_type: 'ephemeral', text }))
        .then(
          () => undefined,
          (error: unknown) => this.options.logger.warn({ err: error }, 'response_url failed'),
        ),
    );
  }

  private onSocketEvent(args: SocketModeEventArgs): void {
    const app = this.app;
    if (!app) return;
    let acked = false;
    const event: ReceiverEvent = {
      body: args.body,
      ack: async (response?: unknown) => {
        if (acked) throw new ReceiverMultipleAckError();
        acked = true;
        await args.ack(response);
      },
      retryNum: args.retry_num,
      retryReason: args.retry_reason,
    };
    void this.track(
      app.processEvent(event).catch(async (error: unknown) => {
        this.options.logger.error({ err: error }, 'a Slack event from Socket Mode failed');
        if (!acked) await event.ack().catch(() => undefined);
      }),
    );
  }
}
