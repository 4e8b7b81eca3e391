import { Type } from 'typebox';
import type { User } from '../auth/users.repository.js';
import { USER_ROLES } from '../auth/roles.js';
import { MIN_PASSWORD_LENGTH } from '../auth/users.service.js';
import { Timestamp, toIso, Uuid } from '../http/schemas.js';

export const UserRoleSchema = Type.Enum([...USER_ROLES]);

export const UserResponse = Type.Object({
  id: Uuid,
  tenant_id: Uuid,
  email: Type.String(),
  role: UserRoleSchema,
  is_superuser: Type.Boolean(),
  is_active: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 });

export const CreateUserBody = Type.Object({
  email: Type.String({ format: 'email', maxLength: 320 }),
  password: Password,
  role: Type.Optional(UserRoleSchema),
  is_superuser: Type.Optional(Type.Boolean({ description: 'Only a superuser may set this.' })),
});

export const UpdateUserBody = Type.Object(
  {
    role: Type.Optional(UserRoleSchema),
    password: Type.Optional(Password),
    is_active: Type.Optional(Type.Boolean()),
    is_superuser: Type.Optional(Type.Boolean({ description: 'Only a superuser may set this.' })),
  },
  { minProperties: 1, additionalProperties: false },
);

export function toUserResponse(user: User) {
  return {
    id: user.id,
    tenant_id: user.tenantId,
    email: user.email,
    role: user.role,
    is_superuser: user.isSuperuser,
    is_active: user.isActive,
    created_at: toIso(user.createdAt),
    updated_at: toIso(user.updatedAt),
  };
}
