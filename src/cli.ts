#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=160
// The heap flags above (also in package.json's `start`; bench:checks reads them from this line)
// bound Vigie's memory: its live heap is ~50-70 MB whatever the number of monitors, and without a
// cap V8 lets garbage grow the old generation to several times that between full collections
// (362 MiB RSS at 10,000 HTTP monitors, 172 MiB with the cap). To allow more, start it with
// `node --max-old-space-size=N dist/cli.js serve`.
/**
 * The `vigie` command: serve | migrate | bootstrap [--dev] | ping | run | backup push/verify, each with --help.
 * Server commands read `.env` from the working directory (variables already set win) and parse
 * the environment once; the clients (ping, run) need neither, so that a cron job's environment
 * cannot break them. Every expected failure is one line on stderr and a non-zero exit code
 * (2 for a usage error).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildPingUrl, DEFAULT_PING_RETRIES, isRunId, sendPing, type PingKind } from './clients/ping-client.js';
import { DEFAULT_KILL_AFTER_MS, runCommand, TIMEOUT_EXIT_STATUS } from './clients/run-command.js';
import { bootstrapDev, bootstrapFirstStart, DEV_DATA, type FirstStartCredentials } from './auth/bootstrap.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { VERSION } from './version.js';

// The server, the database drivers and the logger are imported when a command needs them: they
// take most of a second to load, which `vigie ping` in a cron job should not pay.
const server = () => import('./server.js');
const migrations = () => import('./db/migrate.js');

type Flags = Record<string, string | boolean | undefined>;

interface CommandInput {
  flags: Flags;
  positionals: string[];
  /** What follows `--` (commands with `passThrough` only). */
  rest: string[];
  /** Reads .env and the environment on first use: only server commands need a configuration. */
  config(): Config;
}

interface Command {
  summary: string;
  usage: string;
  options?: Record<string, { type: 'boolean' | 'string'; value?: string; description: string }>;
  /** Accepts positional arguments (otherwise one is a usage error). */
  positionals?: boolean;
  /** Everything after the first `--` is handed over untouched, as `rest`. */
  passThrough?: boolean;
  /** Extra help text, after the options. */
  notes?: string[];
  run(input: CommandInput): Promise<number | 'running'>;
}

/** A usage error: one line on stderr with the command's usage, exit status 2. */
class UsageError extends Error {}

