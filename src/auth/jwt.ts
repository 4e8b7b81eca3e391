/** Access tokens for users: HS256 JWTs signed with SECRET_KEY, checked against the injected clock. */
import { createHash } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.js';

export interface AccessTokenClaims {
  userId: string;
  tenantId: string;
}

export class InvalidTokenError extends Error {
  constructor(readonly reason: 'expired' | 'invalid') {
    super(reason === 'expired' ? 'Token expired' : 'Invalid token');
  }
}

export interface TokenService {
  issue(claims: AccessTokenClaims): Promise<{ token: string; expiresIn: number }>;
  verify(token: string): Promise<AccessTokenClaims>;
}

const ISSUER = 'vigie';

/** A fixed-length key derived from the secret, so any SECRET_KEY length gives a proper HS256 key. */
export const accessTokenKey = (secretKey: string): Buffer => createHash('sha256').update(`vigie-jwt:${secretKey}`).digest();

export function createTokenService(secretKey: string, expiresMinutes: number, clock: Clock): TokenService {
  const key = accessTokenKey(secretKey);
  const expiresIn = expiresMinutes * 60;
  return {
    async issue({ userId, tenantId }) {
      const now = Math.floor(clock.now() / 1000);
      const token = await new SignJWT({ tid: tenantId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresIn)
        .sign(key);
      return { token, expiresIn };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          algorithms: ['HS256'],
          currentDate: new Date(clock.now()),
          // jose checks `exp` only when present: a token without one, even signed with our key
          // (leaked, or minted by a tool), would be valid forever.
          requiredClaims: ['exp'],
        });
        if (typeof payload.sub !== 'string' || typeof payload.tid !== 'string') throw new InvalidTokenError('invalid');
        return { userId: payload.sub, tenantId: payload.tid };
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new InvalidTokenError('expired');
        throw new InvalidTokenError('invalid');
      }
    },
  };
}
