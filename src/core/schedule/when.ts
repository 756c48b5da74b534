/**
 * `<when>` (contract.md §4 "When"): the words that say when a post goes out, read from the start
 * of what follows the targets, then resolved to an instant in the requester's zone.
 *
 *   at YYYY-MM-DD HH:MM · at HH:MM (the next such time) · tomorrow HH:MM · in <n>m|h|d · next
 *
 * Words that do not read as a time are caption (`at last, we launch` is a caption); words shaped
 * like a time that is not one (`at 25:00`) are an error naming it, never a caption by surprise.
 */
import {
  addDays,
  clock,
  formatDate,
  formatInZone,
  localDate,
  localTime,
  shiftInWords,
  wallTime,
  zoneAbbreviation,
  type LocalDate,
  type LocalTime,
} from './zones.js';

export type When =
  | { kind: 'at'; date?: LocalDate | undefined; time: LocalTime }
  | { kind: 'tomorrow'; time: LocalTime }
  | { kind: 'in'; minutes: number }
  /** the workspace's next free posting slot */
  | { kind: 'next' }
  /** an instant chosen in a picker (Slack's datetimepicker) */
  | { kind: 'instant'; at: Date }
  /** `reschedule <id> now`: as soon as it is approved */
  | { kind: 'now' };

/** What the start of a text says about when: nothing (all caption), a time and the rest, or an error. */
export type WhenRead = { kind: 'none' } | { kind: 'when'; when: When; rest: string } | { kind: 'error'; message: string };

