/**
 * What the benchmarks share: reading a process's CPU time and disk writes from /proc, latency
 * percentiles, adding up the generators' counters, and waiting for a spawned server to say where
 * it listens.
 */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The p-th percentile of sorted values (nearest rank); null when there are none. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** CPU seconds of a process in user space and in the kernel (system calls: on loopback, also the receiving side's TCP work). */
export function cpuSplit(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS_PER_S, system: Number(fields[12]) / CLOCK_TICKS_PER_S }; // utime, stime
}

/** Bytes a process has written to storage (WAL, database file); null where unreadable. */
export function writtenBytes(pid) {
  try {
    return Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
  } catch {
    return null;
  }
}

/** Adds counters of `from` into `into`; a non-number (an example text) keeps the first seen. */
export function merge(into, from) {
  for (const [key, n] of Object.entries(from)) into[key] = typeof n === 'number' ? (into[key] ?? 0) + n : (into[key] ?? n);
  return into;
}

/** Resolves with the first non-empty `match(line)` of the child's output; rejects if it exits first. */
export function announced(child, match) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        const found = match(line);
        if (found) resolve(found);
      }
    });
  });
}

/** For announced(): Vigie's URL from its "listening" log line. */
export const vigieListening = (line) => (line.startsWith('{') && JSON.parse(line).msg === 'Vigie is listening' ? JSON.parse(line).url : undefined);
