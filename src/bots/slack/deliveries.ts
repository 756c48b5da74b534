/**
 * The keys the same Slack delivery is handled once by (the core's claimDelivery): Slack
 * retries an event it thinks was not received (X-Slack-Retry-Num), a message that mentions the
 * bot arrives twice, as `message` and as `app_mention`, and a replayed request reuses its
 * signature. The first delivery claims its key; later ones find it taken, on every instance.
 */
import type { ListenerDependencies } from './context.js';

export const eventKey = (eventId: string): string => `slack:event:${eventId}`;
/** A verified HTTP request, by the hash of its signature: a replay finds it taken. */
export const signatureKey = (signatureHash: string): string => `slack:signature:${signatureHash}`;
export const messageKey = (teamId: string, channelId: string, ts: string): string => `slack:message:${teamId}:${channelId}:${ts}`;

/** Slack retries an event it thinks we missed; the first delivery claims the event id, later ones stop here. */
export function registerEventDedup({ app, core, logger }: Pick<ListenerDependencies, 'app' | 'core' | 'logger'>): void {
  app.use(async ({ body, next }) => {
    const envelope = body as { type?: unknown; event_id?: unknown };
    if (
      envelope.type === 'event_callback' &&
      typeof envelope.event_id === 'string' &&
      !(await core.inbound.claimDelivery(eventKey(envelope.event_id)))
    ) {
      logger.debug({ eventId: envelope.event_id }, 'Slack delivered an event again; it was handled already');
      return;
    }
    await next();
  });
}
