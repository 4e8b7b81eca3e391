#!/usr/bin/env bash
# Installs (when missing) and starts the real services the test suite runs against, then prints
# the environment that points the tests at them. Meant to be sourced by .ci/run, or run by a
# developer as:   eval "$(bash scripts/test-services.sh)"
# Later issues extend it (Chromium, dockerd). Needs root, as on these machines.
set -euo pipefail

log() { echo "test-services: $*" >&2; }

apt_updated=0
ensure_package() { # ensure_package COMMAND PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  log "installing ${*:2}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >&2
}

# --- PostgreSQL 15 (installed but stopped on these machines) ---------------------------------
PG_USER=vigie
PG_PASSWORD=vigie
PG_DB=vigie_test
ensure_package pg_ctlcluster postgresql
if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  log "creating PostgreSQL cluster"
  pg_createcluster 15 main >&2
fi
read -r PG_VERSION PG_CLUSTER PG_PORT PG_STATUS _ < <(pg_lsclusters -h | head -n 1)
if [ "$PG_STATUS" != "online" ]; then
  log "starting PostgreSQL $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >&2
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -p $PG_PORT -Atqc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
# CREATEDB: every test suite makes its own database, so suites never see each other's rows.
su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qAt" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SQL
if [ "$(su postgres -c "psql -p $PG_PORT -Atqc \"select 1 from pg_database where datname = '$PG_DB'\"")" != "1" ]; then
  su postgres -c "createdb -p $PG_PORT -O $PG_USER $PG_DB" >&2
fi

# --- rsync (backup deposits, test/backups*.test.ts) ------------------------------------------
ensure_package rsync rsync

# --- Redis ----------------------------------------------------------------------------------
REDIS_PORT=6379
ensure_package redis-server redis-server
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting Redis on port $REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no >&2
  for _ in $(seq 1 30); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

# --- Prometheus (the binary only) -------------------------------------------------------------
# The /metrics test starts its own Prometheus on a free port with a temporary config and storage,
# so no system service is wanted: where the package's install would start one (no policy-rc.d
# forbidding it), it is stopped at once. Recommends (node exporter) are not needed.
if ! command -v prometheus >/dev/null 2>&1; then
  ensure_package prometheus --no-install-recommends prometheus
  invoke-rc.d prometheus stop >/dev/null 2>&1 || true
fi
PROMETHEUS_BIN="$(command -v prometheus)"

echo "export TEST_DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
echo "export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
echo "export TEST_PROMETHEUS_BIN=$PROMETHEUS_BIN"
