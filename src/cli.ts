#!/usr/bin/env node
/**
 * The `vigie` command: serve | migrate | bootstrap [--dev], each with --help.
 * Reads `.env` from the working directory (variables already set win), parses the environment
 * once, and turns every expected failure into one line on stderr and a non-zero exit code.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bootstrapDev, bootstrapFirstStart, DEV_DATA, type FirstStartCredentials } from './auth/bootstrap.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DatabaseUnavailableError, openDatabase, type DatabaseHandle } from './db/database.js';
import { MigrationError, migrateToLatest } from './db/migrate.js';
import { createLogger } from './logger.js';
import { startServer, stopOnSignals } from './server.js';
import { VERSION } from './version.js';

interface Command {
  summary: string;
  usage: string;
  options?: Record<string, { type: 'boolean'; description: string }>;
  run(config: Config, flags: Record<string, boolean | undefined>): Promise<number | 'running'>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'Apply pending migrations and start the HTTP server',
    usage: 'vigie serve',
    async run(config) {
      const logger = createLogger(config.logLevel);
      const server = await startServer({ config, logger, onFirstStart: printFirstStartCredentials });
      stopOnSignals(server, logger, config);
      return 'running';
    },
  },
  migrate: {
    summary: 'Apply pending database migrations, then exit',
    usage: 'vigie migrate',
    async run(config) {
      await withDatabase(config, async (database) => {
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
    async run(config, flags) {
      await withDatabase(config, async (database) => {
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
};

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
  const options = Object.entries(command.options ?? {}).map(([flag, o]) => `  --${flag.padEnd(8)} ${o.description}`);
  return [`Usage: ${command.usage}`, '', command.summary, '', 'Options:', ...options, `  --help     show this help`].join('\n');
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
  let flags: Record<string, boolean | undefined>;
  try {
    ({ values: flags } = parseArgs({ args: rest, options: { help: { type: 'boolean', short: 'h' }, ...command.options }, strict: true }) as {
      values: Record<string, boolean | undefined>;
    });
  } catch (error) {
    console.error(`vigie ${name}: ${(error as Error).message}\n\n${commandHelp(name, command)}`);
    return 2;
  }
  if (flags.help) {
    console.log(commandHelp(name, command));
    return 0;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  return command.run(loadConfig(), flags);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exitCode = code;
  },
  (error: unknown) => {
    const expected = error instanceof ConfigError || error instanceof DatabaseUnavailableError || error instanceof MigrationError;
    console.error(`vigie: ${expected ? (error as Error).message : (error as Error)?.stack ?? String(error)}`);
    process.exitCode = 1;
  },
);
