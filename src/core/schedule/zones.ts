/**
 * Wall-clock times in IANA time zones, with daylight saving said out loud: a local time that a
 * zone skips (spring forward) does not exist, one it repeats (fall back) happens twice. Luxon
 * reads the zones (from the runtime's Intl data) and formats; which instants a wall time can be
 * is decided here, because Luxon quietly picks one (and, on a fall-back day, the second).
 */
import { createRequire } from 'node:module';
import type * as Luxon from 'luxon';

/**
 * Luxon, loaded at the first zone computation rather than with the module: config.ts reads
 * DEFAULT_TIMEZONE at start, and an idle service that never schedules need not hold Luxon nor
 * touch the runtime's time zone data (~6 MB of the binary paged in; issue 19). Its CommonJS build
 * through `require`, because an ES import cannot be synchronous.
 */
let luxonLoaded: typeof Luxon | undefined;
const luxon = (): typeof Luxon => (luxonLoaded ??= createRequire(import.meta.url)('luxon') as typeof Luxon);

/** A day in a calendar, month 1–12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** A time of day on a 24-hour clock. */
export interface LocalTime {
  hour: number;
  minute: number;
}

/** What a wall time in a zone is: one instant, none (a gap), or two (an overlap), earliest first. */
export type WallTime =
  | { kind: 'exact'; at: Date }
  | { kind: 'gap'; shiftMinutes: number }
  | { kind: 'ambiguous'; first: Date; second: Date; shiftMinutes: number };

/**
 * The IANA names of the zones whose canonical name in CLDR (what Intl resolves to on Node 20) is
 * one IANA has since renamed: `Asia/Kolkata` must not come back as `Asia/Calcutta`.
 */
const IANA_NAME_OF_CLDR: Readonly<Record<string, string>> = {
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
};

/** The zone's canonical name (`europe/berlin` → `Europe/Berlin`), or undefined when it is not an IANA zone. */
export function canonicalZone(name: string): string | undefined {
  // UTC (DEFAULT_TIMEZONE's default) is known without asking the zone data.
  if (name.toUpperCase() === 'UTC') return 'UTC';
  if (name === '' || !luxon().IANAZone.isValidZone(name)) return undefined;
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  if (resolved === 'Etc/UTC' || resolved === 'Etc/GMT' || resolved === 'UTC') return 'UTC';
  return IANA_NAME_OF_CLDR[resolved] ?? resolved;
}

/** The zone's offset from UTC at `epochMs`, in minutes. */
function offsetAt(zone: string, epochMs: number): number {
  return luxon().IANAZone.create(zone).offset(epochMs);
}

/**
 * The instants that read as `date` `time` on a clock in `zone`. Every offset the zone has within
 * a day and a half either side is tried; an offset gives an instant when the zone is at that
 * offset then. Works for any shift (Lord Howe's is 30 minutes).
 */
export function wallTime(zone: string, date: LocalDate, time: LocalTime): WallTime {
  const wall = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute);
  const around = [wall - 36 * 3600_000, wall, wall + 36 * 3600_000].map((ms) => offsetAt(zone, ms));
  const offsets = [...new Set(around)];
  const instants = offsets
    .map((offset) => wall - offset * 60_000)
    .filter((ms, i) => offsetAt(zone, ms) === offsets[i])
    .sort((a, b) => a - b);
  const shiftMinutes = Math.abs(around[2]! - around[0]!);
  if (instants.length === 0) return { kind: 'gap', shiftMinutes };
  if (instants.length === 1) return { kind: 'exact', at: new Date(instants[0]!) };
  return { kind: 'ambiguous', first: new Date(instants[0]!), second: new Date(instants.at(-1)!), shiftMinutes };
}

/** The calendar day `at` falls on in `zone`. */
export function localDate(at: Date, zone: string): LocalDate & { weekday: number } {
  const dt = luxon().DateTime.fromJSDate(at, { zone });
  return { year: dt.year, month: dt.month, day: dt.day, weekday: dt.weekday };
}

/** The time of day `at` shows on a clock in `zone`. */
export function localTime(at: Date, zone: string): LocalTime {
  const dt = luxon().DateTime.fromJSDate(at, { zone });
  return { hour: dt.hour, minute: dt.minute };
}

/** The day `days` after `date` (calendar arithmetic, no zone involved). */
export function addDays(date: LocalDate, days: number): LocalDate & { weekday: number } {
  const dt = luxon().DateTime.fromObject({ year: date.year, month: date.month, day: date.day }, { zone: 'UTC' }).plus({ days });
  return { year: dt.year, month: dt.month, day: dt.day, weekday: dt.weekday };
}

/** The zone's short name at `at`: `CET`, `EST`; the offset (`GMT+11`) where it has no common abbreviation. */
export function zoneAbbreviation(at: Date, zone: string): string {
  if (zone === 'UTC') return 'UTC';
  const dt = luxon().DateTime.fromJSDate(at, { zone });
  for (const locale of ['en-US', 'en-GB']) {
    const name = dt.toFormat('ZZZZ', { locale });
    if (!/^(GMT|UTC)[+-]/.test(name)) return name;
  }
  return dt.toFormat('ZZZZ', { locale: 'en-GB' });
}

/**
 * Weekday and month names in the order day-month-year: Luxon's own English names (en-US), the
 * same on every runtime; en-GB's come from the runtime's ICU, which writes `Sept` since ICU 72.
 */
const NAMES_LOCALE = 'en-US';

/**
 * `Mon 7 Dec 09:30 CET`: how IQSP writes a time for someone in `zone` (the year is added when it
 * is not the year of `now`).
 */
export function formatInZone(at: Date, zone: string, now?: Date): string {
  const dt = luxon().DateTime.fromJSDate(at, { zone });
  const sameYear = now === undefined || luxon().DateTime.fromJSDate(now, { zone }).year === dt.year;
  return `${dt.toFormat(sameYear ? 'ccc d LLL HH:mm' : 'ccc d LLL yyyy HH:mm', { locale: NAMES_LOCALE })} ${zoneAbbreviation(at, zone)}`;
}

/** `HH:MM` of a time of day. */
export function clock(time: LocalTime): string {
  return `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
}

/** `Sun 29 Mar 2026` for a calendar day. */
export function formatDate(date: LocalDate): string {
  return luxon().DateTime.fromObject({ year: date.year, month: date.month, day: date.day }, { zone: 'UTC' }).toFormat('ccc d LLL yyyy', {
    locale: NAMES_LOCALE,
  });
}

/** A shift in words: `1 hour`, `30 minutes`. */
export function shiftInWords(minutes: number): string {
  if (minutes % 60 === 0) return minutes === 60 ? '1 hour' : `${minutes / 60} hours`;
  return `${minutes} minutes`;
}
