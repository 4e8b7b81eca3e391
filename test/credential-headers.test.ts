/**
 * Credential-like custom headers of HTTP targets are write-only, like `auth`: every answer masks
 * their values (read-only keys included), a PATCH that leaves them out or sends the mask back
 * keeps them, `null` removes them, and the probe still sends the stored values to a real local
 * server.
 */
import { describe, expect, it } from 'vitest';
import { HEADER_MASK, isCredentialHeader } from '../src/kinds/http/credential-headers.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { appPerTest, standInForFile } from './helpers/stand-in-app.js';

const SECRETS = { Authorization: 'Bearer s3cret-bearer-0123', 'X-API-Key': 'vk_secret_api_key_4567', Cookie: 'sid=secret-cookie-89', 'X-Session-Id': 'secret-session-ab' };
const MASKED = Object.fromEntries(Object.keys(SECRETS).map((name) => [name, HEADER_MASK]));

describe('the credential-header rule', () => {
  it('covers the usual names and any name with token, secret, key, auth, password or session, in any case', () => {
    for (const name of ['Authorization', 'proxy-authorization', 'X-API-KEY', 'cookie', 'X-Auth-Token', 'x-client-secret', 'Api-Key', 'X-Password', 'X-Session-Id', 'x-amz-security-token']) {
      expect(isCredentialHeader(name), name).toBe(true);
    }
    for (const name of ['Accept', 'Content-Type', 'X-Request-Id', 'User-Agent', 'X-Trace', 'Keep-Alive']) expect(isCredentialHeader(name), name).toBe(false);
  });
});

const standIn = standInForFile();

describe.each(TEST_DIALECTS)('credential headers of HTTP targets on %s', (dialect) => {
  const open = appPerTest(dialect, standIn);

  async function start() {
    const { c, tenant, call } = await open();
    const readOnlyKey = (await c.services.apiKeys.create(tenant.tenantId, { name: 'viewer', scope: 'read-only' })).secret;
    const id = (await call('POST', '/api/v1/http-targets', { name: 'with secrets', url: `${standIn.base}/probe`, headers: { ...SECRETS, 'X-Trace': 'visible-1' } })).json().id as string;
    /** Runs a check and returns the headers the local server received. */
    const probeHeaders = async () => {
      standIn.reset();
      const check = await call('POST', `/api/v1/http-targets/${id}/check`);
      expect(check.statusCode, check.body).toBe(200);
      expect(standIn.recorded).toHaveLength(1);
      return standIn.recorded[0]!.headers;
    };
    return { call, id, readOnlyKey, probeHeaders };
  }

  const expectNoSecret = (body: string) => {
    for (const secret of Object.values(SECRETS)) expect(body).not.toContain(secret);
  };

  it('answers mask them, for a read-only key too; the probe sends the real values', async () => {
    const { call, id, readOnlyKey, probeHeaders } = await start();
    for (const key of [readOnlyKey, undefined]) {
      const one = await call('GET', `/api/v1/http-targets/${id}`, undefined, key);
      expect(one.statusCode).toBe(200);
      expect(one.json().headers).toEqual({ ...MASKED, 'X-Trace': 'visible-1' });
      expectNoSecret(one.body);
      const list = await call('GET', '/api/v1/http-targets', undefined, key);
      expect(list.json()[0].headers).toEqual({ ...MASKED, 'X-Trace': 'visible-1' });
      expectNoSecret(list.body);
    }
    const sent = await probeHeaders();
    expect(sent).toMatchObject({ authorization: SECRETS.Authorization, 'x-api-key': SECRETS['X-API-Key'], cookie: SECRETS.Cookie, 'x-session-id': SECRETS['X-Session-Id'], 'x-trace': 'visible-1' });
  });

  it('a PATCH without them, or with the mask sent back, keeps them; the probe still sends them', async () => {
    const { call, id, probeHeaders } = await start();
    const renamed = await call('PATCH', `/api/v1/http-targets/${id}`, { name: 'renamed' });
    expect(renamed.json().headers).toEqual({ ...MASKED, 'X-Trace': 'visible-1' });
    expectNoSecret(renamed.body);

    // A headers object that leaves the credentials out replaces the others and keeps them.
    const otherHeaders = await call('PATCH', `/api/v1/http-targets/${id}`, { headers: { 'X-Trace': 'visible-2' } });
    expect(otherHeaders.statusCode, otherHeaders.body).toBe(200);
    expect(otherHeaders.json().headers).toEqual({ ...MASKED, 'X-Trace': 'visible-2' });
    expect(await probeHeaders()).toMatchObject({ authorization: SECRETS.Authorization, 'x-api-key': SECRETS['X-API-Key'], cookie: SECRETS.Cookie, 'x-trace': 'visible-2' });

    // What a client read, sent back as it is.
    const read = (await call('GET', `/api/v1/http-targets/${id}`)).json();
    const sentBack = await call('PATCH', `/api/v1/http-targets/${id}`, { headers: read.headers, timeout_seconds: 5 });
    expect(sentBack.statusCode, sentBack.body).toBe(200);
    const sent = await probeHeaders();
    expect(sent).toMatchObject({ authorization: SECRETS.Authorization, 'x-api-key': SECRETS['X-API-Key'], cookie: SECRETS.Cookie, 'x-session-id': SECRETS['X-Session-Id'] });
    expect(Object.values(sent)).not.toContain(HEADER_MASK);
  });

  it('null removes one (any case), a new value replaces it, the mask without a stored value is refused', async () => {
    const { call, id, probeHeaders } = await start();
    const removed = await call('PATCH', `/api/v1/http-targets/${id}`, { headers: { authorization: null, 'X-API-Key': 'vk_replaced', 'X-Trace': 'visible-1' } });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().headers).toEqual({ 'X-API-Key': HEADER_MASK, Cookie: HEADER_MASK, 'X-Session-Id': HEADER_MASK, 'X-Trace': 'visible-1' });
    const sent = await probeHeaders();
    expect(sent.authorization).toBeUndefined();
    expect(sent).toMatchObject({ 'x-api-key': 'vk_replaced', cookie: SECRETS.Cookie });

    const maskOnly = await call('PATCH', `/api/v1/http-targets/${id}`, { headers: { Authorization: HEADER_MASK } });
    expect(maskOnly.statusCode).toBe(422);
    expect(maskOnly.json().detail).toEqual([{ loc: ['body', 'headers', 'Authorization'], msg: expect.stringContaining('send the real value'), type: 'value_error' }]);
    const created = await call('POST', '/api/v1/http-targets', { name: 'copy', url: `${standIn.base}/copy`, headers: { 'X-API-Key': HEADER_MASK } });
    expect(created.statusCode).toBe(422);
    expect(created.json().detail[0].loc).toEqual(['body', 'headers', 'X-API-Key']);
  });
});