const TIME = /^(\d{1,2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DURATION = /^(\d{1,5})\s?(m|min|mins|minutes?|h|hrs?|hours?|d|days?)$/i;
/** Words a person means as a time of day but IQSP does not read (`9pm`, `9:30pm`, `12:5`): an error, not caption. */
const TIME_SHAPED = /^\d+:\d+$|^\d{1,2}(?:[:.]\d{1,2})?[ap]\.?m\.?$/i;
/** A date not written YYYY-MM-DD (`2026-12-7`), or joined to its time (`2026-12-07T09:30`). */
const DATE_SHAPED = /^\d{4}-\d{1,2}-\d{1,2}(?:T\S*)?$/i;
/** A duration IQSP does not read (`1.5h`, `2h30m`). */
const DURATION_SHAPED = /^\d+[.,]\d+\s?(?:m|min|mins|minutes?|h|hrs?|hours?|d|days?)$|^\d+[hd]\d+[mh]?$/i;

function readTime(word: string | undefined): LocalTime | 'invalid' | undefined {
  const match = word === undefined ? null : TIME.exec(word);
  if (!match) return word !== undefined && TIME_SHAPED.test(word) ? 'invalid' : undefined;
  const time = { hour: Number(match[1]), minute: Number(match[2]) };
  return time.hour > 23 || time.minute > 59 ? 'invalid' : time;
}

function readDate(word: string | undefined): LocalDate | 'invalid' | undefined {
  const match = word === undefined ? null : DATE.exec(word);
  if (!match) return word !== undefined && DATE_SHAPED.test(word) ? 'invalid' : undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  const check = new Date(Date.UTC(date.year, date.month - 1, date.day));
  const real = check.getUTCFullYear() === date.year && check.getUTCMonth() === date.month - 1 && check.getUTCDate() === date.day;
  return real ? date : 'invalid';
}

const TIME_HELP = 'Times are `at YYYY-MM-DD HH:MM`, `at HH:MM`, `tomorrow HH:MM`, `in 90m`, `in 2h`, `in 3d` or `next`.';

/** Reads `<when>` at the start of `text`; the rest (its blanks kept) is the caption. */
export function readWhen(text: string): WhenRead {
  const words: Array<{ word: string; end: number }> = [];
  for (const match of text.matchAll(/\S+/g)) {
    words.push({ word: match[0], end: match.index + match[0].length });
    if (words.length === 4) break;
  }
  const lower = words.map((w) => w.word.toLowerCase());
  const rest = (used: number) => text.slice(words[used - 1]!.end).replace(/^\s+/, '');
  const when = (w: When, used: number): WhenRead => ({ kind: 'when', when: w, rest: rest(used) });
  const bad = (message: string): WhenRead => ({ kind: 'error', message: `${message} ${TIME_HELP}` });

  switch (lower[0]) {
    case 'next':
      // Only as typed in lower case: a caption opening with "Next week…" stays a caption.
      return words[0]!.word === 'next' ? when({ kind: 'next' }, 1) : { kind: 'none' };
    case 'now':
      return { kind: 'none' };
    case 'tomorrow': {
      // `tomorrow at 09:30` as people write it, as well as `tomorrow 09:30`.
      const at = lower[1] === 'at' ? 2 : 1;
      const time = readTime(lower[at]);
      if (time === undefined) return { kind: 'none' };
      if (time === 'invalid') return bad(`"${words[at]!.word}" is not a time of day.`);
      return when({ kind: 'tomorrow', time }, at + 1);
    }
    case 'at': {
      const date = readDate(lower[1]);
      if (date === 'invalid') return bad(`"${words[1]!.word}" is not a date.`);
      if (date !== undefined) {
        const time = readTime(lower[2]);
        if (time === undefined) return bad(`"at ${words[1]!.word}" needs a time of day after the date.`);
        if (time === 'invalid') return bad(`"${words[2]!.word}" is not a time of day.`);
        return when({ kind: 'at', date, time }, 3);
      }
      const time = readTime(lower[1]);
      if (time === undefined) return { kind: 'none' };
      if (time === 'invalid') return bad(`"${words[1]!.word}" is not a time of day.`);
      return when({ kind: 'at', time }, 2);
    }
    case 'in': {
      const joined = lower[1] !== undefined && /^\d+$/.test(lower[1]) && lower[2] !== undefined ? `${lower[1]} ${lower[2]}` : undefined;
      const single = lower[1] === undefined ? null : DURATION.exec(lower[1]);
      const spaced = joined === undefined ? null : DURATION.exec(joined);
      const match = single ?? spaced;
      if (!match && lower[1] !== undefined && DURATION_SHAPED.test(lower[1]))
        return bad(`"${words[1]!.word}" is not a duration (whole minutes, hours or days: 90m, 2h, 3d).`);
      if (!match) return { kind: 'none' };
      const n = Number(match[1]);
      const unit = match[2]![0]!.toLowerCase();
      const minutes = unit === 'm' ? n : unit === 'h' ? n * 60 : n * 1440;
      if (minutes < 1) return bad(`"in ${match[0]}" is not ahead of now.`);
      return when({ kind: 'in', minutes }, single ? 2 : 3);
    }
    default:
      return { kind: 'none' };
  }
}

/** Reads a whole text as `<when>` (Discord's `when` option, `reschedule <id> <when>`), `now` included. */
export function parseWhenOnly(text: string): { ok: true; when: When } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'now') return { ok: true, when: { kind: 'now' } };
  // The picker-free forms without their keyword are accepted too: `2026-12-07 09:30`, `09:30`, `90m`.
  let read = readWhen(trimmed);
  if (read.kind === 'none') {
    const first = trimmed.split(/\s+/)[0] ?? '';
    const clockLike = [DATE, TIME, DATE_SHAPED, TIME_SHAPED].some((shape) => shape.test(first));
    read = readWhen(`${clockLike ? 'at' : 'in'} ${trimmed}`);
  }
  const alt = read;
  if (alt.kind === 'error') return { ok: false, message: alt.message };
  if (alt.kind === 'none' || alt.rest.trim() !== '')
    return { ok: false, message: `"${trimmed}" is not a time. ${TIME_HELP} (or \`now\` to reschedule)` };
  return { ok: true, when: alt.when };
}

/** What a resolution needs: the clock, the zone the words are read in, and how far ahead is allowed. */
export interface ScheduleRules {
  now: Date;
  zone: string;
  maxDays: number;
  /** The next free posting slot after `now`, for `next`; undefined when there is none (or no slots). */
  nextSlot?: () => Promise<Date | undefined>;
}

