import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';
import { redactDeep, redactText } from './redact.js';

export type { Logger };

/**
 * JSON logs on stdout, written synchronously so nothing is lost when the process exits. Every logged object and message passes through `redactDeep`, so a token
 * that ends up in a logged value — at any depth, in an error message, in a URL — is replaced.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'iqsp' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactDeep(object) as Record<string, unknown>,
      },
      hooks: {
        // The message string is not part of `object`; redact it too.
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>;
          method.apply(this, redacted);
        },
      },
      // pino's own serializers would bypass `formatters.log` for `err`; let redactDeep handle errors.
      serializers: { err: (e: unknown) => e },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}
