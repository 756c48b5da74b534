/** Bolt's debug lines are built only when debug is on (issue 19: Bolt logs at debug on every request). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { slackLogger } from '../../../src/bots/slack/logger.js';
import { createLogger } from '../../../src/observability/logger.js';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, stream };
}

describe('slackLogger', () => {
  it('does not serialise a debug or info line below debug, and does at debug', () => {
    let serialised = 0;
    const costly = {
      toJSON: () => {
        serialised += 1;
        return { big: true };
      },
    };
    const quiet = sink();
    const atInfo = slackLogger(createLogger('info', quiet.stream));
    atInfo.debug('middleware', costly);
    atInfo.info('listener', costly);
    expect(serialised).toBe(0);
    expect(quiet.lines).toEqual([]);
    const loud = sink();
    slackLogger(createLogger('debug', loud.stream)).debug('middleware', costly);
    expect(serialised).toBe(1);
    expect(loud.lines.join('')).toContain('middleware {\\"big\\":true}');
  });
});
