/**
 * Zone arithmetic (src/core/schedule/zones.ts): which instants a wall time is in a zone that
 * skips or repeats an hour (or Lord Howe's half hour), and how IQSP writes a time.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  canonicalZone,
  formatDate,
  formatInZone,
  localDate,
  shiftInWords,
  wallTime,
  zoneAbbreviation,
  type LocalDate,
  type LocalTime,
} from '../../../src/core/schedule/zones.js';
import { fuzzParameters } from '../../fuzz/fuzz-settings.js';
import { minuteInstant, nearTransition, transitionIn, wallClock, zone, ZONES } from './zone-arbitraries.js';

const day = (year: number, month: number, d: number): LocalDate => ({ year, month, day: d });
const time = (hour: number, minute: number): LocalTime => ({ hour, minute });
const iso = (text: string) => new Date(text);

describe('wallTime: the instants a wall time is, across daylight saving', () => {
  it('an ordinary time is one instant', () => {
    expect(wallTime('Europe/Berlin', day(2026, 12, 7), time(9, 30))).toEqual({ kind: 'exact', at: iso('2026-12-07T08:30:00Z') });
    expect(wallTime('America/New_York', day(2026, 7, 1), time(12, 0))).toEqual({ kind: 'exact', at: iso('2026-07-01T16:00:00Z') });
    expect(wallTime('UTC', day(2026, 3, 29), time(2, 30))).toEqual({ kind: 'exact', at: iso('2026-03-29T02:30:00Z') });
  });

  it('Europe/Berlin: 02:30 on 29 March 2026 does not exist (1 hour), 02:30 on 25 October 2026 happens twice', () => {
    expect(wallTime('Europe/Berlin', day(2026, 3, 29), time(2, 30))).toEqual({ kind: 'gap', shiftMinutes: 60 });
    expect(wallTime('Europe/Berlin', day(2026, 3, 29), time(2, 0))).toEqual({ kind: 'gap', shiftMinutes: 60 });
    expect(wallTime('Europe/Berlin', day(2026, 3, 29), time(1, 59))).toEqual({ kind: 'exact', at: iso('2026-03-29T00:59:00Z') });
    expect(wallTime('Europe/Berlin', day(2026, 3, 29), time(3, 0))).toEqual({ kind: 'exact', at: iso('2026-03-29T01:00:00Z') });
    expect(wallTime('Europe/Berlin', day(2026, 10, 25), time(2, 30))).toEqual({
      kind: 'ambiguous',
      first: iso('2026-10-25T00:30:00Z'),
      second: iso('2026-10-25T01:30:00Z'),
      shiftMinutes: 60,
    });
    expect(wallTime('Europe/Berlin', day(2026, 10, 25), time(3, 0))).toEqual({ kind: 'exact', at: iso('2026-10-25T02:00:00Z') });
  });

  it('America/New_York: 02:30 on 8 March 2026 does not exist, 01:30 on 1 November 2026 happens twice (05:30 UTC first)', () => {
    expect(wallTime('America/New_York', day(2026, 3, 8), time(2, 30))).toEqual({ kind: 'gap', shiftMinutes: 60 });
    expect(wallTime('America/New_York', day(2026, 11, 1), time(1, 30))).toEqual({
      kind: 'ambiguous',
      first: iso('2026-11-01T05:30:00Z'),
      second: iso('2026-11-01T06:30:00Z'),
      shiftMinutes: 60,
    });
  });

  it('Australia/Lord_Howe shifts by 30 minutes: 02:15 on 4 October 2026 does not exist, 01:45 on 5 April 2026 happens twice', () => {
    expect(wallTime('Australia/Lord_Howe', day(2026, 10, 4), time(2, 15))).toEqual({ kind: 'gap', shiftMinutes: 30 });
    expect(wallTime('Australia/Lord_Howe', day(2026, 10, 4), time(2, 30))).toEqual({ kind: 'exact', at: iso('2026-10-03T15:30:00Z') });
    expect(wallTime('Australia/Lord_Howe', day(2026, 4, 5), time(1, 45))).toEqual({
      kind: 'ambiguous',
      first: iso('2026-04-04T14:45:00Z'),
      second: iso('2026-04-04T15:15:00Z'),
      shiftMinutes: 30,
    });
    expect(wallTime('Australia/Lord_Howe', day(2026, 4, 5), time(2, 0))).toEqual({ kind: 'exact', at: iso('2026-04-04T15:30:00Z') });
  });

  it('property: the wall clock of any instant, read back, contains that instant (exactly, or as one of an overlap)', () => {
    const instant = zone.chain((z) => fc.tuple(fc.constant(z), fc.oneof(minuteInstant, nearTransition(z))));
    fc.assert(
      fc.property(instant, ([z, at]) => {
        const { date, time: clock } = wallClock(at, z);
        const found = wallTime(z, date, clock);
        expect(found.kind).not.toBe('gap');
        if (found.kind === 'exact') expect(found.at.getTime()).toBe(at.getTime());
        if (found.kind === 'ambiguous') {
          expect([found.first.getTime(), found.second.getTime()]).toContain(at.getTime());
          expect(found.first.getTime()).toBeLessThan(found.second.getTime());
          expect(found.second.getTime() - found.first.getTime()).toBe(found.shiftMinutes * 60_000);
        }
        // Whatever wallTime answers reads back as the same wall clock.
        const answers = found.kind === 'exact' ? [found.at] : found.kind === 'ambiguous' ? [found.first, found.second] : [];
        for (const answer of answers) expect(wallClock(answer, z)).toMatchObject({ date, time: clock });
      }),
      fuzzParameters(5),
    );
  });

  it('property: a gap is a wall time no instant shows, and every other wall time near a change is shown', () => {
    const probe = zone.chain((z) => fc.tuple(fc.constant(z), nearTransition(z), fc.integer({ min: 0, max: 180 })));
    fc.assert(
      fc.property(probe, ([z, at, later]) => {
        const { date, time: clock } = wallClock(new Date(at.getTime() + later * 60_000), z);
        const found = wallTime(z, date, clock);
        // Every offset of these zones is a multiple of 15 minutes: an instant showing this wall time is one of these.
        const base = Date.UTC(date.year, date.month - 1, date.day, clock.hour, clock.minute);
        const showing: number[] = [];
        for (let ms = base - 15 * 3600_000; ms <= base + 15 * 3600_000; ms += 15 * 60_000) {
          const read = wallClock(new Date(ms), z);
          if (JSON.stringify(read.date) === JSON.stringify(date) && JSON.stringify(read.time) === JSON.stringify(clock)) showing.push(ms);
        }
        const answers = found.kind === 'exact' ? [found.at] : found.kind === 'ambiguous' ? [found.first, found.second] : [];
        expect(answers.map((a) => a.getTime())).toEqual(showing);
      }),
      fuzzParameters(2),
    );
  });

  it('property: a wall time a transition skips is a gap, sized as the shift', () => {
    const probe = zone
      .filter((z) => z !== 'UTC' && z !== 'Asia/Kolkata')
      .chain((z) => fc.tuple(fc.constant(z), fc.integer({ min: 2000, max: 2044 })));
    fc.assert(
      fc.property(probe, ([z, year]) => {
        for (const index of [0, 1]) {
          const change = transitionIn(z, year, index);
          if (change === undefined) continue;
          const before = wallClock(new Date(change - 60_000), z);
          const after = wallClock(new Date(change), z);
          const shift = DateTime.fromMillis(change, { zone: z }).offset - DateTime.fromMillis(change - 60_000, { zone: z }).offset;
          // The minute after the last one before the change, on the old clock.
          const skipped = { hour: before.time.hour + Math.floor((before.time.minute + 1) / 60), minute: (before.time.minute + 1) % 60 };
          if (shift > 0 && skipped.hour < 24) expect(wallTime(z, before.date, skipped)).toEqual({ kind: 'gap', shiftMinutes: shift });
          if (shift < 0) {
            const repeated = wallTime(z, after.date, after.time);
            expect(repeated).toEqual({
              kind: 'ambiguous',
              first: new Date(change + shift * 60_000),
              second: new Date(change),
              shiftMinutes: -shift,
            });
          }
        }
      }),
      fuzzParameters(0.5),
    );
  });
});

/** The months and weekdays as formatInZone writes them (English, three letters). */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Reads formatInZone's text back to the instant it names (the zone's short name tells the two of an overlap apart). */
function readFormatted(text: string, zoneName: string, now: Date): { at: Date; weekday: string } | string {
  const match = /^(\w{3}) (\d{1,2}) (\w+)(?: (\d{4}))? (\d{2}):(\d{2}) (\S+)$/.exec(text);
  if (!match) return `unreadable: ${text}`;
  const [, weekday, d, monthName, year, hour, minute, abbreviation] = match;
  const month = MONTHS.indexOf(monthName!) + 1;
  if (month === 0) return `unknown month ${monthName} in ${text}`;
  const date = { year: year ? Number(year) : localDate(now, zoneName).year, month, day: Number(d) };
  const found = wallTime(zoneName, date, { hour: Number(hour), minute: Number(minute) });
  const candidates = found.kind === 'exact' ? [found.at] : found.kind === 'ambiguous' ? [found.first, found.second] : [];
  const named = candidates.filter((c) => zoneAbbreviation(c, zoneName) === abbreviation);
  if (named.length !== 1) return `${text} names ${named.length} instants`;
  return { at: named[0]!, weekday: weekday! };
}

