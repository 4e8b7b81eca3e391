/**
 * A doorbell between the code that writes alert events (result recording) and the alerting loop
 * that routes them: in-process, so an alert goes out within milliseconds instead of at the next
 * poll. Polling stays as the safety net (events written by another process, a lost wake-up).
 */
export interface WakeSignal {
  wake(): void;
  /** One listener: the alerting loop of this process. */
  listen(listener: () => void): void;
}

export function createWakeSignal(): WakeSignal {
  let listener: (() => void) | undefined;
  return {
    wake: () => listener?.(),
    listen(next) {
      listener = next;
    },
  };
}
