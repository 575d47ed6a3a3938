#!/usr/bin/env bash
# PostgreSQL and Redis for the tests, on 127.0.0.1, in a fresh temporary folder.
#
#   eval "$(bash .ci/services.sh start)"   # installs what is missing, starts both, prints exports
#   .venv/bin/python -m pytest tests/storage
#   bash .ci/services.sh stop              # stops both, removes the folder ($MOVIEBOT_SERVICES_DIR)
#
# `start` prints `export` lines for MOVIEBOT_TEST_POSTGRES_URL, MOVIEBOT_TEST_REDIS_URL and
# MOVIEBOT_SERVICES_DIR (everything else goes to stderr). PostgreSQL runs with fsync=off and Redis
# without persistence: throwaway servers for tests, never for data. PostgreSQL and Redis come
# from the system's packages (apt) when missing; `apt-get update` runs only if an install is
# needed. initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail

log() { echo "services: $*" >&2; }

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

has_trgm() {
  local bindir=$1 share
  share=$("$bindir/pg_config" --sharedir 2>/dev/null || true)
  if [ -n "$share" ] && [ -f "$share/extension/pg_trgm.control" ]; then return 0; fi
  compgen -G "/usr/share/postgresql/*/extension/pg_trgm.control" >/dev/null
}

install_missing() {
  local wanted=() bindir
  if ! bindir=$(pg_bindir) || ! has_trgm "$bindir"; then
    wanted+=(postgresql postgresql-contrib)
  fi
  command -v redis-server >/dev/null 2>&1 || wanted+=(redis-server)
  [ ${#wanted[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing ${wanted[*]}: install them (e.g. sudo apt-get install ${wanted[*]})"
    return 1
  fi
  log "installing ${wanted[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists are fetched only when the install cannot be done with the ones we have.
  if ! apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run a PostgreSQL binary as the cluster's owner (postgres when we are root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  install_missing
  local bindir dir pg_port redis_port
  bindir=$(pg_bindir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/moviebot-services.XXXXXX")
  chmod 755 "$dir"
  mkdir -p "$dir/pg" "$dir/redis"
  echo "$bindir" >"$dir/bindir"  # for stop
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/pg"; fi

  as_owner "$bindir/initdb" -D "$dir/pg/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; log "initdb failed"; stop "$dir"; return 1; }
  pg_port=$(free_port)
  as_owner "$bindir/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 30 start \
    -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$dir/pg/server.log" >&2; log "PostgreSQL did not start"; stop "$dir"
                    return 1; }

  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" \
    --logfile "$dir/redis/redis.log" >/dev/null || { log "Redis did not start"; stop "$dir"; return 1; }
  local tries=0
  until [ -s "$dir/redis/redis.pid" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ]; then log "Redis did not start"; stop "$dir"; return 1; fi
    sleep 0.01
  done
  log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($dir)"
  echo "export MOVIEBOT_SERVICES_DIR='$dir'"
  echo "export MOVIEBOT_TEST_POSTGRES_URL='postgresql://postgres@127.0.0.1:$pg_port/postgres'"
  echo "export MOVIEBOT_TEST_REDIS_URL='redis://127.0.0.1:$redis_port/0'"
}

stop() {
  local dir=${1:-${MOVIEBOT_SERVICES_DIR:-}}
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then return 0; fi
  case "$dir" in */moviebot-services.*) ;; *) log "not a services folder: $dir"; return 1;; esac
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/pg/data" -m immediate -w stop \
      >/dev/null 2>&1 || log "PostgreSQL did not stop cleanly"
  fi
  if [ -s "$dir/redis/redis.pid" ]; then
    local pid
    pid=$(cat "$dir/redis/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  fi
  rm -rf "$dir"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
