import { Type } from 'typebox';
import { ValidationError } from '../errors.js';
import { actorOf } from '../http/access.js';
import { errorResponses, Uuid } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Services } from '../services.js';

const LoginBody = Type.Object({
  username: Type.Optional(Type.String({ maxLength: 320, description: 'The e-mail address (OAuth2 password-form name)' })),
  email: Type.Optional(Type.String({ maxLength: 320, description: 'Accepted instead of username in JSON bodies' })),
  password: Type.String({ maxLength: 1024 }),
});

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
});

const MeResponse = Type.Object({
  auth: Type.Union([Type.Literal('user'), Type.Literal('api_key')]),
  id: Uuid,
  tenant_id: Uuid,
  email: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  is_active: Type.Optional(Type.Boolean()),
  is_superuser: Type.Optional(Type.Boolean()),
  name: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  permissions: Type.Array(Type.String()),
});

export function registerAuthRoutes(app: VigieApp, services: Services, loginRateLimitPerMinute: number): void {
  app.post(
    '/api/v1/auth/login',
    {
      config: { access: 'public', rateLimit: { max: loginRateLimitPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Log in with e-mail and password (form-encoded or JSON); returns a bearer token',
        body: LoginBody,
        response: { 200: TokenResponse, ...errorResponses(401, 422, 429, 503) },
      },
    },
    async (request) => {
      const email = request.body.username ?? request.body.email;
      if (email === undefined) throw ValidationError.field(['body', 'username'], 'Field required', 'missing');
      const user = await services.users.verifyCredentials(email, request.body.password);
      const { token, expiresIn } = await services.tokens.issue({ userId: user.id, tenantId: user.tenantId });
      return { access_token: token, token_type: 'bearer' as const, expires_in: expiresIn };
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      config: { access: 'authenticated' },
      schema: { tags: ['auth'], summary: 'Who the credential belongs to', response: { 200: MeResponse, ...errorResponses(401) } },
    },
    async (request) => {
      const actor = actorOf(request);
      const permissions = [...actor.permissions].sort();
      if (actor.kind === 'user') {
        const user = await services.users.get(actor.tenantId, actor.userId!);
        return {
          auth: 'user' as const,
          id: actor.userId!,
          tenant_id: actor.tenantId,
          email: user.email,
          role: user.role,
          is_active: user.isActive,
          is_superuser: user.isSuperuser,
          permissions,
        };
      }
      const key = await services.apiKeys.get(actor.tenantId, actor.apiKeyId!);
      return { auth: 'api_key' as const, id: key.id, tenant_id: actor.tenantId, name: key.name, scope: key.scope, permissions };
    },
  );
}
