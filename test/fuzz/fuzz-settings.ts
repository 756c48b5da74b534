/**
 * How hard the fuzz tests push. The default suite runs a bounded, seeded number of cases (the
 * same inputs every run, so a failure reproduces); `npm run fuzz` raises the count through
 * IQSP_FUZZ_RUNS. IQSP_FUZZ_SEED replays another seed (fast-check prints the seed and the
 * shrunk counterexample of a failure).
 */
import fc from 'fast-check';

const runs = Number(process.env.IQSP_FUZZ_RUNS ?? '');
// Unset or empty: the documented seed (Number('') is 0, which would replay seed 0 instead).
const seedText = process.env.IQSP_FUZZ_SEED?.trim();
const seed = seedText ? Number(seedText) : Number.NaN;

/** Cases per property; `scale` weights cheap properties up and expensive ones down. */
export function fuzzRuns(scale = 1): number {
  const base = Number.isInteger(runs) && runs > 0 ? runs : 60;
  return Math.max(1, Math.round(base * scale));
}

export const FUZZ_SEED = Number.isInteger(seed) ? seed : 20261313;

/** fast-check's parameters for a property of `scale`. */
export function fuzzParameters(scale = 1): { seed: number; numRuns: number } {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(scale) };
}

/** Words the chat grammar knows, and a few that chat markup and the parsers find hard. */
const WORDS = [
  'help',
  'connect',
  'accounts',
  'post',
  'status',
  'cancel',
  'retry',
  'disconnect',
  'data',
  'delete-my-data',
  'confirm',
  'approvers',
  'add',
  'remove',
  'approvals',
  'scheduled',
  'reschedule',
  'edit',
  'verify',
  'timezone',
  'workspace',
  'slots',
  'off',
  'audit',
  'x',
  'facebook',
  'instagram',
  'tiktok',
  'linkedin',
  'youtube',
  'threads',
  'bluesky',
  'all',
  'tiktok:public',
  'tiktok:private',
  'tiktok:bogus',
  '@acme',
  '@',
  ',',
  'x,facebook',
  'at',
  'in',
  'tomorrow',
  'next',
  'now',
  '2026-12-31',
  '2026-02-30',
  '09:00',
  '24:61',
  '5m',
  '0h',
  '99999999d',
  '-1d',
  'mon-fri',
  'sun',
  'Europe/Paris',
  'Mars/Olympus',
  '---',
  '<!channel>',
  '<!subteam^S1|@team>',
  '<https://evil.example|Approve>',
  '<http:',
  '|',
  '<@U0BOB>',
  '<@!123>',
  '<#C1>',
  '@everyone',
  '@here',
  '"',
  '“',
  '\n',
  '\t',
  'ABCDEFG',
  'H3K9P2Q',
  '0',
  '-1',
  '1e309',
  'NaN',
];

/** Text shaped like chat commands: known words mixed with arbitrary strings. */
export const commandText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...WORDS) },
          fc.string({ maxLength: 12 }),
          fc.string({ unit: 'grapheme', maxLength: 6 }),
        ),
        { maxLength: 9 },
      )
      .map((words) => words.join(' ')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...WORDS).chain((w) => fc.nat({ max: 4000 }).map((n) => `${w} ${'|<http:'.repeat(n % 50)}${'x'.repeat(n)}`)),
  },
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One change to a JSON document: replace or delete the value at a path, or wrap it in an array. */
interface Mutation {
  at: number;
  action: 'replace' | 'delete' | 'wrap' | 'null' | 'stringify';
  value: Json;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom('replace', 'delete', 'wrap', 'null', 'stringify'),
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
});

function paths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries: Array<[string | number, Json]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

/** Which paths of a document a mutation may touch. */
export type PathFilter = (path: ReadonlyArray<string | number>) => boolean;

function apply(document: Json, { at, action, value }: Mutation, keep: PathFilter): Json {
  const all = paths(document).filter((p) => p.length > 0 && keep(p));
  if (all.length === 0) return action === 'replace' ? value : document;
  const path = all[at % all.length]!;
  const copy = structuredClone(document);
  let parent = copy as { [key: string]: Json } | Json[];
  for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[key] as typeof parent;
  const last = path.at(-1)!;
  const holder = parent as Record<string | number, Json>;
  const current = holder[last] as Json;
  if (action === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete holder[last];
  } else if (action === 'replace') holder[last] = value;
  else if (action === 'wrap') holder[last] = [current];
  else if (action === 'null') holder[last] = null;
  else holder[last] = JSON.stringify(current);
  return copy;
}

/**
 * `base` with up to five mutations; paths `keep` refuses are never touched (URLs the service
 * would fetch stay on this machine; protocol fields only the platform writes stay as it writes them).
 */
export function mutated(base: Json, keep: PathFilter = () => true): fc.Arbitrary<Json> {
  return fc.array(mutation, { minLength: 1, maxLength: 5 }).map((mutations) => mutations.reduce((doc, m) => apply(doc, m, keep), base));
}

export type { Json };

/**
 * `base` with up to five of its string values (where `keep` allows) replaced by arbitrary text:
 * the document keeps its shape and types, as a platform that validates its own payloads
 * delivers what a person typed.
 */
export function withStringsReplaced(base: Json, keep: PathFilter = () => true): fc.Arbitrary<Json> {
  const stringPaths = paths(base).filter((p) => p.length > 0 && keep(p) && typeof valueAt(base, p) === 'string');
  if (stringPaths.length === 0) return fc.constant(base);
  const text = fc.oneof(commandText, fc.string({ unit: 'grapheme', maxLength: 120 }), fc.constant(''));
  return fc
    .array(fc.tuple(fc.nat(), text), { minLength: 1, maxLength: 5 })
    .map((changes) =>
      changes.reduce(
        (doc, [at, value]) => apply(doc, { at: 0, action: 'replace', value }, (p) => samePath(p, stringPaths[at % stringPaths.length]!)),
        base,
      ),
    );
}

function valueAt(document: Json, path: ReadonlyArray<string | number>): Json | undefined {
  let current: Json | undefined = document;
  for (const key of path)
    current = current !== null && typeof current === 'object' ? (current as Record<string | number, Json>)[key] : undefined;
  return current;
}

function samePath(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}
