/**
 * Weekly posting slots (Buffer's queue): the days and times of day a workspace posts at, read in
 * the workspace's zone. `post <targets> next <caption>` takes the first slot no upcoming post of
 * the workspace holds.
 */
import { addDays, clock, localDate, wallTime, type LocalTime } from './zones.js';

export interface PostingSlots {
  /** ISO weekdays, Monday = 1 … Sunday = 7, ascending. */
  days: number[];
  /** Times of day, `HH:MM`, ascending. */
  times: string[];
}

const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** `mon`, `tues`, `thursday` (at least three letters of the day's name; `monkey` is no day). */
function dayNumber(word: string): number | undefined {
  if (word.length < 3) return undefined;
  const index = DAY_NAMES.findIndex((name) => name.startsWith(word));
  return index < 0 ? undefined : index + 1;
}

/** `mon-fri`, `mon,wed,fri`, `sat-sun`, `fri-mon` (wrapping), `daily`, `weekdays`, `weekends`. */
function parseDays(spec: string): number[] | string {
  const lower = spec.toLowerCase();
  if (lower === 'daily' || lower === 'every-day' || lower === 'mon-sun') return [1, 2, 3, 4, 5, 6, 7];
  if (lower === 'weekdays') return [1, 2, 3, 4, 5];
  if (lower === 'weekends') return [6, 7];
  const days = new Set<number>();
  for (const part of lower.split(',')) {
    const [from, to, extra] = part.split('-');
    const a = from === undefined ? undefined : dayNumber(from);
    const b = to === undefined ? a : dayNumber(to);
    if (a === undefined || b === undefined || extra !== undefined)
      return `"${part}" is not a day or a range of days (mon, tue, … sun; mon-fri).`;
    for (let d = a; ; d = (d % 7) + 1) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

function readSlotTime(text: string): LocalTime | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) return undefined;
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** Reads `<days> <HH:MM,…>` (`mon-fri 09:00,13:00`); an error names the part that is wrong. */
export function parseSlots(daysSpec: string, timesSpec: string): PostingSlots | string {
  const days = parseDays(daysSpec);
  if (typeof days === 'string') return days;
  const times = new Set<string>();
  for (const word of timesSpec.split(',').filter((w) => w.trim() !== '')) {
    const time = readSlotTime(word.trim());
    if (!time) return `"${word}" is not a time of day (HH:MM, 24-hour clock).`;
    times.add(clock(time));
  }
  if (times.size === 0) return 'Which times of day? For example `slots mon-fri 09:00,13:00`.';
  if (times.size > 24) return 'At most 24 slots a day.';
  return { days, times: [...times].sort() };
}

/** Slots as people write them: `Mon–Fri at 09:00, 13:00`. */
export function describeSlots(slots: PostingSlots): string {
  const names = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const days = slots.days;
  const contiguous = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1]! + 1);
  const dayText =
    days.length === 7
      ? 'every day'
      : contiguous
        ? `${names[days[0]! - 1]}–${names[days.at(-1)! - 1]}`
        : days.map((d) => names[d - 1]).join(', ');
  return `${dayText} at ${slots.times.join(', ')}`;
}

/**
 * Slots stored as JSON, read back in order (the next free slot relies on it); undefined when none
 * (or unreadable). Values no `parseSlots` wrote are dropped rather than read as a time.
 */
export function slotsFromJson(json: string | null): PostingSlots | undefined {
  if (!json) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { days, times } = value as { days?: unknown; times?: unknown };
  if (!Array.isArray(days) || !Array.isArray(times)) return undefined;
  const validDays = new Set(days.filter((d): d is number => Number.isInteger(d) && d >= 1 && d <= 7));
  const validTimes = new Set(
    times.flatMap((t) => {
      const time = typeof t === 'string' ? readSlotTime(t) : undefined;
      return time ? [clock(time)] : [];
    }),
  );
  if (validDays.size === 0 || validTimes.size === 0) return undefined;
  return { days: [...validDays].sort((a, b) => a - b), times: [...validTimes].sort() };
}

/**
 * The first slot after `now` within `maxDays` that `taken` does not hold (instants in ms). A slot
 * time a daylight-saving gap skips is skipped; one it repeats is its first occurrence.
 */
export function nextFreeSlot(slots: PostingSlots, zone: string, now: Date, maxDays: number, taken: ReadonlySet<number>): Date | undefined {
  const today = localDate(now, zone);
  const limit = now.getTime() + maxDays * 86_400_000;
  // The window ends maxDays × 24 hours after now, which the clocks going forward meanwhile put on
  // the calendar day after today + maxDays; the limit keeps out what lies beyond.
  for (let offset = 0; offset <= maxDays + 1; offset += 1) {
    const day = addDays(today, offset);
    if (!slots.days.includes(day.weekday)) continue;
    for (const text of slots.times) {
      const [hour, minute] = text.split(':').map(Number) as [number, number];
      const time: LocalTime = { hour, minute };
      const found = wallTime(zone, day, time);
      if (found.kind === 'gap') continue;
      const at = found.kind === 'exact' ? found.at : found.first;
      if (at.getTime() <= now.getTime() || at.getTime() > limit) continue;
      if (!taken.has(at.getTime())) return at;
    }
  }
  return undefined;
}