const COMMANDS: Record<string, Command> = {
  // Backups (seed 001): the agent side, without a server.
  backup: {
    summary: "Backup agents' tools: push sends a run's files and report to Vigie (or prepares an rsync); verify checks an agent tree against its STATUS.json",
    usage:
      'vigie backup push --job JOB_ID [--url URL] [--key KEY] [--run RUN_ID] [--status success|failure] [--message TEXT] [--log-file FILE] [--rsync DEST --agent NAME] FILE|DIR... | vigie backup verify DIR',
    positionals: true,
    options: {
      job: { type: 'string', value: 'JOB_ID', description: "push: the backup job's id (its deposit_path ends with it)" },
      url: { type: 'string', value: 'URL', description: "push: Vigie's base URL, e.g. https://vigie.example (default $VIGIE_URL)" },
      key: { type: 'string', value: 'KEY', description: 'push: an API key with the ingest (or full) scope (default $VIGIE_API_KEY)' },
      run: { type: 'string', value: 'RUN_ID', description: 'push: the run id, unique per job (default: the UTC time, e.g. 2026-12-05T021000Z)' },
      status: { type: 'string', value: 'success|failure', description: "push: the agent's verdict on its backup (default success)" },
      message: { type: 'string', value: 'TEXT', description: 'push: a message shown in the run and its alerts' },
      'log-file': { type: 'string', value: 'FILE', description: "push: the backup's log; its last 16,000 characters are sent as log_tail" },
      rsync: {
        type: 'string',
        value: 'DEST',
        description: 'push: no upload; write the report into --status-file and print the rsync commands to DEST (the agent_root, e.g. backup@vigie:/srv/deposits/<tenant>/<agent>)',
      },
      agent: { type: 'string', value: 'NAME', description: "push --rsync: the job's agent (its directory name), written in the report" },
      'status-file': { type: 'string', value: 'FILE', description: 'push --rsync: the local STATUS.json to write, merged with its other jobs (default ./STATUS.json)' },
    },
    notes: [
      "push: a FILE is sent under its own name, a DIR's content under paths relative to DIR (as rsync DIR/ does).",
      'Each file is hashed, uploaded as a stream with its SHA-256 (PUT /api/v1/backup-jobs/JOB/runs/RUN/files/PATH),',
      'then the report is posted (POST .../report); the server validates and promotes the run at its next scan.',
      'Files of 16 MiB or more show their progress on stderr. Links and hidden names are refused.',
      'verify: DIR holds STATUS.json and one <job_id>/ directory per job.',
      'Exit status: 0 on success (verify: every run checks out), 1 on a failure (refused by the server, unreachable, bad file), 2 for a usage error.',
    ],
    async run({ flags, positionals }) {
      const [action, ...args] = positionals;
      if (action === 'push') return backupPush(flags, args);
      if (action !== 'verify') throw new UsageError(action === undefined ? 'missing action (push or verify)' : `unknown action "${action}" (push or verify)`);
      const [dir, ...extra] = args;
      if (dir === undefined) throw new UsageError('missing DIR');
      if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const { verifyTree } = await import('./kinds/backup/verify-tree.js');
      const { problems, runs } = await verifyTree(dir);
      for (const problem of problems) console.error(`vigie backup verify: ${problem}`);
      for (const run of runs) (run.ok ? console.log : console.error)(`${run.ok ? 'OK  ' : 'FAIL'} job ${run.jobId} run ${run.runId}: ${run.detail}`);
      return problems.length === 0 && runs.every((r) => r.ok) ? 0 : 1;
    },
  },
  serve: {
    summary: 'Apply pending migrations and start the HTTP server',
    usage: 'vigie serve',
    async run({ config: loadedConfig }) {
      const config = loadedConfig();
      const [{ createLogger }, { startServer, stopOnSignals }] = await Promise.all([import('./logger.js'), server()]);
      const logger = createLogger(config.logLevel);
      const running = await startServer({ config, logger, onFirstStart: printFirstStartCredentials });
      stopOnSignals(running, logger, config);
      return 'running';
    },
  },
  migrate: {
    summary: 'Apply pending database migrations, then exit',
    usage: 'vigie migrate',
    async run({ config }) {
      await withDatabase(config(), async (database) => {
        const { migrateToLatest } = await migrations();
        const applied = await migrateToLatest(database.db);
        console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'Database schema is up to date.');
      });
      return 0;
    },
  },
  bootstrap: {
    summary: 'Create the first tenant, admin and API key (or, with --dev, the development data set)',
    usage: 'vigie bootstrap [--dev]',
    options: { dev: { type: 'boolean', description: `create the development data set: tenant ${DEV_DATA.tenantName}, API key ${DEV_DATA.apiKey}, user ${DEV_DATA.userEmail}` } },
    async run({ config, flags }) {
      await withDatabase(config(), async (database) => {
        const { migrateToLatest } = await migrations();
        await migrateToLatest(database.db);
        const context = { db: database.db, clock: systemClock };
        if (flags.dev) {
          const report = await bootstrapDev(context);
          console.warn('WARNING: these are development credentials, publicly known. Never use them on a reachable server.');
          for (const item of report.created) console.log(`created: ${item}`);
          for (const item of report.alreadyPresent) console.log(`already present: ${item}`);
          return;
        }
        const credentials = await bootstrapFirstStart(context);
        if (credentials) printFirstStartCredentials(credentials);
        else console.log('Vigie is already bootstrapped: nothing to do. (Credentials are shown only once, when they are created.)');
      });
      return 0;
    },
  },
  ping: {
    summary: 'Send one Healthchecks-compatible ping (success by default); no database or configuration needed',
    usage: 'vigie ping URL [--start|--fail|--log|--exit N] [--body TEXT] [--rid UUID] [--retries N]',
    positionals: true,
    options: {
      start: { type: 'boolean', description: 'ping URL/start: the job has started' },
      fail: { type: 'boolean', description: 'ping URL/fail: the job has failed' },
      log: { type: 'boolean', description: 'ping URL/log: a message, without changing the state' },
      exit: { type: 'string', value: 'N', description: 'ping URL/N with an exit status (0 success, 1-255 failure)' },
      body: { type: 'string', value: 'TEXT', description: 'text stored with the ping (sent as a POST)' },
      rid: { type: 'string', value: 'UUID', description: 'run id pairing a --start with its end' },
      retries: { type: 'string', value: 'N', description: `retries on network errors, 5xx and 429 (default ${DEFAULT_PING_RETRIES})` },
    },
    notes: ['Exit status: 0 when the server acknowledged the ping (2xx), 1 otherwise, 2 for a usage error.'],
    async run({ flags, positionals }) {
      const [url, ...extra] = positionals;
      if (url === undefined) throw new UsageError('missing URL');
      if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const kinds = (['start', 'fail', 'log', 'exit'] as const).filter((k) => flags[k] !== undefined);
      if (kinds.length > 1) throw new UsageError(`--${kinds[0]} and --${kinds[1]} cannot be combined`);
      const kind: PingKind = flags.exit !== undefined ? { exit: integerFlag('exit', flags.exit, 0, 255) } : ((kinds[0] as 'start' | 'fail' | 'log' | undefined) ?? 'success');
      const rid = stringFlag(flags.rid);
      if (rid !== undefined && !isRunId(rid)) throw new UsageError(`--rid must be a UUID, got "${rid}"`);
      checkPingUrl(url);
      const result = await sendPing(url, {
        kind,
        rid,
        body: stringFlag(flags.body),
        retries: flags.retries === undefined ? undefined : integerFlag('retries', flags.retries, 0, 20),
      });
      if (result.ok) return 0;
      console.error(`vigie ping: ${result.error} (after ${result.attempts} attempt(s))`);
      return 1;
    },
  },
  run: {
    summary: 'Run a command and report it: ping /start, run it, ping its exit status with the last 10 kB of output',
    usage: 'vigie run --ping-url URL [--timeout SECONDS] -- command [args...]',
    passThrough: true,
    options: {
      'ping-url': { type: 'string', value: 'URL', description: "the check's ping URL, e.g. https://vigie.example/ping/<uuid>" },
      timeout: {
        type: 'string',
        value: 'SECONDS',
        description: `stop the command after SECONDS (SIGTERM, SIGKILL ${DEFAULT_KILL_AFTER_MS / 1000} s later); reported as exit status ${TIMEOUT_EXIT_STATUS}`,
      },
    },
    notes: [
      'The command runs without a shell; its output is shown as usual and its last 10 kB are sent',
      "with the final ping. vigie run exits with the command's status (128+N when signal N killed",
      `it, ${TIMEOUT_EXIT_STATUS} on --timeout, 127 when it does not exist), even when a ping fails.`,
      'No database or configuration is needed.',
    ],
    async run({ flags, positionals, rest }) {
      if (positionals.length) throw new UsageError(`put the command after "--": vigie run --ping-url URL -- ${positionals.join(' ')}`);
      const pingUrl = stringFlag(flags['ping-url']);
      if (pingUrl === undefined) throw new UsageError('missing --ping-url URL');
      checkPingUrl(pingUrl);
      const [command, ...args] = rest;
      if (command === undefined) throw new UsageError('missing the command to run, after "--"');
      let timeoutSeconds: number | undefined;
      if (flags.timeout !== undefined) {
        timeoutSeconds = Number(flags.timeout);
        if (!(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) throw new UsageError(`--timeout must be a positive number of seconds, got "${String(flags.timeout)}"`);
      }
      return runCommand({ pingUrl, command, args, timeoutSeconds, forwardSignals: true });
    },
  },
};

