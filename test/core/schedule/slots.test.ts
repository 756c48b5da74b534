/**
 * Weekly posting slots (src/core/schedule/slots.ts): reading `slots <days> <times>`, and the next
 * free slot, checked against a brute-force oracle that reads the zone's clock every quarter hour.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeSlots, nextFreeSlot, parseSlots, slotsFromJson, type PostingSlots } from '../../../src/core/schedule/slots.js';
import { clock } from '../../../src/core/schedule/zones.js';
import { fuzzParameters } from '../../fuzz/fuzz-settings.js';
import { minuteInstant, nearTransition, wallClock, zone } from './zone-arbitraries.js';

const iso = (text: string) => new Date(text);
const QUARTER = 15 * 60_000;

describe('parseSlots: `slots <days> <HH:MM,…>`', () => {
  it('reads days, ranges, lists and names; times are normalised, deduplicated and sorted', () => {
    expect(parseSlots('mon-fri', '09:00,13:00')).toEqual({ days: [1, 2, 3, 4, 5], times: ['09:00', '13:00'] });
    expect(parseSlots('MON,wed,Fri', '13:00,9:00,09:00')).toEqual({ days: [1, 3, 5], times: ['09:00', '13:00'] });
    expect(parseSlots('fri-mon', '08:15')).toEqual({ days: [1, 5, 6, 7], times: ['08:15'] });
    expect(parseSlots('sat-sun', '10:00')).toEqual({ days: [6, 7], times: ['10:00'] });
    expect(parseSlots('daily', '00:00,23:59')).toEqual({ days: [1, 2, 3, 4, 5, 6, 7], times: ['00:00', '23:59'] });
    expect(parseSlots('weekdays', '12:00')).toEqual({ days: [1, 2, 3, 4, 5], times: ['12:00'] });
    expect(parseSlots('weekends', '12:00')).toEqual({ days: [6, 7], times: ['12:00'] });
    expect(parseSlots('monday-friday', '12:00')).toEqual({ days: [1, 2, 3, 4, 5], times: ['12:00'] });
    expect(parseSlots('tues,thurs', '12:00')).toEqual({ days: [2, 4], times: ['12:00'] });
  });

  it('refuses what is not a day or a time, naming it', () => {
    expect(parseSlots('funday', '09:00')).toBe('"funday" is not a day or a range of days (mon, tue, … sun; mon-fri).');
    expect(parseSlots('monkey', '09:00')).toBe('"monkey" is not a day or a range of days (mon, tue, … sun; mon-fri).');
    expect(parseSlots('satellite-sun', '09:00')).toMatch(/^"satellite-sun" is not a day/);
    expect(parseSlots('mo', '09:00')).toMatch(/^"mo" is not a day/);
    expect(parseSlots('mon-tue-wed', '09:00')).toMatch(/^"mon-tue-wed" is not a day/);
    expect(parseSlots('mon,,fri', '09:00')).toMatch(/^"" is not a day/);
    expect(parseSlots('mon-fri', '25:00')).toBe('"25:00" is not a time of day (HH:MM, 24-hour clock).');
    expect(parseSlots('mon-fri', '09:00,9am')).toBe('"9am" is not a time of day (HH:MM, 24-hour clock).');
    expect(parseSlots('mon-fri', ',')).toBe('Which times of day? For example `slots mon-fri 09:00,13:00`.');
    const many = Array.from({ length: 25 }, (_, i) => `${String(i % 24).padStart(2, '0')}:${i < 24 ? '00' : '30'}`).join(',');
    expect(parseSlots('daily', many)).toBe('At most 24 slots a day.');
  });

  it('describeSlots writes them as people do', () => {
    expect(describeSlots({ days: [1, 2, 3, 4, 5], times: ['09:00', '13:00'] })).toBe('Mon–Fri at 09:00, 13:00');
    expect(describeSlots({ days: [1, 2, 3, 4, 5, 6, 7], times: ['09:00'] })).toBe('every day at 09:00');
    expect(describeSlots({ days: [6, 7], times: ['10:00'] })).toBe('Sat, Sun at 10:00');
    expect(describeSlots({ days: [1, 3, 5], times: ['10:00'] })).toBe('Mon, Wed, Fri at 10:00');
  });

  it('slotsFromJson reads stored slots back, and nothing from what it cannot use', () => {
    expect(slotsFromJson(JSON.stringify({ days: [1, 2], times: ['09:00'] }))).toEqual({ days: [1, 2], times: ['09:00'] });
    expect(slotsFromJson(null)).toBeUndefined();
    expect(slotsFromJson('')).toBeUndefined();
    expect(slotsFromJson('{not json')).toBeUndefined();
    expect(slotsFromJson('null')).toBeUndefined();
    expect(slotsFromJson(JSON.stringify({ days: [], times: ['09:00'] }))).toBeUndefined();
    // Values no parse wrote are dropped; what is left is in order.
    expect(slotsFromJson(JSON.stringify({ days: [5, 1, 9, 'x'], times: ['13:00', 'nine', '9:00', '24:00', '09:00'] }))).toEqual({
      days: [1, 5],
      times: ['09:00', '13:00'],
    });
    expect(slotsFromJson(JSON.stringify({ days: [8], times: ['09:00'] }))).toBeUndefined();
    expect(slotsFromJson(JSON.stringify({ days: [1], times: ['9am'] }))).toBeUndefined();
  });
});

describe('nextFreeSlot', () => {
  const weekdays: PostingSlots = { days: [1, 2, 3, 4, 5], times: ['09:00', '13:00'] };
  const berlin = 'Europe/Berlin';

  it('takes the first slot after now that no post holds, on an allowed day', () => {
    // Mon 2 Mar 2026 09:00 CET: the 09:00 slot is now, not after it.
    const now = iso('2026-03-02T08:00:00Z');
    expect(nextFreeSlot(weekdays, berlin, now, 30, new Set())).toEqual(iso('2026-03-02T12:00:00Z'));
    expect(nextFreeSlot(weekdays, berlin, iso('2026-03-02T07:59:00Z'), 30, new Set())).toEqual(iso('2026-03-02T08:00:00Z'));
    expect(nextFreeSlot(weekdays, berlin, now, 30, new Set([Date.parse('2026-03-02T12:00:00Z')]))).toEqual(iso('2026-03-03T08:00:00Z'));
    // Friday 13:00 has passed: Monday.
    expect(nextFreeSlot(weekdays, berlin, iso('2026-03-06T12:30:00Z'), 30, new Set())).toEqual(iso('2026-03-09T08:00:00Z'));
    // A post at another time does not hold a slot.
    expect(nextFreeSlot(weekdays, berlin, now, 30, new Set([Date.parse('2026-03-02T12:01:00Z')]))).toEqual(iso('2026-03-02T12:00:00Z'));
  });

  it('skips a slot the clocks skip, and takes the first of one they repeat', () => {
    const daily: PostingSlots = { days: [1, 2, 3, 4, 5, 6, 7], times: ['02:30'] };
    // Sat 28 Mar 13:00 CET: Sunday's 02:30 does not exist; Monday's (CEST).
    expect(nextFreeSlot(daily, berlin, iso('2026-03-28T12:00:00Z'), 30, new Set())).toEqual(iso('2026-03-30T00:30:00Z'));
    // Sat 24 Oct: Sunday's 02:30 happens twice; the first (CEST).
    expect(nextFreeSlot(daily, berlin, iso('2026-10-24T12:00:00Z'), 30, new Set())).toEqual(iso('2026-10-25T00:30:00Z'));
    expect(nextFreeSlot({ days: [7], times: ['01:45'] }, 'Australia/Lord_Howe', iso('2026-04-01T00:00:00Z'), 30, new Set())).toEqual(
      iso('2026-04-04T14:45:00Z'),
    );
    expect(nextFreeSlot({ days: [7], times: ['02:15'] }, 'Australia/Lord_Howe', iso('2026-10-01T00:00:00Z'), 30, new Set())).toEqual(
      iso('2026-10-10T15:15:00Z'),
    );
  });

  it('none within SCHEDULE_MAX_DAYS: undefined', () => {
    const now = iso('2026-03-02T08:00:00Z');
    expect(nextFreeSlot({ days: [1], times: ['09:00'] }, berlin, now, 6, new Set())).toBeUndefined();
    expect(nextFreeSlot({ days: [1], times: ['09:00'] }, berlin, now, 7, new Set())).toEqual(iso('2026-03-09T08:00:00Z'));
  });

  it('finds a slot in the last hour of the window when the clocks went forward meanwhile (the window ends a calendar day later)', () => {
    // Tue 10 Mar 23:30 CET; 30 days later is Fri 10 Apr 00:30 CEST. Fri 10 Apr 00:15 CEST is inside.
    const now = iso('2026-03-10T22:30:00Z');
    const fridays = ['2026-03-12T23:15:00Z', '2026-03-19T23:15:00Z', '2026-03-26T23:15:00Z', '2026-04-02T22:15:00Z'].map(Date.parse);
    expect(nextFreeSlot({ days: [5], times: ['00:15'] }, berlin, now, 30, new Set())).toEqual(new Date(fridays[0]!));
    expect(nextFreeSlot({ days: [5], times: ['00:15'] }, berlin, now, 30, new Set(fridays))).toEqual(iso('2026-04-09T22:15:00Z'));
  });

  /** Brute force: every quarter hour after now, the first instants whose wall clock is a slot (its first occurrence) and not taken. */
  function oracle(slots: PostingSlots, zoneName: string, now: Date, maxDays: number, taken: ReadonlySet<number>, count: number): Date[] {
    const limit = now.getTime() + maxDays * 86_400_000;
    const found: Date[] = [];
    for (let t = Math.floor(now.getTime() / QUARTER) * QUARTER + QUARTER; t <= limit && found.length < count; t += QUARTER) {
      const wall = wallClock(new Date(t), zoneName);
      if (!slots.days.includes(wall.weekday) || !slots.times.includes(clock(wall.time))) continue;
      const same = (ms: number) => JSON.stringify(wallClock(new Date(ms), zoneName)) === JSON.stringify(wall);
      let repeated = false;
      for (let back = QUARTER; back <= 3 * 3600_000 && !repeated; back += QUARTER) repeated = same(t - back);
      if (!repeated && !taken.has(t)) found.push(new Date(t));
    }
    return found;
  }

  const quarterTime = fc
    .tuple(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 23 })), fc.constantFrom(0, 15, 30, 45))
    .map(([hour, minute]) => clock({ hour, minute }));
  const slotsArbitrary: fc.Arbitrary<PostingSlots> = fc
    .tuple(
      fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
      fc.uniqueArray(quarterTime, { minLength: 1, maxLength: 4 }),
    )
    .map(([days, times]) => ({ days: [...days].sort(), times: [...times].sort() }));

  it('property: the slot is on an allowed day at an allowed local time, after now, within the window, not taken, and the earliest such', () => {
    const scenario = zone.chain((z) =>
      fc.record({
        zone: fc.constant(z),
        now: fc.oneof(minuteInstant, nearTransition(z)),
        slots: slotsArbitrary,
        maxDays: fc.integer({ min: 1, max: 30 }),
        takenMask: fc.array(fc.boolean(), { maxLength: 6 }),
        noise: fc.array(minuteInstant, { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ zone: z, now, slots, maxDays, takenMask, noise }) => {
        const free = oracle(slots, z, now, maxDays, new Set(), takenMask.length);
        const taken = new Set([...free.filter((_, i) => takenMask[i]).map((d) => d.getTime()), ...noise.map((d) => d.getTime())]);
        const slot = nextFreeSlot(slots, z, now, maxDays, taken);
        const expected = oracle(slots, z, now, maxDays, taken, 1)[0];
        if (slot !== undefined) {
          const wall = wallClock(slot, z);
          expect(slots.days).toContain(wall.weekday);
          expect(slots.times).toContain(clock(wall.time));
          expect(slot.getTime()).toBeGreaterThan(now.getTime());
          expect(slot.getTime()).toBeLessThanOrEqual(now.getTime() + maxDays * 86_400_000);
          expect(taken.has(slot.getTime())).toBe(false);
        }
        expect(slot?.toISOString()).toBe(expected?.toISOString());
      }),
      fuzzParameters(1),
    );
  });
});
