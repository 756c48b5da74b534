/**
 * `<when>` (contract.md §4 "When"; src/core/schedule/when.ts): reading the words, and resolving
 * them to an instant in the requester's zone with the clock faked (`now`), across the
 * daylight-saving changes of Europe/Berlin, America/New_York and Australia/Lord_Howe.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWhenOnly, readWhen, resolveWhen, type Resolution, type When } from '../../../src/core/schedule/when.js';
import { fuzzParameters } from '../../fuzz/fuzz-settings.js';
import { minuteInstant, nearTransition, wallClock, zone } from './zone-arbitraries.js';

const iso = (text: string) => new Date(text);

/** Reads `text` as a when (the whole of it) and resolves it at `now` in `zone`. */
async function resolve(
  text: string,
  zone: string,
  now: string,
  maxDays = 30,
  nextSlot?: () => Promise<Date | undefined>,
): Promise<Resolution> {
  const parsed = parseWhenOnly(text);
  if (!parsed.ok) throw new Error(`"${text}" did not parse: ${parsed.message}`);
  return resolveWhen(parsed.when, { now: iso(now), zone, maxDays, ...(nextSlot ? { nextSlot } : {}) });
}

async function resolvedAt(text: string, zone: string, now: string, maxDays = 30): Promise<{ at: string; note: string | undefined }> {
  const result = await resolve(text, zone, now, maxDays);
  if (!result.ok) throw new Error(`"${text}" was refused: ${result.message}`);
  return { at: result.at!.toISOString(), note: result.note };
}

async function refusal(text: string, zone: string, now: string, maxDays = 30): Promise<string> {
  const result = await resolve(text, zone, now, maxDays);
  if (result.ok) throw new Error(`"${text}" resolved to ${result.at?.toISOString()}, expected a refusal`);
  return result.message;
}

