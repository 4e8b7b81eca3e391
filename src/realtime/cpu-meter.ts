/**
 * The CPU time the realtime path takes: delivering events to the sockets' subscriptions (filters,
 * coalescing, framing), the coalescers' sweeps and the writes of the frames. Exposed in /metrics
 * as `vigie_realtime_cpu_seconds_total`, so an operator sees what the live feed costs, and
 * bench:realtime measures the hub's cost within one window instead of only as the difference of
 * two (which moves by several points of a core from one minute to the next with what else Vigie
 * does: the checks, the write-ahead log's growth and checkpoints).
 *
 * One meter per process, as CPU time is the process's (like prom-client's
 * process_cpu_seconds_total). `process.cpuUsage()` is read before and after each measured span:
 * a system call of about a microsecond, taken per event delivered and per window flushed (a few
 * hundred times a second), never per event and socket. What other threads of the process do
 * meanwhile (V8's concurrent garbage collection) counts too; what the realtime path's garbage
 * costs later, outside the spans, does not.
 */
let micros = 0;

/** Runs `work`, counting the CPU time it takes as the realtime path's. */
export function meterRealtime<T>(work: () => T): T {
  const before = process.cpuUsage();
  try {
    return work();
  } finally {
    const spent = process.cpuUsage(before);
    micros += spent.user + spent.system;
  }
}

/** CPU seconds the realtime path has taken since the process started. */
export const realtimeCpuSeconds = (): number => micros / 1e6;
