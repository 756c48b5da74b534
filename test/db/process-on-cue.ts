/**
 * Child processes that start, get ready, and then act all at the same moment: each runs a
 * driver script from test/fixtures (on the built code, dist/) that prints "ready", waits for
 * one line on stdin, does its work and prints one JSON line with the outcome. Starting a
 * process takes far longer than the race a test is after, so the start is not the cue.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from '../helpers/cli.js';

export interface ProcessOnCue<T> {
  /** Resolves when the process is ready; rejects when it died first. */
  ready: Promise<void>;
  /** Tells it to act. */
  go(): void;
  /** Its JSON line, once it exited with 0. */
  outcome: Promise<T>;
}

export function startOnCue<T>(fixture: string, args: string[], env: Record<string, string>): ProcessOnCue<T> {
  const script = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
  const child = spawn(process.execPath, [script, ...args], { env: cleanEnv(env), cwd: path.dirname(script) });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.startsWith('ready\n')) resolve();
    });
    child.on('close', (code) => reject(new Error(`${fixture} exited (${code}) before it was ready: ${stderr}`)));
  });
  const outcome = new Promise<T>((resolve, reject) =>
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('[') || l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`${fixture} exited ${code}: ${stderr}`));
      else resolve(JSON.parse(line) as T);
    }),
  );
  // A process that dies early is reported through `ready`.
  outcome.catch(() => undefined);
  return { ready, go: () => child.stdin.end('go\n'), outcome };
}

/** Starts `count` processes, waits until all are ready, cues them at once, and returns their outcomes. */
export async function allAtOnce<T>(processes: Array<ProcessOnCue<T>>): Promise<T[]> {
  await Promise.all(processes.map((p) => p.ready));
  for (const p of processes) p.go();
  return Promise.all(processes.map((p) => p.outcome));
}