describe('resolveWhen across daylight saving, the clock faked', () => {
  describe('Europe/Berlin', () => {
    const zone = 'Europe/Berlin';
    const saturday = '2026-03-28T12:00:00Z'; // Sat 28 Mar 13:00 CET, the day before the clocks go forward

    it('refuses 02:30 on 29 March 2026, naming the gap and its hour', async () => {
      const expected =
        '02:30 on Sun 29 Mar 2026 does not exist in Europe/Berlin: the clocks jump forward 1 hour that night (daylight saving time). Choose another time.';
      expect(await refusal('at 2026-03-29 02:30', zone, saturday)).toBe(expected);
      expect(await refusal('tomorrow 02:30', zone, saturday)).toBe(expected);
      // Today's 02:30 has passed, so `at 02:30` is tomorrow's: the one that does not exist.
      expect(await refusal('at 02:30', zone, saturday)).toBe(expected);
      // Just after midnight on the day itself, the gap is still ahead.
      expect(await refusal('at 02:30', zone, '2026-03-28T23:30:00Z')).toBe(expected);
    });

    it('the times either side of the gap are fine, and once the gap has passed `at 02:30` is the next day’s', async () => {
      expect((await resolvedAt('at 2026-03-29 01:59', zone, saturday)).at).toBe('2026-03-29T00:59:00.000Z');
      expect((await resolvedAt('at 2026-03-29 03:00', zone, saturday)).at).toBe('2026-03-29T01:00:00.000Z');
      // Sun 29 Mar 04:00 CEST: today's 02:30 never came and is behind us; the next 02:30 is Monday's (CEST now).
      expect(await resolvedAt('at 02:30', zone, '2026-03-29T02:00:00Z')).toEqual({ at: '2026-03-30T00:30:00.000Z', note: undefined });
    });

    it('02:30 on 25 October 2026 happens twice: the first (00:30 UTC), and the note says so', async () => {
      const { at, note } = await resolvedAt('at 2026-10-25 02:30', zone, '2026-10-20T10:00:00Z');
      expect(at).toBe('2026-10-25T00:30:00.000Z');
      expect(note).toBe(
        '02:30 happens twice on Sun 25 Oct 2026 in Europe/Berlin (the clocks go back 1 hour); IQSP takes the first, 02:30 CEST.',
      );
      expect(await resolvedAt('tomorrow 02:30', zone, '2026-10-24T10:00:00Z')).toEqual({ at, note });
      expect(await resolvedAt('at 02:30', zone, '2026-10-24T10:00:00Z')).toEqual({ at, note });
    });

    it('`at 02:30` during the repeated hour, after the first 02:30: the second one is the next such time', async () => {
      // 02:45 CEST: the first 02:30 has passed, the second (CET) is 45 minutes away.
      const { at, note } = await resolvedAt('at 02:30', zone, '2026-10-25T00:45:00Z');
      expect(at).toBe('2026-10-25T01:30:00.000Z');
      expect(note).toBe(
        '02:30 happens twice on Sun 25 Oct 2026 in Europe/Berlin (the clocks go back 1 hour); the first has passed, so IQSP takes the second, 02:30 CET.',
      );
      // 02:45 CET: both have passed; tomorrow's.
      expect(await resolvedAt('at 02:30', zone, '2026-10-25T01:45:00Z')).toEqual({ at: '2026-10-26T01:30:00.000Z', note: undefined });
    });

    it('`at HH:MM` is today when it is ahead, else tomorrow, across the day the clocks go back', async () => {
      // Sun 25 Oct 01:00 CEST.
      expect((await resolvedAt('at 03:00', zone, '2026-10-24T23:00:00Z')).at).toBe('2026-10-25T02:00:00.000Z');
      expect((await resolvedAt('at 00:30', zone, '2026-10-24T23:00:00Z')).at).toBe('2026-10-25T23:30:00.000Z');
      // Sat 24 Oct 23:00 CEST: 22:00 has passed → Sunday 22:00, after the change (CET).
      expect((await resolvedAt('at 22:00', zone, '2026-10-24T21:00:00Z')).at).toBe('2026-10-25T21:00:00.000Z');
      expect((await resolvedAt('at 23:30', zone, '2026-10-24T21:00:00Z')).at).toBe('2026-10-24T21:30:00.000Z');
    });

    it('`tomorrow HH:MM` is the next calendar day in the zone, whatever UTC’s day is', async () => {
      // 23:30 UTC on Saturday 28 March is already Sunday in Berlin: tomorrow is Monday.
      expect((await resolvedAt('tomorrow 09:00', zone, '2026-03-28T23:30:00Z')).at).toBe('2026-03-30T07:00:00.000Z');
      expect((await resolvedAt('tomorrow 09:00', zone, saturday)).at).toBe('2026-03-29T07:00:00.000Z');
    });
  });

  describe('America/New_York', () => {
    const zone = 'America/New_York';

    it('refuses 02:30 on 8 March 2026 (the clocks jump forward an hour)', async () => {
      expect(await refusal('at 2026-03-08 02:30', zone, '2026-03-07T15:00:00Z')).toBe(
        '02:30 on Sun 8 Mar 2026 does not exist in America/New_York: the clocks jump forward 1 hour that night (daylight saving time). Choose another time.',
      );
      expect(await refusal('tomorrow 02:30', zone, '2026-03-07T15:00:00Z')).toMatch(/does not exist in America\/New_York/);
    });

    it('01:30 on 1 November 2026 happens twice: the first, 05:30 UTC', async () => {
      const { at, note } = await resolvedAt('at 2026-11-01 01:30', zone, '2026-10-31T15:00:00Z');
      expect(at).toBe('2026-11-01T05:30:00.000Z');
      expect(note).toBe(
        '01:30 happens twice on Sun 1 Nov 2026 in America/New_York (the clocks go back 1 hour); IQSP takes the first, 01:30 EDT.',
      );
      expect((await resolvedAt('tomorrow 01:30', zone, '2026-10-31T15:00:00Z')).at).toBe(at);
      expect((await resolvedAt('at 01:30', zone, '2026-10-31T15:00:00Z')).at).toBe(at);
    });
  });

  describe('Australia/Lord_Howe (a 30-minute shift)', () => {
    const zone = 'Australia/Lord_Howe';

    it('refuses 02:15 on 4 October 2026, naming the 30 minutes', async () => {
      expect(await refusal('at 2026-10-04 02:15', zone, '2026-10-01T00:00:00Z')).toBe(
        '02:15 on Sun 4 Oct 2026 does not exist in Australia/Lord_Howe: the clocks jump forward 30 minutes that night (daylight saving time). Choose another time.',
      );
      expect((await resolvedAt('at 2026-10-04 02:30', zone, '2026-10-01T00:00:00Z')).at).toBe('2026-10-03T15:30:00.000Z');
    });

    it('01:45 on 5 April 2026 happens twice: the first', async () => {
      const { at, note } = await resolvedAt('at 2026-04-05 01:45', zone, '2026-04-01T00:00:00Z');
      expect(at).toBe('2026-04-04T14:45:00.000Z');
      expect(note).toBe(
        '01:45 happens twice on Sun 5 Apr 2026 in Australia/Lord_Howe (the clocks go back 30 minutes); IQSP takes the first, 01:45 GMT+11.',
      );
    });
  });

  it('`in 90m`, `in 2h`, `in 3d` are plain durations, not wall-clock times (3 days over a spring-forward are 72 hours)', async () => {
    const now = '2026-03-27T11:00:00Z'; // Fri 12:00 CET
    expect((await resolvedAt('in 90m', 'Europe/Berlin', now)).at).toBe('2026-03-27T12:30:00.000Z');
    expect((await resolvedAt('in 2h', 'Europe/Berlin', now)).at).toBe('2026-03-27T13:00:00.000Z');
    // Mon 30 Mar 13:00 CEST: 72 hours later, though the wall clock moved 73.
    expect((await resolvedAt('in 3d', 'Europe/Berlin', now)).at).toBe('2026-03-30T11:00:00.000Z');
    expect((await resolvedAt('in 3d', 'UTC', now)).at).toBe('2026-03-30T11:00:00.000Z');
  });

  it('refuses a time in the past, saying what time it is now', async () => {
    const now = '2026-03-28T12:00:00Z';
    expect(await refusal('at 2026-03-01 09:00', 'Europe/Berlin', now)).toBe(
      'Sun 1 Mar 09:00 CET is in the past (it is Sat 28 Mar 13:00 CET now). Choose a later time.',
    );
    // Exactly now is not ahead either.
    expect(await refusal('at 2026-03-28 13:00', 'Europe/Berlin', now)).toMatch(/is in the past/);
    expect(await refusal('at 2025-12-31 23:00', 'Europe/Berlin', now)).toBe(
      'Wed 31 Dec 2025 23:00 CET is in the past (it is Sat 28 Mar 13:00 CET now). Choose a later time.',
    );
    const picked = await resolveWhen({ kind: 'instant', at: iso('2026-03-28T11:59:00Z') }, { now: iso(now), zone: 'UTC', maxDays: 30 });
    expect(picked).toMatchObject({ ok: false, message: expect.stringMatching(/is in the past/) });
  });

  it('refuses a time beyond SCHEDULE_MAX_DAYS, naming the limit', async () => {
    const now = '2026-03-01T12:00:00Z';
    expect((await resolvedAt('in 30d', 'UTC', now)).at).toBe('2026-03-31T12:00:00.000Z');
    expect(await refusal('in 31d', 'UTC', now)).toBe(
      'Wed 1 Apr 12:00 UTC is more than 30 days ahead; posts can be scheduled until Tue 31 Mar 12:00 UTC (SCHEDULE_MAX_DAYS).',
    );
    expect(await refusal('at 2026-04-01 09:00', 'Europe/Berlin', now, 30)).toMatch(/more than 30 days ahead/);
    expect(await refusal('in 8d', 'Europe/Berlin', now, 7)).toMatch(/more than 7 days ahead.*SCHEDULE_MAX_DAYS/);
    expect(await refusal('in 99999d', 'UTC', now)).toMatch(/more than 30 days ahead/);
  });

  it('`next` takes the slot it is given, and says so when there is none', async () => {
    const now = '2026-03-02T08:00:00Z';
    const slot = iso('2026-03-02T12:00:00Z');
    const taken = await resolve('next', 'Europe/Berlin', now, 30, () => Promise.resolve(slot));
    expect(taken).toEqual({ ok: true, at: slot, zone: 'Europe/Berlin', note: undefined });
    for (const nextSlot of [() => Promise.resolve(undefined), undefined]) {
      const none = await resolve('next', 'Europe/Berlin', now, 30, nextSlot);
      expect(none).toMatchObject({ ok: false, message: expect.stringContaining('There is no free posting slot in the next 30 days') });
      expect(!none.ok && none.message).toContain('slots mon-fri 09:00,13:00');
    }
  });

  it('`now` resolves to no time at all (as soon as it is approved)', async () => {
    expect(await resolve('now', 'Europe/Berlin', '2026-03-02T08:00:00Z')).toEqual({ ok: true, at: undefined, zone: 'Europe/Berlin' });
  });
});