function stringFlag(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function integerFlag(name: string, value: string | boolean, min: number, max: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${String(value)}"`);
  return number;
}

function checkPingUrl(url: string): void {
  try {
    buildPingUrl(url);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const RUN_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** `vigie backup push`: the flags checked here (usage errors, 2), the work in clients/backup-push.ts (failures, 1). */
async function backupPush(flags: Flags, args: string[]): Promise<number> {
  const push = await import('./clients/backup-push.js');
  const { BadInputError } = await import('./clients/backup-files.js');
  const jobId = stringFlag(flags.job);
  if (jobId === undefined) throw new UsageError('missing --job JOB_ID');
  if (!RUN_ID.test(jobId)) throw new UsageError(`--job must be a job id, got "${jobId}"`);
  const runId = stringFlag(flags.run) ?? push.defaultRunId();
  if (!RUN_ID.test(runId)) throw new UsageError(`--run must be letters, digits, ".", "_" and "-" (at most 128, not starting with "." or "-"), got "${runId}"`);
  const status = stringFlag(flags.status) ?? 'success';
  if (status !== 'success' && status !== 'failure') throw new UsageError(`--status must be success or failure, got "${status}"`);
  const common = { jobId, runId, status, message: stringFlag(flags.message), logFile: stringFlag(flags['log-file']), args, out: console.log, err: console.error } as const;
  const dest = stringFlag(flags.rsync);
  try {
    if (dest !== undefined) {
      const agent = stringFlag(flags.agent);
      if (agent === undefined) throw new UsageError("--rsync needs --agent NAME (the job's agent, named in the report)");
      const commands = await push.prepareRsync({ ...common, dest, agent, statusFile: stringFlag(flags['status-file']) ?? 'STATUS.json' });
      for (const command of commands) console.log(command);
      return 0;
    }
    const url = stringFlag(flags.url) ?? process.env.VIGIE_URL;
    const apiKey = stringFlag(flags.key) ?? process.env.VIGIE_API_KEY;
    if (!url) throw new UsageError('missing --url URL (or VIGIE_URL)');
    if (!/^https?:\/\/[^/]/i.test(url)) throw new UsageError(`--url must be an http:// or https:// URL, got "${url}"`);
    if (!apiKey) throw new UsageError('missing --key KEY (or VIGIE_API_KEY)');
    console.log(await push.pushOverHttp({ ...common, url, apiKey }));
    return 0;
  } catch (error) {
    if (!(error instanceof push.PushError) && !(error instanceof BadInputError)) throw error;
    console.error(`vigie backup push: ${error.message}`);
    return 1;
  }
}

function printFirstStartCredentials(credentials: FirstStartCredentials): void {
  const line = '='.repeat(72);
  console.log(
    [
      line,
      ` Vigie first start: created tenant "${credentials.tenantName}" with an admin user and an API key.`,
      ' These credentials are shown ONCE. Store them now.',
      '',
      `   Login e-mail : ${credentials.email}`,
      `   Password     : ${credentials.password}`,
      `   API key      : ${credentials.apiKey}   (header X-API-Key, scope full)`,
      `   Tenant id    : ${credentials.tenantId}`,
      line,
    ].join('\n'),
  );
}

async function withDatabase(config: Config, work: (database: DatabaseHandle) => Promise<void>): Promise<void> {
  const { openDatabase } = await import('./db/database.js');
  const database = await openDatabase(config.database);
  try {
    await work(database);
  } finally {
    await database.close();
  }
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    `vigie ${VERSION}: self-hosted monitoring server`,
    '',
    'Usage: vigie <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "vigie <command> --help" for a command\'s options. Configuration comes from the',
    'environment and from a .env file in the working directory (see .env.example).',
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  const entries = [...Object.entries(command.options ?? {}).map(([flag, o]) => [`--${flag}${o.value ? ` ${o.value}` : ''}`, o.description] as const), ['--help', 'show this help'] as const];
  const width = Math.max(8, ...entries.map(([left]) => left.length));
  const options = entries.map(([left, description]) => `  ${left.padEnd(width)}  ${description}`);
  const notes = command.notes ? ['', ...command.notes] : [];
  return [`Usage: ${command.usage}`, '', command.summary, '', 'Options:', ...options, ...notes].join('\n');
}

async function main(argv: string[]): Promise<number | 'running'> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(VERSION);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`vigie: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const split = command.passThrough ? rest.indexOf('--') : -1;
  const own = split === -1 ? rest : rest.slice(0, split);
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({
      args: own,
      options: { help: { type: 'boolean', short: 'h' }, ...command.options },
      allowPositionals: command.positionals === true || command.passThrough === true,
      strict: true,
    }) as { values: Flags; positionals: string[] });
  } catch (error) {
    console.error(`vigie ${name}: ${(error as Error).message}\n\n${commandHelp(name, command)}`);
    return 2;
  }
  if (flags.help) {
    console.log(commandHelp(name, command));
    return 0;
  }
  let config: Config | undefined;
  const input: CommandInput = {
    flags,
    positionals,
    rest: split === -1 ? [] : rest.slice(split + 1),
    config() {
      if (!config) {
        if (existsSync('.env')) process.loadEnvFile('.env');
        config = loadConfig();
      }
      return config;
    },
  };
  try {
    return await command.run(input);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`vigie ${name}: ${error.message}\nUsage: ${command.usage} (see vigie ${name} --help)`);
    return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exitCode = code;
  },
  (error: unknown) => {
    // By name: the database modules are loaded lazily, and may not be loaded at all.
    const expected = error instanceof ConfigError || ['DatabaseUnavailableError', 'MigrationError'].includes((error as Error)?.name);
    console.error(`vigie: ${expected ? (error as Error).message : ((error as Error)?.stack ?? String(error))}`);
    process.exitCode = 1;
  },
);
