/**
 * Machines of a tenant, as the API shows them. Machines are created by their first ingest
 * (ingest/write-batch.ts); pausing, resuming and deleting one go through its monitor
 * (`/api/v1/monitors/{id}`), like any monitor.
 */
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import { findMachine, latestValues, listMachines, type LatestValue, type Machine, type MachineFilters } from './machines.repository.js';

export interface MachineWithValues extends Machine {
  metrics: LatestValue[];
}

export function createMachinesService({ db }: { db: Db }) {
  return {
    list: (tenantId: string, filters: MachineFilters) => listMachines(db, tenantId, filters),

    /** The machine and the latest value of each of its series; 404 for another tenant's. */
    async get(tenantId: string, machineId: string): Promise<MachineWithValues> {
      const machine = await findMachine(db, tenantId, machineId);
      if (!machine) throw new NotFoundError('Machine');
      return { ...machine, metrics: await latestValues(db, tenantId, machineId) };
    },
  };
}

export type MachinesService = ReturnType<typeof createMachinesService>;