const read = (text: string) => readWhen(text);
const when = (w: When, rest: string) => ({ kind: 'when', when: w, rest });

describe('readWhen: the start of what follows the targets', () => {
  it('reads every form of the contract, the rest is the caption', () => {
    expect(read('at 2026-12-07 09:30 Launch day!')).toEqual(
      when({ kind: 'at', date: { year: 2026, month: 12, day: 7 }, time: { hour: 9, minute: 30 } }, 'Launch day!'),
    );
    expect(read('at 09:30 Hi')).toEqual(when({ kind: 'at', time: { hour: 9, minute: 30 } }, 'Hi'));
    expect(read('at 9:05 Hi')).toEqual(when({ kind: 'at', time: { hour: 9, minute: 5 } }, 'Hi'));
    expect(read('tomorrow 09:30 Hi')).toEqual(when({ kind: 'tomorrow', time: { hour: 9, minute: 30 } }, 'Hi'));
    expect(read('in 90m Hi')).toEqual(when({ kind: 'in', minutes: 90 }, 'Hi'));
    expect(read('in 2h Hi')).toEqual(when({ kind: 'in', minutes: 120 }, 'Hi'));
    expect(read('in 3d Hi')).toEqual(when({ kind: 'in', minutes: 3 * 1440 }, 'Hi'));
    expect(read('next Hi')).toEqual(when({ kind: 'next' }, 'Hi'));
    expect(read('AT 09:30 Hi')).toEqual(when({ kind: 'at', time: { hour: 9, minute: 30 } }, 'Hi'));
    expect(read('in 2 hours Hi')).toEqual(when({ kind: 'in', minutes: 120 }, 'Hi'));
    expect(read('in 45 min Hi')).toEqual(when({ kind: 'in', minutes: 45 }, 'Hi'));
    expect(read('in 1 day Hi')).toEqual(when({ kind: 'in', minutes: 1440 }, 'Hi'));
    expect(read('at 09:30')).toEqual(when({ kind: 'at', time: { hour: 9, minute: 30 } }, ''));
    expect(read('next')).toEqual(when({ kind: 'next' }, ''));
  });

  it('reads `tomorrow at HH:MM` as people write it', () => {
    expect(read('tomorrow at 09:30 Hi')).toEqual(when({ kind: 'tomorrow', time: { hour: 9, minute: 30 } }, 'Hi'));
  });

  it('words that are not a time stay caption', () => {
    for (const caption of [
      'at last we launch',
      'in the morning we launch',
      'tomorrow is the day',
      'now is the time',
      'Hello world',
      'at 10 Downing Street',
      'in 2020 we started',
      'in 90s fashion',
      'at noon, coffee',
      '',
      '   ',
      'tomorrow',
      'at',
      'in',
    ])
      expect(read(caption)).toEqual({ kind: 'none' });
  });

  it('time-shaped mistakes are errors naming them, never a caption by surprise', () => {
    const error = (text: string) => {
      const result = read(text);
      if (result.kind !== 'error') throw new Error(`expected "${text}" to be an error, got ${JSON.stringify(result)}`);
      return result.message;
    };
    expect(error('at 25:00 Hi')).toMatch(/^"25:00" is not a time of day\./);
    expect(error('at 09:60 Hi')).toMatch(/^"09:60" is not a time of day\./);
    expect(error('at 2026-02-30 09:00 Hi')).toMatch(/^"2026-02-30" is not a date\./);
    expect(error('at 2026-13-01 09:00 Hi')).toMatch(/^"2026-13-01" is not a date\./);
    expect(error('at 2026-12-07 Hi')).toMatch(/^"at 2026-12-07" needs a time of day after the date\./);
    expect(error('at 2026-12-07 25:00 Hi')).toMatch(/^"25:00" is not a time of day\./);
    expect(error('tomorrow 24:00 Hi')).toMatch(/^"24:00" is not a time of day\./);
    expect(error('in 0m Hi')).toMatch(/^"in 0m" is not ahead of now\./);
    for (const [text, word] of [
      ['at 9pm Hi', '9pm'],
      ['at 9:30pm Hi', '9:30pm'],
      ['at 12:5 Hi', '12:5'],
      ['tomorrow 9am Hi', '9am'],
      ['tomorrow at 9am Hi', '9am'],
      ['at 2026-12-7 09:30 Hi', '2026-12-7'],
      ['in 1.5h Hi', '1.5h'],
      ['in 2h30m Hi', '2h30m'],
      ['at 2026-12-07T09:30 Hi', '2026-12-07T09:30'],
    ])
      expect(error(text!)).toContain(`"${word}"`);
    // Every error says which forms there are.
    expect(error('at 25:00')).toContain('`at YYYY-MM-DD HH:MM`, `at HH:MM`, `tomorrow HH:MM`, `in 90m`, `in 2h`, `in 3d` or `next`');
  });

  it('the caption keeps its line breaks and its own blanks', () => {
    expect(read('at 09:30\nLine one\n\nLine two  ')).toEqual(when({ kind: 'at', time: { hour: 9, minute: 30 } }, 'Line one\n\nLine two  '));
    expect(read('in 2h   Hi\nthere')).toEqual(when({ kind: 'in', minutes: 120 }, 'Hi\nthere'));
    expect(read('at 2026-12-07\n09:30\nHi')).toEqual(
      when({ kind: 'at', date: { year: 2026, month: 12, day: 7 }, time: { hour: 9, minute: 30 } }, 'Hi'),
    );
  });
});

