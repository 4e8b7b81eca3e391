/**
 * Database bytes at rest (bench:checks): after Vigie has stopped, a TRUNCATE checkpoint folds the
 * WAL into the database file, then dbstat gives the pages each table really takes (free space
 * inside its pages included). Rollup rows cost is measured by writing a few days of hour rows for
 * 1,000 monitors the way the rollup job writes them (hour after hour, every monitor), then removed.
 * The projection multiplies these by the rows the default retention keeps.
 */
import Database from 'better-sqlite3';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const tableBytes = (db, name) => db.prepare('select coalesce(sum(pgsize), 0) as b from dbstat where name = ?').get(name).b;

function rollupRowBytes(db) {
  const keys = db
    .prepare('select key from monitor_keys order by key limit 1000')
    .all()
    .map((r) => r.key);
  const before = tableBytes(db, 'rollups_hour');
  const insert = db.prepare('insert into rollups_hour (monitor_key, bucket_start, up_ms, known_ms, checks, up_checks, latency_count, latency_sum) values (?, ?, ?, ?, 60, 60, 60, ?)');
  const hours = 72;
  const start = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 10 * DAY_MS; // after anything the run wrote
  db.transaction(() => {
    for (let h = 0; h < hours; h++) for (const key of keys) insert.run(key, start + h * HOUR_MS, HOUR_MS - (key % 7) * 1000, HOUR_MS, 60 * (120 + (key % 200)));
  })();
  const bytes = (tableBytes(db, 'rollups_hour') - before) / (hours * keys.length);
  db.prepare('delete from rollups_hour where bucket_start >= ?').run(start);
  return bytes;
}

/** Reads the at-rest figures of the stopped Vigie's database at `path`. */
export function atRest(path, retention) {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const checks = db.prepare('select count(*) as n from check_results').get().n;
    const pageSize = db.pragma('page_size', { simple: true });
    const usedPages = db.pragma('page_count', { simple: true }) - db.pragma('freelist_count', { simple: true });
    const perCheck = checks ? tableBytes(db, 'check_results') / checks : null;
    const perRollup = rollupRowBytes(db);
    // 1,000 monitors at 60 s: 1,440 checks a day each, kept `results` days; one hour row an hour
    // kept `hourRollups` days; one day row a day kept `dayRollups` days.
    const monitors = 1000;
    const raw = monitors * 1440 * retention.results * perCheck;
    const hours = monitors * 24 * retention.hourRollups * perRollup;
    const days = monitors * retention.dayRollups * perRollup;
    return {
      stored_checks: checks,
      check_results_bytes_at_rest_per_check: perCheck === null ? null : +perCheck.toFixed(1),
      rollup_bytes_at_rest_per_row: +perRollup.toFixed(1),
      db_file_mib_at_rest: +((usedPages * pageSize) / 1024 / 1024).toFixed(1),
      projection_1000_monitors_60s: {
        retention_days: retention,
        raw_results_mb: +(raw / 1e6).toFixed(0),
        hour_rollups_mb: +(hours / 1e6).toFixed(0),
        day_rollups_mb: +(days / 1e6).toFixed(0),
        total_mb: +((raw + hours + days) / 1e6).toFixed(0),
      },
    };
  } finally {
    db.close();
  }
}