export type Resolution = { ok: true; at: Date | undefined; zone: string; note?: string | undefined } | { ok: false; message: string };

/** The instant `when` names in `rules.zone`, or why it cannot be used. `now` resolves to no time at all. */
export async function resolveWhen(when: When, rules: ScheduleRules): Promise<Resolution> {
  const { now, zone } = rules;
  let at: Date;
  let note: string | undefined;
  switch (when.kind) {
    case 'now':
      return { ok: true, at: undefined, zone };
    case 'instant':
      // A picker's value out of any calendar's range is as far ahead as can be.
      at = Number.isNaN(when.at.getTime()) ? new Date(8.64e15) : when.at;
      break;
    case 'in':
      at = new Date(now.getTime() + when.minutes * 60_000);
      break;
    case 'next': {
      const slot = await rules.nextSlot?.();
      if (!slot)
        return {
          ok: false,
          message: `There is no free posting slot in the next ${rules.maxDays} days. An admin sets the slots with \`slots mon-fri 09:00,13:00\`; or give a time (\`at HH:MM\`).`,
        };
      at = slot;
      break;
    }
    case 'at':
    case 'tomorrow': {
      const today = localDate(now, zone);
      const day = when.kind === 'tomorrow' ? addDays(today, 1) : (when.date ?? today);
      let found = instantOf(day, when.time, zone, now);
      // `at HH:MM` without a date is the next such time: tomorrow's once today's has passed. Today's
      // that the clocks skip has passed once the clock reads later (refused while it is still ahead).
      const passed = found.ok ? found.at.getTime() <= now.getTime() : minutesOf(localTime(now, zone)) > minutesOf(when.time);
      if (when.kind === 'at' && !when.date && passed) found = instantOf(addDays(today, 1), when.time, zone, now);
      if (!found.ok) return found;
      ({ at, note } = found);
      break;
    }
  }
  if (at.getTime() <= now.getTime())
    return {
      ok: false,
      message: `${formatInZone(at, zone, now)} is in the past (it is ${formatInZone(now, zone, now)} now). Choose a later time.`,
    };
  const limit = new Date(now.getTime() + rules.maxDays * 86_400_000);
  if (at.getTime() > limit.getTime())
    return {
      ok: false,
      message: `${formatInZone(at, zone, now)} is more than ${rules.maxDays} days ahead; posts can be scheduled until ${formatInZone(limit, zone, now)} (SCHEDULE_MAX_DAYS).`,
    };
  return { ok: true, at, zone, note };
}

function minutesOf(time: LocalTime): number {
  return time.hour * 60 + time.minute;
}

/**
 * The instant of a wall time, refusing a gap and taking the first of an overlap (and saying so);
 * the second when the first is not after `after` but the second is (`at 02:30` during the
 * repeated hour: the next 02:30 is the second).
 */
export function instantOf(
  date: LocalDate,
  time: LocalTime,
  zone: string,
  after?: Date,
): { ok: true; at: Date; note?: string | undefined } | { ok: false; message: string } {
  const found = wallTime(zone, date, time);
  switch (found.kind) {
    case 'exact':
      return { ok: true, at: found.at };
    case 'gap':
      return {
        ok: false,
        message: `${clock(time)} on ${formatDate(date)} does not exist in ${zone}: the clocks jump forward ${shiftInWords(found.shiftMinutes)} that night (daylight saving time). Choose another time.`,
      };
    case 'ambiguous': {
      const twice = `${clock(time)} happens twice on ${formatDate(date)} in ${zone} (the clocks go back ${shiftInWords(found.shiftMinutes)})`;
      const second = after !== undefined && found.first.getTime() <= after.getTime() && found.second.getTime() > after.getTime();
      if (second)
        return {
          ok: true,
          at: found.second,
          note: `${twice}; the first has passed, so IQSP takes the second, ${clock(time)} ${zoneAbbreviation(found.second, zone)}.`,
        };
      return { ok: true, at: found.first, note: `${twice}; IQSP takes the first, ${clock(time)} ${zoneAbbreviation(found.first, zone)}.` };
    }
  }
}
