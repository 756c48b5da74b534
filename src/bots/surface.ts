/**
 * A chat surface (Slack, Discord, the sandbox): how it plugs into the process. A surface
 * translates between its chat platform and the core; it decides no product rules.
 */
import type Router from '@koa/router';
import type { NodeRoute } from '../http/app.js';
import type { BackgroundService, Core, Services } from '../runtime.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { ChatPort } from '../core/ports/chat.js';

export interface Surface {
  name: string;
  /** What the core uses to talk in this chat. */
  port: ChatPort;
  /** HTTP routes the surface needs (Slack's /slack/events, install pages). */
  routes?: (router: Router) => void;
  /** HTTP routes that write the Node response themselves, served without Koa once loaded (Slack's events). */
  nodeRoutes?: readonly NodeRoute[];
  /** Hosts (host:port) this surface's attachments are downloaded from, beyond the configured ones. */
  attachmentHosts?: string[];
  /** Long-running parts (a gateway connection, Socket Mode), started after the HTTP server. */
  background?: BackgroundService[];
}

export interface SurfaceContext {
  config: Config;
  core: Core;
  services: Services;
  logger: Logger;
}

/** Builds the surface when its configuration is present; undefined when it is off. */
export type SurfaceFactory = (context: SurfaceContext) => Surface | undefined | Promise<Surface | undefined>;
