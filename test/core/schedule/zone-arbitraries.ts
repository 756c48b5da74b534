/**
 * What the schedule's property tests draw from: zones with every kind of daylight saving (none,
 * an hour, Lord Howe's half hour, Chatham's 45-minute offset, southern-hemisphere summers), and
 * instants on a whole minute in the years people schedule in. Every offset of these zones is a
 * multiple of 15 minutes, which the slot oracle relies on.
 */
import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';

export const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'UTC',
  'Europe/London',
  'America/Sao_Paulo',
  'Australia/Adelaide',
] as const;

export const zone = fc.constantFrom(...ZONES);

const FROM = Date.UTC(2000, 0, 1);
const TO = Date.UTC(2045, 0, 1);

/** An instant on a whole minute between 2000 and 2045. */
export const minuteInstant = fc.integer({ min: FROM / 60_000, max: TO / 60_000 }).map((m) => new Date(m * 60_000));

/** An instant on a whole minute within a day of a daylight-saving change of `zone` (or anywhere, for zones without one). */
export function nearTransition(zoneName: string): fc.Arbitrary<Date> {
  return fc
    .tuple(fc.integer({ min: 2000, max: 2044 }), fc.boolean(), fc.integer({ min: -1440, max: 1440 }))
    .map(([year, second, minutes]) => {
      const transition = transitionIn(zoneName, year, second ? 1 : 0);
      return new Date((transition ?? Date.UTC(year, 5, 1)) + minutes * 60_000);
    });
}

const transitions = new Map<string, number[]>();

/** The instant of the `index`th offset change of `zone` in `year` (found by bisection over Luxon's offsets). */
export function transitionIn(zoneName: string, year: number, index: number): number | undefined {
  const key = `${zoneName} ${year}`;
  let changes = transitions.get(key);
  if (!changes) {
    changes = [];
    const iana = IANAZone.create(zoneName);
    const offset = (ms: number) => iana.offset(ms);
    // Daylight-saving changes are months apart: a step of a week finds each, bisection its minute.
    const step = 7 * 86_400_000;
    for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += step) {
      if (offset(t) === offset(t + step)) continue;
      let [lo, hi] = [t, t + step];
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (offset(mid) === offset(lo)) lo = mid;
        else hi = mid;
      }
      changes.push(hi);
    }
    transitions.set(key, changes);
  }
  return changes[index];
}

/** The wall clock of `at` in `zone`, read by Luxon (independently of the code under test). */
export function wallClock(at: Date, zoneName: string) {
  const dt = DateTime.fromJSDate(at, { zone: zoneName });
  return { date: { year: dt.year, month: dt.month, day: dt.day }, time: { hour: dt.hour, minute: dt.minute }, weekday: dt.weekday };
}
