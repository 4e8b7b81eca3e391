/** Users log in with e-mail + password; each belongs to one tenant with one role. */
export interface UsersTable {
  id: string;
  tenant_id: string;
  /** Stored lower-cased; unique across tenants because login is by e-mail alone. */
  email: string;
  password_hash: string;
  role: string;
  is_superuser: number;
  is_active: number;
  created_at: number;
  updated_at: number;
}
