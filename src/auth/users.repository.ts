import type { Db } from '../db/database.js';
import type { UsersTable } from '../db/tables/users.table.js';
import type { UserRole } from './roles.js';

export interface User {
  id: string;
  tenantId: string;
  email: string;
  role: UserRole;
  isSuperuser: boolean;
  isActive: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

export type UserPatch = Partial<Pick<UserWithPassword, 'role' | 'isActive' | 'passwordHash' | 'isSuperuser'>>;

const toUser = (row: UsersTable): UserWithPassword => ({
  id: row.id,
  tenantId: row.tenant_id,
  email: row.email,
  role: row.role as UserRole,
  isSuperuser: row.is_superuser === 1,
  isActive: row.is_active === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  passwordHash: row.password_hash,
});

export function withoutPassword({ passwordHash: _omitted, ...user }: UserWithPassword): User {
  return user;
}

export async function insertUser(db: Db, user: UserWithPassword): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: user.id,
      tenant_id: user.tenantId,
      email: user.email,
      password_hash: user.passwordHash,
      role: user.role,
      is_superuser: user.isSuperuser ? 1 : 0,
      is_active: user.isActive ? 1 : 0,
      created_at: user.createdAt,
      updated_at: user.updatedAt,
    })
    .execute();
}

/**
 * Login looks a user up by e-mail before any tenant is known: the one user read that is not
 * scoped by tenant, and it only serves to check a password.
 */
export async function findUserByEmailForLogin(db: Db, email: string): Promise<UserWithPassword | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  return row && toUser(row);
}

export async function findUser(db: Db, tenantId: string, userId: string): Promise<UserWithPassword | undefined> {
  const row = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', userId).executeTakeFirst();
  return row && toUser(row);
}

export async function listUsers(db: Db, tenantId: string): Promise<UserWithPassword[]> {
  const rows = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toUser);
}

export async function updateUser(db: Db, tenantId: string, userId: string, patch: UserPatch, now: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({
      ...(patch.role !== undefined && { role: patch.role }),
      ...(patch.isActive !== undefined && { is_active: patch.isActive ? 1 : 0 }),
      ...(patch.isSuperuser !== undefined && { is_superuser: patch.isSuperuser ? 1 : 0 }),
      ...(patch.passwordHash !== undefined && { password_hash: patch.passwordHash }),
      updated_at: now,
    })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteUser(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