describe('parseWhenOnly: a whole text as a when (Discord’s `when` option, `reschedule <id> <when>`)', () => {
  const ok = (text: string) => {
    const result = parseWhenOnly(text);
    if (!result.ok) throw new Error(`expected "${text}" to parse: ${result.message}`);
    return result.when;
  };
  const no = (text: string) => {
    const result = parseWhenOnly(text);
    if (result.ok) throw new Error(`expected "${text}" to be refused`);
    return result.message;
  };

  it('reads every form, `now` too, and the forms without their keyword', () => {
    expect(ok('now')).toEqual({ kind: 'now' });
    expect(ok(' NOW ')).toEqual({ kind: 'now' });
    expect(ok('at 2026-12-07 09:30')).toEqual({ kind: 'at', date: { year: 2026, month: 12, day: 7 }, time: { hour: 9, minute: 30 } });
    expect(ok('2026-12-07 09:30')).toEqual({ kind: 'at', date: { year: 2026, month: 12, day: 7 }, time: { hour: 9, minute: 30 } });
    expect(ok('at 09:30')).toEqual({ kind: 'at', time: { hour: 9, minute: 30 } });
    expect(ok('09:30')).toEqual({ kind: 'at', time: { hour: 9, minute: 30 } });
    expect(ok('tomorrow 09:30')).toEqual({ kind: 'tomorrow', time: { hour: 9, minute: 30 } });
    expect(ok('in 90m')).toEqual({ kind: 'in', minutes: 90 });
    expect(ok('90m')).toEqual({ kind: 'in', minutes: 90 });
    expect(ok('2h')).toEqual({ kind: 'in', minutes: 120 });
    expect(ok('in 3d')).toEqual({ kind: 'in', minutes: 4320 });
    expect(ok('next')).toEqual({ kind: 'next' });
  });

  it('refuses anything else, naming it', () => {
    expect(no('whenever')).toBe(
      '"whenever" is not a time. Times are `at YYYY-MM-DD HH:MM`, `at HH:MM`, `tomorrow HH:MM`, `in 90m`, `in 2h`, `in 3d` or `next`. (or `now` to reschedule)',
    );
    expect(no('at 09:30 and more')).toMatch(/^"at 09:30 and more" is not a time/);
    expect(no('tomorrow')).toMatch(/^"tomorrow" is not a time/);
    expect(no('25:00')).toMatch(/^"25:00" is not a time of day/);
    expect(no('2026-02-30 09:00')).toMatch(/^"2026-02-30" is not a date/);
    expect(no('')).toMatch(/is not a time/);
    expect(no('9pm')).toMatch(/^"9pm" is not a time of day\./);
    expect(no('1.5h')).toMatch(/^"1.5h" is not a duration/);
    expect(no('2026-12-7 09:30')).toMatch(/^"2026-12-7" is not a date\./);
    expect(no('next week')).toMatch(/^"next week" is not a time/);
  });
});

