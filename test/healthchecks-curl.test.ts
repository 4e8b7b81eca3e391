/**
 * Healthchecks' own documented curl examples, run unchanged through bash against a listening
 * `vigie serve` (issue 14): the Management API examples of templates/docs/api.md, apiv1.md and
 * apiv2.md, for every version, and the ping examples of bash.md, measuring_script_run_time.md,
 * signaling_failures.md, attaching_logs.md and autoprovisioning.md. Only the placeholders the
 * documentation asks its reader to replace are replaced: SITE_ROOT (Vigie's base URL plus `/hc`,
 * the mount point whose whole tree is Healthchecks'; and the bare base URL for /api/vN), the API
 * key, the example UUIDs and ping number, PING_URL, PING_ENDPOINT and the ping key.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempWorkDir, type ServeProcess } from './helpers/cli.js';

/** The API examples as the documentation prints them (SITE_ROOT/api/v3/…; the v1 and v2 pages differ only in the version). */
const API_EXAMPLES = {
  list: `curl --header "X-Api-Key: your-api-key" SITE_ROOT/api/v3/checks/`,
  get: `curl --header "X-Api-Key: your-api-key" SITE_ROOT/api/v3/checks/<uuid>`,
  createWithHeader: `curl SITE_ROOT/api/v3/checks/ \\
    --header "X-Api-Key: your-api-key" \\
    --data '{"name": "Backups", "tags": "prod www", "timeout": 3600, "grace": 60}'`,
  createWithKeyInBody: `curl SITE_ROOT/api/v3/checks/ \\
    --data '{"api_key": "your-api-key", "name": "Backups", "tags": "prod www", "timeout": 3600, "grace": 60}'`,
  updateWithHeader: `curl SITE_ROOT/api/v3/checks/7918b17b-a745-4db1-8575-9d2e07c97f79 \\
    --header "X-Api-Key: your-api-key" \\
    --data '{"name": "Backups", "tags": "prod www", "timeout": 3600, "grace": 60}'`,
  updateWithKeyInBody: `curl SITE_ROOT/api/v3/checks/7918b17b-a745-4db1-8575-9d2e07c97f79 \\
    --data '{"api_key": "your-api-key", "name": "Backups", "tags": "prod www", "timeout": 3600, "grace": 60}'`,
  pause: `curl SITE_ROOT/api/v3/checks/7918b17b-a745-4db1-8575-9d2e07c97f79/pause \\
    --request POST --header "X-Api-Key: your-api-key" --data ""`,
  resume: `curl SITE_ROOT/api/v3/checks/7918b17b-a745-4db1-8575-9d2e07c97f79/resume \\
    --request POST --header "X-Api-Key: your-api-key" --data ""`,
  pings: `curl SITE_ROOT/api/v3/checks/f618072a-7bde-4eee-af63-71a77c5723bc/pings/ \\
    --header "X-Api-Key: your-api-key"`,
  pingBody: `curl SITE_ROOT/api/v3/checks/f618072a-7bde-4eee-af63-71a77c5723bc/pings/397/body \\
    --header "X-Api-Key: your-api-key"`,
  flips: `curl SITE_ROOT/api/v3/checks/f618072a-7bde-4eee-af63-71a77c5723bc/flips/ \\
    --header "X-Api-Key: your-api-key"`,
  channels: `curl --header "X-Api-Key: your-api-key" SITE_ROOT/api/v3/channels/`,
  badges: `curl --header "X-Api-Key: your-api-key" SITE_ROOT/api/v3/badges/`,
  delete: `curl SITE_ROOT/api/v3/checks/7918b17b-a745-4db1-8575-9d2e07c97f79 \\
    --request DELETE --header "X-Api-Key: your-api-key"`,
};

/** The ping examples (bash.md, measuring_script_run_time.md, signaling_failures.md, attaching_logs.md, autoprovisioning.md). */
const PING_EXAMPLES = [
  `curl -m 10 --retry 5 PING_URL`,
  `curl -fsS -m 10 --retry 5 -o /dev/null PING_URL`,
  `RID=\`uuidgen\`
curl -fsS -m 10 --retry 5 PING_URL/start?rid=$RID
curl -fsS -m 10 --retry 5 PING_URL?rid=$RID`,
  `curl --retry 3 PING_URL/fail`,
  `curl --retry 3 PING_URL/1`,
  `true; curl --retry 3 PING_URL/$?`,
  `m=$(echo "backup done: 42 files" 2>&1)
curl -fsS -m 10 --retry 5 --data-raw "$m" PING_URL`,
];
const AUTOPROVISIONING = `curl -m 10 --retry 5 PING_ENDPOINTmy-ping-key/srv01?create=1`;

const API_KEY = 'dev-apikey-123';
const EXAMPLE_UUIDS = /7918b17b-a745-4db1-8575-9d2e07c97f79|f618072a-7bde-4eee-af63-71a77c5723bc|<uuid>/g;

/** `uuidgen` (util-linux) is not on every machine: the kernel's generator stands in for it, the example itself unchanged. */
const UUIDGEN = 'command -v uuidgen >/dev/null || uuidgen() { cat /proc/sys/kernel/random/uuid; }\n';

