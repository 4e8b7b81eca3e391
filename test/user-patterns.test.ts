/**
 * User-supplied regular expressions run on the linear-time engine (src/patterns/user-pattern.ts):
 * patterns that make V8's backtracking engine run for minutes (`^(a+)+$` against a run of `a`s
 * and a `!`) return their verdict at once, on the HTTP assertion path (a real target against a
 * local server) and on the silence path (alert routing end to end); syntax RE2 cannot run is a
 * 422 naming the field when the pattern is written.
 */
import { describe, expect, it } from 'vitest';
import { matcherMatches, type MatchTarget } from '../src/alerting/matchers.js';
import { evaluateAssertions } from '../src/kinds/http/assertions.js';
import { compileUserPattern, userPatternProblem } from '../src/patterns/user-pattern.js';
import { TEST_DIALECTS } from './helpers/databases.js';
import { appPerTest, standInForFile } from './helpers/stand-in-app.js';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const as = (n: number) => 'a'.repeat(n);
/** Each of these takes V8 exponential time on `aaa…!`; RE2 answers in linear time. */
const PATHOLOGICAL = ['^(a+)+$', '(a|aa)+$', '(.*a){20}'] as const;

/** Runs `work` and returns its value with the wall time it took. */
function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

describe('the user-pattern module', () => {
  it('gives the right verdict on pathological patterns at once, also on a 5,000-character input', () => {
    for (const length of [31, 5000]) {
      const input = `${as(length - 1)}!`;
      const verdicts = timed(() => PATHOLOGICAL.map((p) => compileUserPattern(p).test(input)));
      // ^(a+)+$ and (a|aa)+$ need the a's to reach the end; (.*a){20} finds twenty a's.
      expect(verdicts.value).toEqual([false, false, true]);
      expect(verdicts.ms).toBeLessThan(1000);
    }
    expect(compileUserPattern('^(a+)+$').test(as(5000))).toBe(true);
  });

  it('testWhole matches the whole value, as ^(?:…)$ would', () => {
    expect(compileUserPattern('db-.*').testWhole('db-1')).toBe(true);
    expect(compileUserPattern('db-.*').testWhole('prod-db-1')).toBe(false);
    expect(compileUserPattern('a|ab').testWhole('ab')).toBe(true);
  });

  it('refuses syntax RE2 cannot run, saying why', () => {
    for (const pattern of ['(a)\\1', '(?=a)b', '(?!a)b', '(?<=a)b', '(']) {
      expect(userPatternProblem(pattern), pattern).toMatch(/^Invalid regular expression: .*RE2 syntax.*no backreferences.*no lookaround/);
      expect(() => compileUserPattern(pattern)).toThrow(/Invalid regular expression/);
    }
    expect(userPatternProblem('^\\d+ (ok|OK)$')).toBeNull();
  });

  it('a silence matcher decides at once on a 5,000-character value', () => {
    const target: MatchTarget = { monitorId: 'm', kind: 'http', name: `${as(4999)}!`, tags: [`${as(4999)}!`] };
    const verdicts = timed(() => [
      matcherMatches({ field: 'name', op: '=~', value: '(a+)+' }, target),
      matcherMatches({ field: 'name', op: '!~', value: '(a|aa)+' }, target),
      matcherMatches({ field: 'tag', op: '=~', value: '(.*a){20}.' }, target),
    ]);
    expect(verdicts.value).toEqual([false, true, true]);
    expect(verdicts.ms).toBeLessThan(1000);
  });

  it('a json_path_matches assertion decides at once on a 5,000-character value', () => {
    const body = JSON.stringify({ value: `${as(4999)}!` });
    const failures = timed(() =>
      evaluateAssertions(
        PATHOLOGICAL.map((pattern) => ({ type: 'json_path_matches', path: '$.value', pattern })),
        { status: 200, latencyMs: 1, body, now: 0 },
      ),
    );
    expect(failures.value.map((f) => f.message)).toEqual([expect.stringContaining('which does not match /^(a+)+$/'), expect.stringContaining('which does not match /(a|aa)+$/')]);
    expect(failures.ms).toBeLessThan(1000);
  });
});

const standIn = standInForFile();

