/**
 * "Samples were stored": told by ingestion after its transaction commits, heard by whoever must
 * react at once — threshold rules on `last` (an alert must not wait for the next evaluation
 * tick) and Vigie's own counters. In-process listeners; a listener that throws is logged and
 * does not stop the others or the ingest.
 */
export interface StoredSample {
  seriesId: number;
  name: string;
  /** numeric | bool | string */
  type: string;
  labels: Record<string, string>;
  at: number;
  /** numeric: the value; bool: 1 or 0; string: null (see `text`). */
  value: number | null;
  text: string | null;
}

export interface StoredSamples {
  tenantId: string;
  machineId: string;
  samples: readonly StoredSample[];
}

export type SamplesListener = (stored: StoredSamples) => void;

export function createSampleEvents(onListenerError: (error: unknown) => void = () => {}) {
  const listeners = new Set<SamplesListener>();
  return {
    /** Returns the function that removes the listener. */
    listen(listener: SamplesListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Call after the commit: what listeners hear is stored. */
    stored(stored: StoredSamples): void {
      for (const listener of listeners) {
        try {
          listener(stored);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}

export type SampleEvents = ReturnType<typeof createSampleEvents>;