function bash(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', UUIDGEN + script], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("Healthchecks' documented curl examples against vigie serve", () => {
  const cwd = tempWorkDir();
  const env = { DATABASE_URL: 'sqlite:./data/vigie.db', SECRET_KEY: 'hc-curl-secret-hc-curl-secret-0123456789' };
  let server: ServeProcess | undefined;

  beforeAll(async () => {
    expect((await runCli(['bootstrap', '--dev'], { cwd, env })).code).toBe(0);
    server = await startServe({ cwd, env });
  }, 60_000);
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
    rmSync(cwd, { recursive: true, force: true });
  });

  /** Runs a documented example with its placeholders filled; answers its output as JSON when it is. */
  async function run(example: string, fill: { siteRoot: string; version: number; uuid?: string; n?: number }): Promise<any> {
    let script = example
      .replace(/SITE_ROOT/g, fill.siteRoot)
      .replace(/your-api-key/g, API_KEY)
      .replace(/\/api\/v3\//g, `/api/v${fill.version}/`);
    if (fill.uuid) script = script.replace(EXAMPLE_UUIDS, fill.uuid);
    if (fill.n !== undefined) script = script.replace('/pings/397/body', `/pings/${fill.n}/body`);
    const result = await bash(script);
    expect(result.code, `${script}\n${result.stderr}`).toBe(0);
    try {
      return JSON.parse(result.stdout);
    } catch {
      return result.stdout;
    }
  }

  const roots = () => [
    { siteRoot: `${server!.url}/hc`, version: 1 },
    { siteRoot: `${server!.url}/hc`, version: 2 },
    { siteRoot: `${server!.url}/hc`, version: 3 },
    { siteRoot: server!.url, version: 3 },
    { siteRoot: server!.url, version: 2 },
    // Vigie's own /api/v1/channels answers there: a client given /api/v1 uses every other call.
    { siteRoot: server!.url, version: 1, withoutChannels: true },
  ];

  it('runs every Management API example of every version', async () => {
    for (const root of roots()) {
      const where = `${root.siteRoot} v${root.version}`;
      const created = await run(API_EXAMPLES.createWithHeader, root);
      expect(created, where).toMatchObject({ name: 'Backups', tags: 'prod www', timeout: 3600, grace: 60, status: 'new' });
      const uuid = created.uuid as string;
      expect(created.update_url).toBe(`${root.siteRoot}/api/v${root.version}/checks/${uuid}`);
      const second = await run(API_EXAMPLES.createWithKeyInBody, root);
      expect(second.name, where).toBe('Backups');
      const fill = { ...root, uuid };
      expect(
        (await run(API_EXAMPLES.list, fill)).checks.map((c: any) => c.uuid),
        where,
      ).toEqual(expect.arrayContaining([uuid, second.uuid]));
      expect((await run(API_EXAMPLES.get, fill)).uuid, where).toBe(uuid);
      expect((await run(API_EXAMPLES.updateWithHeader, fill)).uuid, where).toBe(uuid);
      expect((await run(API_EXAMPLES.updateWithKeyInBody, fill)).uuid, where).toBe(uuid);

      const ping = await bash(`curl -fsS --data-raw "backup output" ${created.ping_url}`);
      expect(ping.stdout, where).toBe('OK');
      const { pings } = await run(API_EXAMPLES.pings, fill);
      expect(pings[0], where).toMatchObject({ type: 'success', n: 1, method: 'POST' });
      expect(await run(API_EXAMPLES.pingBody, { ...fill, n: pings[0].n }), where).toBe('backup output');
      expect((await run(API_EXAMPLES.pause, fill)).status, where).toBe('paused');
      expect((await run(API_EXAMPLES.resume, fill)).status, where).toBe('new');
      const { flips } = await run(API_EXAMPLES.flips, fill);
      expect(
        flips.map((f: any) => f.up),
        where,
      ).toEqual([0, 0, 1]);
      if (!root.withoutChannels) expect(await run(API_EXAMPLES.channels, fill), where).toHaveProperty('channels');
      expect((await run(API_EXAMPLES.badges, fill)).badges, where).toHaveProperty(['prod', 'svg']);
      expect((await run(API_EXAMPLES.delete, fill)).uuid, where).toBe(uuid);
      expect((await run(API_EXAMPLES.delete, { ...fill, uuid: second.uuid })).uuid, where).toBe(second.uuid);
    }
  }, 120_000);

  it('runs the ping examples, and auto-provisioning with the ping key', async () => {
    const created = await run(API_EXAMPLES.createWithHeader, { siteRoot: `${server!.url}/hc`, version: 3 });
    for (const example of PING_EXAMPLES) {
      const result = await bash(example.replace(/PING_URL/g, created.ping_url as string));
      expect(result.code, `${example}\n${result.stderr}`).toBe(0);
    }
    const { pings } = await run(API_EXAMPLES.pings, { siteRoot: `${server!.url}/hc`, version: 3, uuid: created.uuid });
    expect(pings.map((p: any) => p.type).reverse()).toEqual(['success', 'success', 'start', 'success', 'fail', 'fail', 'success', 'success']);
    expect(pings[0].body_url).not.toBeNull();

    const key = await fetch(`${server!.url}/api/v1/settings/ping-key`, { headers: { 'x-api-key': API_KEY } });
    const pingKey = ((await key.json()) as { ping_key: string }).ping_key;
    const provisioned = await bash(AUTOPROVISIONING.replace('PING_ENDPOINT', `${server!.url}/ping/`).replace('my-ping-key', pingKey));
    expect([provisioned.code, provisioned.stdout]).toEqual([0, 'Created']);
    const again = await bash(AUTOPROVISIONING.replace('PING_ENDPOINT', `${server!.url}/ping/`).replace('my-ping-key', pingKey));
    expect(again.stdout).toBe('OK');
  }, 60_000);
});