describe('resolveWhen: properties over zones and clocks (oracles read the zone’s clock every quarter hour)', () => {
  const QUARTER = 15 * 60_000;
  const wallMs = (w: { date: { year: number; month: number; day: number }; time: { hour: number; minute: number } }) =>
    Date.UTC(w.date.year, w.date.month - 1, w.date.day, w.time.hour, w.time.minute);
  const pad = (n: number) => String(n).padStart(2, '0');

  /** The first instant after `now` whose clock reads `hour:minute`, or 'gap' when the clock skips it first. */
  function nextShowing(z: string, now: Date, hour: number, minute: number): number | 'gap' {
    let previous = wallClock(now, z);
    for (let t = Math.floor(now.getTime() / QUARTER) * QUARTER + QUARTER; t < now.getTime() + 60 * 3600_000; t += QUARTER) {
      const current = wallClock(new Date(t), z);
      if (current.time.hour === hour && current.time.minute === minute) return t;
      for (const date of [previous.date, current.date]) {
        const target = wallMs({ date, time: { hour, minute } });
        if (wallMs(previous) < target && target < wallMs(current)) return 'gap';
      }
      previous = current;
    }
    throw new Error('no such time within 60 hours');
  }

  it('property: `at HH:MM` is the first instant after now that the clock reads HH:MM, or refused when the clocks skip it first', async () => {
    const scenario = zone.chain((z) =>
      fc.tuple(
        fc.constant(z),
        fc.oneof(minuteInstant, nearTransition(z)),
        fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 23 })),
        fc.constantFrom(0, 15, 30, 45),
      ),
    );
    await fc.assert(
      fc.asyncProperty(scenario, async ([z, now, hour, minute]) => {
        const result = await resolveWhen({ kind: 'at', time: { hour, minute } }, { now, zone: z, maxDays: 30 });
        const expected = nextShowing(z, now, hour, minute);
        if (expected === 'gap')
          expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`${pad(hour)}:${pad(minute)} on `) });
        else expect(result.ok && result.at?.toISOString()).toBe(new Date(expected).toISOString());
        if (!result.ok && expected !== 'gap') throw new Error(result.message);
      }),
      fuzzParameters(2),
    );
  });

  it('property: `at <date> <time>` is the earliest instant after now showing it; refused when all are past or beyond the limit', async () => {
    const scenario = zone.chain((z) =>
      fc.tuple(
        fc.constant(z),
        fc.oneof(minuteInstant, nearTransition(z)),
        fc.integer({ min: -3 * 1440, max: 32 * 1440 }),
        fc.integer({ min: 1, max: 30 }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(scenario, async ([z, now, minutesAhead, maxDays]) => {
        const target = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + minutesAhead * 60_000);
        const wall = wallClock(target, z);
        const showing: number[] = [];
        for (let t = target.getTime() - 3 * 3600_000; t <= target.getTime() + 3 * 3600_000; t += QUARTER)
          if (JSON.stringify(wallClock(new Date(t), z)) === JSON.stringify(wall)) showing.push(t);
        const ahead = showing.find((t) => t > now.getTime());
        const result = await resolveWhen({ kind: 'at', date: wall.date, time: wall.time }, { now, zone: z, maxDays });
        if (ahead === undefined) expect(result).toMatchObject({ ok: false, message: expect.stringContaining('is in the past') });
        else if (ahead > now.getTime() + maxDays * 86_400_000)
          expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`more than ${maxDays} days ahead`) });
        else {
          expect(result).toMatchObject({ ok: true, at: new Date(ahead), zone: z });
          // An overlap is said out loud.
          expect(result.ok && result.note !== undefined).toBe(showing.length === 2);
        }
      }),
      fuzzParameters(3),
    );
  });
});
