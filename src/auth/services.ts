import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';

/** What every service needs: the database and the clock, passed in, never imported. */
export interface ServiceContext {
  readonly db: Db;
  readonly clock: Clock;
}
