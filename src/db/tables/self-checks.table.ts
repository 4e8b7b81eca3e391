/** A monitor of kind `self` and the part of Vigie it watches (self-monitoring/self-services.ts). */
export interface SelfChecksTable {
  monitor_id: string;
  tenant_id: string;
  service: string;
}
