/**
 * Bolt, the OAuth installer and the Socket Mode client log through @slack/logger's interface;
 * this routes them into our pino logger, so their lines are JSON and pass through redaction
 * like every other line.
 */
import type { Logger as SlackLogger } from '@slack/bolt';
import { LogLevel } from './bolt.js';
import type { Logger } from '../../observability/logger.js';

function line(parts: unknown[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p))).join(' ');
}

function levelOf(logger: Logger): LogLevel {
  switch (logger.level) {
    case 'debug':
    case 'trace':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}

export function slackLogger(logger: Logger, name = 'slack'): SlackLogger {
  let child = logger.child({ component: name });
  return {
    // The line is only built when it is written: Bolt logs at debug on every request.
    debug: (...msg: unknown[]) => {
      if (child.isLevelEnabled('debug')) child.debug(line(msg));
    },
    info: (...msg: unknown[]) => {
      if (child.isLevelEnabled('debug')) child.debug(line(msg)); // Bolt's info lines are chatty; ours say what matters
    },
    warn: (...msg: unknown[]) => child.warn(line(msg)),
    error: (...msg: unknown[]) => child.error(line(msg)),
    // The level is ours (LOG_LEVEL); Bolt may not change it.
    setLevel: () => undefined,
    getLevel: () => levelOf(logger),
    setName: (next: string) => {
      child = logger.child({ component: next });
    },
  };
}
