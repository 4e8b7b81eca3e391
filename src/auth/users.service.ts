import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../db/errors.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import { hashPassword, UNUSABLE_PASSWORD_HASH, verifyPassword } from './passwords.js';
import type { UserRole } from './roles.js';
import type { ServiceContext } from './services.js';
import { findTenant } from './tenants.repository.js';
import { deleteUser, findUser, findUserByEmailForLogin, insertUser, listUsers, updateUser, withoutPassword, type User, type UserPatch } from './users.repository.js';

export const MIN_PASSWORD_LENGTH = 8;

export interface NewUser {
  email: string;
  password: string;
  role: UserRole;
  isSuperuser?: boolean;
}

export interface UserUpdate {
  role?: UserRole;
  password?: string;
  isActive?: boolean;
  isSuperuser?: boolean;
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw ValidationError.field(['body', 'password'], `Password must be at least ${MIN_PASSWORD_LENGTH} characters long`, 'string_too_short');
  }
}

export function createUsersService({ db, clock }: ServiceContext) {
  const get = async (tenantId: string, userId: string): Promise<User> => {
    const user = await findUser(db, tenantId, userId);
    if (!user) throw new NotFoundError('User');
    return withoutPassword(user);
  };

  return {
    get,

    async create(tenantId: string, input: NewUser): Promise<User> {
      checkPassword(input.password);
      if (!(await findTenant(db, tenantId))) throw new NotFoundError('Tenant');
      const now = clock.now();
      const user = {
        id: randomUUID(),
        tenantId,
        email: normalizeEmail(input.email),
        role: input.role,
        isSuperuser: input.isSuperuser ?? false,
        isActive: true,
        createdAt: now,
        updatedAt: now,
        passwordHash: await hashPassword(input.password),
      };
      try {
        await insertUser(db, user);
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError({ message: 'A user with this e-mail already exists.' });
        throw error;
      }
      return withoutPassword(user);
    },

    async list(tenantId: string): Promise<User[]> {
      return (await listUsers(db, tenantId)).map(withoutPassword);
    },

    async update(tenantId: string, userId: string, input: UserUpdate): Promise<User> {
      const patch: UserPatch = { role: input.role, isActive: input.isActive, isSuperuser: input.isSuperuser };
      if (input.password !== undefined) {
        checkPassword(input.password);
        patch.passwordHash = await hashPassword(input.password);
      }
      if (!(await updateUser(db, tenantId, userId, patch, clock.now()))) throw new NotFoundError('User');
      return get(tenantId, userId);
    },

    async remove(tenantId: string, userId: string): Promise<void> {
      if (!(await deleteUser(db, tenantId, userId))) throw new NotFoundError('User');
    },

    /** Checks e-mail and password; spends the same time whether or not the e-mail exists. */
    async verifyCredentials(email: string, password: string): Promise<User> {
      const user = await findUserByEmailForLogin(db, normalizeEmail(email));
      const passwordOk = await verifyPassword(password, user?.passwordHash ?? UNUSABLE_PASSWORD_HASH);
      if (!user || !passwordOk || !user.isActive) throw new UnauthorizedError('Incorrect username or password');
      return withoutPassword(user);
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