describe('formatInZone: how IQSP writes a time', () => {
  it('writes the weekday, day, month, time and the zone’s short name (an offset where it has none)', () => {
    const at = iso('2026-12-07T08:30:00Z');
    expect(formatInZone(at, 'Europe/Berlin')).toBe('Mon 7 Dec 09:30 CET');
    expect(formatInZone(at, 'America/New_York')).toBe('Mon 7 Dec 03:30 EST');
    expect(formatInZone(at, 'Australia/Lord_Howe')).toBe('Mon 7 Dec 19:30 GMT+11');
    expect(formatInZone(iso('2026-07-07T08:30:00Z'), 'Australia/Lord_Howe')).toBe('Tue 7 Jul 19:00 GMT+10:30');
    expect(formatInZone(iso('2026-07-07T08:30:00Z'), 'Europe/Berlin')).toBe('Tue 7 Jul 10:30 CEST');
    expect(formatInZone(iso('2026-07-07T08:30:00Z'), 'America/New_York')).toBe('Tue 7 Jul 04:30 EDT');
    expect(formatInZone(at, 'UTC')).toBe('Mon 7 Dec 08:30 UTC');
  });

  it('adds the year when it is not the year of now (in that zone)', () => {
    const at = iso('2027-01-04T09:00:00Z');
    expect(formatInZone(at, 'Europe/Berlin', iso('2026-12-30T12:00:00Z'))).toBe('Mon 4 Jan 2027 10:00 CET');
    expect(formatInZone(at, 'Europe/Berlin', iso('2027-01-01T12:00:00Z'))).toBe('Mon 4 Jan 10:00 CET');
    // 31 Dec 23:30 UTC is already the new year in Berlin.
    expect(formatInZone(iso('2027-01-01T00:30:00Z'), 'Europe/Berlin', iso('2026-12-31T23:30:00Z'))).toBe('Fri 1 Jan 01:30 CET');
  });

  it('names the months the same on every runtime: September is Sep (en-GB says Sept on newer ICU)', () => {
    expect(formatInZone(iso('2026-09-07T08:30:00Z'), 'Europe/Berlin')).toBe('Mon 7 Sep 10:30 CEST');
    expect(formatDate(day(2026, 9, 7))).toBe('Mon 7 Sep 2026');
  });

  it('tells the two halves of an overlap apart by the zone’s short name', () => {
    expect(formatInZone(iso('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toBe('Sun 25 Oct 02:30 CEST');
    expect(formatInZone(iso('2026-10-25T01:30:00Z'), 'Europe/Berlin')).toBe('Sun 25 Oct 02:30 CET');
    expect(formatInZone(iso('2026-11-01T05:30:00Z'), 'America/New_York')).toBe('Sun 1 Nov 01:30 EDT');
    expect(formatInZone(iso('2026-11-01T06:30:00Z'), 'America/New_York')).toBe('Sun 1 Nov 01:30 EST');
    expect(formatInZone(iso('2026-04-04T14:45:00Z'), 'Australia/Lord_Howe')).toBe('Sun 5 Apr 01:45 GMT+11');
    expect(formatInZone(iso('2026-04-04T15:15:00Z'), 'Australia/Lord_Howe')).toBe('Sun 5 Apr 01:45 GMT+10:30');
  });

  it('property: what it writes reads back to the same minute, weekday included', () => {
    fc.assert(
      fc.property(
        zone,
        fc.oneof(
          minuteInstant,
          zone.chain((z) => nearTransition(z)),
        ),
        fc.integer({ min: -400, max: 400 }),
        (z, at, daysFromNow) => {
          const now = new Date(at.getTime() + daysFromNow * 86_400_000);
          const text = formatInZone(at, z, now);
          const read = readFormatted(text, z, now);
          if (typeof read === 'string') throw new Error(`${read} (${z}, ${at.toISOString()})`);
          expect(read.at.toISOString()).toBe(at.toISOString());
          expect(read.weekday).toBe(WEEKDAYS[wallClock(at, z).weekday - 1]);
        },
      ),
      fuzzParameters(5),
    );
  });
});

describe('zone helpers', () => {
  it('canonicalZone names IANA zones canonically and refuses anything else', () => {
    expect(canonicalZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalZone('europe/berlin')).toBe('Europe/Berlin');
    // A link resolves to its zone here (Node 20); runtimes that keep the name as typed keep the link, which is as good.
    expect(['America/New_York', 'US/Eastern']).toContain(canonicalZone('US/Eastern'));
    expect(canonicalZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(canonicalZone('Asia/Calcutta')).toBe('Asia/Kolkata');
    expect(canonicalZone('Europe/Kyiv')).toBe('Europe/Kyiv');
    expect(canonicalZone('UTC')).toBe('UTC');
    expect(canonicalZone('Etc/UTC')).toBe('UTC');
    expect(canonicalZone('utc')).toBe('UTC');
    expect(canonicalZone('Mars/Base')).toBeUndefined();
    expect(canonicalZone('')).toBeUndefined();
    expect(canonicalZone('Europe/Berlin; DROP TABLE')).toBeUndefined();
    for (const z of ZONES) expect(canonicalZone(z)).toBe(z);
  });

  it('localDate and addDays count calendar days in the zone, across daylight saving', () => {
    // 23:30 UTC on 28 March is already Sunday 29 March in Berlin.
    expect(localDate(iso('2026-03-28T23:30:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 3, day: 29, weekday: 7 });
    expect(localDate(iso('2026-03-28T23:30:00Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 28, weekday: 6 });
    expect(addDays(day(2026, 3, 28), 1)).toEqual({ year: 2026, month: 3, day: 29, weekday: 7 });
    expect(addDays(day(2026, 12, 31), 1)).toEqual({ year: 2027, month: 1, day: 1, weekday: 5 });
    expect(addDays(day(2028, 2, 28), 1)).toEqual({ year: 2028, month: 2, day: 29, weekday: 2 });
  });

  it('shiftInWords says a shift as people do', () => {
    expect(shiftInWords(60)).toBe('1 hour');
    expect(shiftInWords(120)).toBe('2 hours');
    expect(shiftInWords(30)).toBe('30 minutes');
    expect(shiftInWords(90)).toBe('90 minutes');
  });
});
