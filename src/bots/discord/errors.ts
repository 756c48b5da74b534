/**
 * Discord errors, as the surface needs them: the API's JSON error code for branching, and a
 * loggable form without the interaction tokens that Discord puts in webhook and callback URLs
 * (`/webhooks/{app}/{token}`, `/interactions/{id}/{token}/callback`).
 */
import { DiscordAPIError, HTTPError } from 'discord.js';

/** Discord's JSON error code (e.g. 50007 "Cannot send messages to this user"), if `error` carries one. */
export function discordErrorCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
}

export function withoutInteractionTokens(url: string): string {
  return url.replace(/(\/webhooks\/[^/]+\/)[^/?#]+/g, '$1[redacted]').replace(/(\/interactions\/[^/]+\/)[^/?#]+/g, '$1[redacted]');
}

/** A plain object safe to log: name, message, Discord code and status, the request without its token. */
export function loggableError(error: unknown): Record<string, unknown> {
  if (error instanceof DiscordAPIError || error instanceof HTTPError)
    return {
      type: error.name,
      message: withoutInteractionTokens(error.message),
      status: error.status,
      ...(error instanceof DiscordAPIError ? { discordCode: error.code } : {}),
      request: `${error.method.toUpperCase()} ${withoutInteractionTokens(error.url)}`,
    };
  if (error instanceof Error)
    return {
      type: error.name,
      message: withoutInteractionTokens(error.message),
      stack: error.stack ? withoutInteractionTokens(error.stack) : undefined,
    };
  return { value: String(error) };
}
