/**
 * `npm run bench`: runs each benchmark in turn, on the built dist/, each in its own processes,
 * prints what each prints, then one table of every figure beside its baseline, the ratio and
 * the goal (issue 19). Each figure is a line `RESULT <json>` a script prints:
 *   { figure, value, unit, baseline, baselineLabel, ratio, goal, met } (or an array of them).
 *
 *   npm run bench                                 every benchmark
 *   node bench/index.mjs serve ack                only those (serve, ack, publish), on an existing build
 *   npm run bench -- --baseline /path/to/dist/    each script also measures that build (an earlier
 *                                                 version, built elsewhere) in the same run
 *
 * Set IQSP_DIST=/abs/path/to/dist/ to measure another build (each script reads it).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';

const BENCHES = {
  serve: ['bench/serve.mjs'],
  ack: ['bench/slack-ack.mjs'],
  publish: ['bench/publish.mjs'],
};

const argv = process.argv.slice(2);
const baselineAt = argv.indexOf('--baseline');
const passOn = baselineAt >= 0 ? ['--baseline', argv[baselineAt + 1]] : [];
if (baselineAt >= 0 && !argv[baselineAt + 1]) throw new Error('--baseline takes the path of a built dist/ folder');
const chosen = baselineAt >= 0 ? argv.filter((_, i) => i !== baselineAt && i !== baselineAt + 1) : argv;
for (const name of chosen)
  if (!(name in BENCHES)) throw new Error(`unknown benchmark "${name}": choose from ${Object.keys(BENCHES).join(', ')}`);
const names = chosen.length > 0 ? chosen : Object.keys(BENCHES);

/** Runs one script, echoing its output; resolves with its figures and exit code. */
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let pending = '';
    const figures = [];
    child.stdout.on('data', (chunk) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (line.startsWith('RESULT ')) figures.push(...[JSON.parse(line.slice('RESULT '.length))].flat());
        else process.stdout.write(`${line}\n`);
      }
    });
    child.on('close', (code) => resolve({ figures, code }));
  });
}

function number(value, unit) {
  if (value === null || value === undefined) return '';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

const rows = [];
let failed = false;
for (const name of names) {
  process.stdout.write(`\n== ${name}: ${BENCHES[name].join(' ')}\n`);
  const { figures, code } = await run([...BENCHES[name], ...passOn]);
  if (code !== 0) {
    failed = true;
    process.stdout.write(`${name} exited with ${code}\n`);
  }
  rows.push(...figures);
}

const table = [
  ['figure', 'IQSP', 'baseline', 'ratio', 'goal', 'met'],
  ...rows.map((r) => [
    r.figure,
    number(r.value, r.unit),
    r.baseline === null || r.baseline === undefined ? '' : `${number(r.baseline, r.unit)} (${r.baselineLabel})`,
    r.ratio === null || r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.goal,
    r.met ? 'yes' : 'NO',
  ]),
];
const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
process.stdout.write(`\nIssue 19 figures, one run on ${os.cpus().length} CPU(s), Node ${process.version}:\n`);
for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}\n`);
if (failed) process.exitCode = 1;
