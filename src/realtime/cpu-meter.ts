/**
 * The CPU time the realtime path takes: delivering events to the sockets' subscriptions (filters,
 * coalescing, framing), the coalescers' sweeps and the writes of the frames. Exposed in /metrics
 * as `vigie_realtime_cpu_seconds_total`, so an operator sees what the live feed costs, and
 * bench:realtime measures the hub's cost within one window instead of only as the difference of
 * two (which moves by several points of a core from one minute to the next with what else Vigie
 * does: the checks, the write-ahead log's growth and checkpoints).
 *
 * What is counted is the duration of each measured span: synchronous work on the event loop's
 * one thread, so its CPU time, system calls included, unless the operating system preempts the
 * thread meanwhile (then it overstates the cost, the safe side). `process.cpuUsage()` was tried
 * first and dropped: a getrusage() that sums every thread of the process, it took a third of
 * what it measured. Garbage the realtime path leaves and V8 collects later, outside the spans, is
 * not counted. One meter per process, like prom-client's process_cpu_seconds_total.
 */
let milliseconds = 0;
/** Spans open now: one inside another (a delivery inside a delivery) is counted once, by the outer. */
let open = 0;

/** Runs `work`, counting the time it takes as the realtime path's. */
export function meterRealtime<T>(work: () => T): T {
  if (open > 0) return work();
  open++;
  const started = performance.now();
  try {
    return work();
  } finally {
    milliseconds += performance.now() - started;
    open--;
  }
}

/** Seconds the realtime path has taken since the process started. */
export const realtimeCpuSeconds = (): number => milliseconds / 1000;
