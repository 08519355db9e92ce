#!/usr/bin/env bash
# Entry point of every CKAN container (web, jobs worker, harvesters):
#  1. render /etc/ckan/ckan.ini (+ common.ini) from the production profile and the environment;
#     render.py stops on any placeholder without a value, so a missing secret never reaches CKAN;
#  2. with CKAN_MIGRATE=1 (web service only): wait for PostgreSQL and Solr, run `ckan db upgrade`
#     and `ckan yantai init-domains`;
#  3. exec the command (default: gunicorn, see the Dockerfile's CMD).
set -euo pipefail

die() { echo "entrypoint: $*" >&2; exit 1; }

case "${SECRET_KEY:-}" in
  *change-me*) die "SECRET_KEY still has the value of docker/.env.example; generate one (openssl rand -hex 32)" ;;
esac

python /srv/app/config/ckan/render.py production /etc/ckan ckan.ini >/dev/null
export CKAN_INI=/etc/ckan/ckan.ini

if [[ "${CKAN_MIGRATE:-0}" == 1 ]]; then
  # CKAN checks Solr's schema while loading, so `ckan db upgrade` needs both services up.
  # The migration runs under a PostgreSQL advisory lock: replicas started together (compose
  # --scale ckan=N) migrate one after the other instead of racing on the alembic version table.
  python - <<'PY'
import os, subprocess, sys, time, urllib.request

import psycopg2

deadline = time.monotonic() + float(os.environ.get("CKAN_WAIT_TIMEOUT", "300"))


def wait(name, check):
    while True:
        try:
            return check()
        except Exception as exc:  # any failure means "not yet"
            if time.monotonic() > deadline:
                sys.exit(f"entrypoint: {name} not reachable: {exc}")
            time.sleep(2)


conn = wait("PostgreSQL", lambda: psycopg2.connect(os.environ["SQLALCHEMY_URL"], connect_timeout=5))
solr = os.environ["SOLR_URL"].rstrip("/") + "/select?q=*:*&rows=0"
wait("Solr", lambda: urllib.request.urlopen(solr, timeout=5).close())
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT pg_advisory_lock(hashtext('ckan db upgrade'))")
    print("entrypoint: running ckan db upgrade", file=sys.stderr, flush=True)
    code = subprocess.call(["ckan", "db", "upgrade"])
    if code == 0:
        # The policy-domain groups (idempotent; also re-links datasets to them).
        code = subprocess.call(["ckan", "yantai", "init-domains"])
    cur.execute("SELECT pg_advisory_unlock(hashtext('ckan db upgrade'))")
conn.close()
sys.exit(code)
PY
fi

exec "$@"
