/**
 * Runs Vigie as a server: open the database, apply pending migrations, bootstrap an empty
 * database, listen, and shut down cleanly on SIGTERM/SIGINT (in-flight requests finish, then the
 * database closes).
 */
import { buildApp } from './app.js';
import { bootstrapFirstStart, type FirstStartCredentials } from './auth/bootstrap.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { describeDatabaseTarget } from './db/database-url.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import type { VigieApp } from './http/types.js';
import type { Logger } from './logger.js';
import { createLagStats } from './monitors/lag-stats.js';
import { createBackgroundWork } from './runtime.js';
import { resolveSecretKey } from './secret-key.js';
import { providerSettingsFrom } from './notify/settings.js';
import { createServices } from './services.js';
import { tenantsWithEmail } from './alerting/delivery-status.js';
import { createHubFor } from './realtime/create-hub.js';

export interface RunningServer {
  readonly app: VigieApp;
  readonly url: string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Called with the first-start credentials, the one time they exist. */
  readonly onFirstStart?: (credentials: FirstStartCredentials) => void;
}

export async function startServer({ config, logger, clock = systemClock, onFirstStart }: ServerOptions): Promise<RunningServer> {
  const database = await openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db);
    for (const name of applied) logger.info({ migration: name }, 'applied migration');
    const credentials = await bootstrapFirstStart({ db: database.db, clock });
    if (credentials) onFirstStart?.(credentials);
    const secretKey = resolveSecretKey(config.secretKey, config.dataDir, (message) => logger.warn(message));
    const lagStats = createLagStats();
    const hub = createHubFor(config, logger);
    const services = createServices({
      db: database.db,
      clock,
      secretKey,
      jwtExpiresMinutes: config.jwtExpiresMinutes,
      onCheckLag: lagStats.record,
      providerSettings: providerSettingsFrom(config),
      logger,
      hub,
    });
    await warnIfEmailWithoutSmtp(database.db, config, logger);
    const app = await buildApp({ config, database, clock, secretKey, logger, services });
    const background = createBackgroundWork({ db: database.db, clock, config, services, logger, lagStats });
    const url = await app.listen({ port: config.port, host: config.host });
    await background.start();

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await background.stop(); // no new checks; running ones finish and are recorded
        await app.close(); // stops accepting, lets in-flight requests finish
        await hub.close();
        await database.close();
        logger.info('Vigie stopped');
      })());
    return { app, url, stop };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

/** E-mail channels fail (and only say so per attempt) without a relay: say it once at start-up too. */
async function warnIfEmailWithoutSmtp(db: Parameters<typeof tenantsWithEmail>[0], config: Config, logger: Logger): Promise<void> {
  if (config.smtpHost) return;
  const tenants = await tenantsWithEmail(db);
  if (tenants > 0) {
    logger.warn({ tenants }, `${tenants} tenant(s) have e-mail notifications (an e-mail channel or notification_email) but SMTP is not configured: set SMTP_HOST, or those e-mails fail`);
  }
}

/**
 * SIGTERM/SIGINT stop the server once; a second signal, or 30 s without finishing, forces exit.
 * Announces "Vigie is listening" only once the handlers are in place, so whoever waits for that
 * line (a supervisor, a test) can stop the server cleanly right away.
 */
export function stopOnSignals(server: RunningServer, logger: Logger, config: Config): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took longer than 30 s: exiting');
      process.exit(1);
    }, 30_000).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  logger.info({ url: server.url, database: describeDatabaseTarget(config.database) }, 'Vigie is listening');
}