describe.each(TEST_DIALECTS)('user patterns through the API on %s', (dialect) => {
  const start = appPerTest(dialect, standIn);

  it('an HTTP target checks pathological patterns against a real 5,000-character answer at once', async () => {
    const { call } = await start();
    const created = await call('POST', '/api/v1/http-targets', {
      name: 'redos',
      url: `${standIn.base}/json`,
      assertions: PATHOLOGICAL.map((pattern) => ({ type: 'json_path_matches', path: '$.value', pattern })),
    });
    expect(created.statusCode, created.body).toBe(201);
    standIn.answers.push({ status: 200, body: JSON.stringify({ value: `${as(4999)}!` }) });
    const started = performance.now();
    const check = await call('POST', `/api/v1/http-targets/${created.json().id}/check`);
    const elapsed = performance.now() - started;
    expect(check.statusCode, check.body).toBe(200);
    expect(check.json()).toMatchObject({ status: 'down', message: expect.stringContaining('which does not match /^(a+)+$/') });
    expect(check.json().message).toContain('which does not match /(a|aa)+$/');
    expect(check.json().message).not.toContain('(.*a){20}');
    expect(standIn.recorded.map((r) => r.url)).toEqual(['/json']);
    expect(elapsed).toBeLessThan(1000);
  });

  it('refuses a json_path_matches pattern RE2 cannot run, on creation and on update (422 naming the field)', async () => {
    const { call } = await start();
    const body = (pattern: string) => ({
      name: 'x',
      url: `${standIn.base}/x`,
      assertions: [
        { type: 'status_in', values: [200] },
        { type: 'json_path_matches', path: '$.a', pattern },
      ],
    });
    const refused = await call('POST', '/api/v1/http-targets', body('(a)\\1'));
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toEqual({ detail: [{ loc: ['body', 'assertions', 1, 'pattern'], msg: expect.stringMatching(/RE2 syntax.*no backreferences/), type: 'value_error' }] });
    const created = await call('POST', '/api/v1/http-targets', body('^ok$'));
    expect(created.statusCode).toBe(201);
    const patched = await call('PATCH', `/api/v1/http-targets/${created.json().id}`, { assertions: [{ type: 'json_path_matches', path: '$.a', pattern: '(?=lookahead)' }] });
    expect(patched.statusCode).toBe(422);
    expect(patched.json().detail).toEqual([{ loc: ['body', 'assertions', 0, 'pattern'], msg: expect.stringContaining('no lookaround'), type: 'value_error' }]);
  });

  it('silences with pathological matchers route at once: the matching monitor is silenced, the other alerts', async () => {
    const { c, call } = await start();
    expect((await call('PATCH', '/api/v1/settings', { alert_grouping_enabled: false })).statusCode).toBe(200);
    expect((await call('POST', '/api/v1/channels', { name: 'hook', kind: 'webhook', config: { url: `${standIn.base}/hook` } })).statusCode).toBe(201);
    const monitor = async (name: string) => (await call('POST', '/api/v1/http-targets', { name, url: `${standIn.base}/${name.length}`, failure_threshold: 1 })).json().id as string;
    const silenced = await monitor(as(40));
    const alerting = await monitor(`${as(40)}!`);
    const silence = await call('POST', '/api/v1/silences', {
      matchers: [
        { field: 'name', op: '=~', value: '^(a+)+$' },
        { field: 'name', op: '!~', value: '(a|aa)+!' },
      ],
      ends_at: iso(c.clock.now() + 60 * MIN),
      comment: 'pathological',
    });
    expect(silence.statusCode, silence.body).toBe(201);
    const refused = await call('POST', '/api/v1/silences', { matchers: [{ field: 'name', op: '=~', value: '(a)\\1' }], ends_at: iso(c.clock.now() + 60 * MIN), comment: 'x' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toEqual({ detail: [{ loc: ['body', 'matchers', 0, 'value'], msg: expect.stringContaining('RE2 syntax'), type: 'value_error' }] });

    await c.services.recorder.record(silenced, { status: 'down', message: 'refused' });
    await c.services.recorder.record(alerting, { status: 'down', message: 'refused' });
    const started = performance.now();
    expect(await c.services.alertRouter.routeBatch()).toEqual({ events: 2, queued: 1 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await c.services.delivery.deliverDue()).toBe(1);
    const hooks = standIn.recorded.filter((r) => r.url === '/hook').map((r) => JSON.parse(r.body) as { items: { monitor_id: string }[] });
    expect(hooks.map((h) => h.items.map((i) => i.monitor_id))).toEqual([[alerting]]);
  });
});
