/** Tenants: the seeds' "clients". Every tenant-owned row elsewhere carries `tenant_id`. */
export interface TenantsTable {
  id: string;
  name: string;
  created_at: number;
}
