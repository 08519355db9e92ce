#!/usr/bin/env bash
# Entry point of every CKAN container (web, jobs worker, harvesters):
#  1. render /etc/ckan/ckan.ini (+ common.ini) from the production profile and the environment;
#     render.py stops on any placeholder without a value, so a missing secret never reaches CKAN;
#  2. with CKAN_MIGRATE=1 (web service only): wait for PostgreSQL and Solr, run `ckan db upgrade`,
#     `ckan yantai init-domains`, apply `ckan datastore set-permissions` and load the harvest
#     sources of harvesters/registry.yaml (`ckan yantai harvest load`), and build the JavaScript
#     translations (`ckan translation js`);
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
import psycopg2.sql

deadline = time.monotonic() + float(os.environ.get("CKAN_WAIT_TIMEOUT", "300"))


def wait(name, check):
    while True:
        try:
            return check()
        except Exception as exc:  # any failure means "not yet"
            if time.monotonic() > deadline:
                sys.exit(f"entrypoint: {name} not reachable: {exc}")
            time.sleep(2)


def datastore_permissions(catalogue_db):
    """CKAN's DataStore permissions script (`ckan datastore set-permissions`), run as CKAN's role:
    it owns both databases and, since PostgreSQL 15, their public schemas, which is all the script
    needs, so the superuser's password stays out of the CKAN containers. Idempotent."""
    out = subprocess.run(["ckan", "datastore", "set-permissions"], stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        return out.returncode
    lines = out.stdout.splitlines()
    # The script's one psql command, \connect to the DataStore's database, is what connecting with
    # the write URL does; anything else psql-only would need psql, which this image lacks.
    meta = [line for line in lines if line.startswith("\\")]
    if [line.split()[0] for line in meta] != ["\\connect"]:
        print(f"entrypoint: unexpected psql commands from set-permissions: {meta}", file=sys.stderr)
        return 1
    with psycopg2.connect(os.environ["CKAN_DATASTORE_WRITE_URL"]) as datastore:
        with datastore.cursor() as cur:
            cur.execute("\n".join(line for line in lines if not line.startswith("\\")))
            # The script takes CONNECT on CKAN's database from the read-only role, which still has
            # it through PUBLIC (PostgreSQL's default): take it from PUBLIC, so that the role
            # behind datastore_search_sql cannot log in there at all. The owner keeps it.
            cur.execute(psycopg2.sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(
                psycopg2.sql.Identifier(catalogue_db)))
    datastore.close()
    # Chinese search over DataStore rows: after the script, which resets the full-text trigger.
    return subprocess.call(["ckan", "yantai", "datastore-init"])


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
    if code == 0:
        print("entrypoint: applying DataStore permissions", file=sys.stderr, flush=True)
        code = datastore_permissions(conn.info.dbname)
    if code == 0:
        # The harvest sources the registry declares (idempotent). A source that cannot be loaded
        # (a department not created yet, a URL refused) is named in the log and the portal starts
        # anyway: the other sources and the site do not wait for it.
        if subprocess.call(["ckan", "yantai", "harvest", "load",
                            "/srv/app/harvesters/registry.yaml"]) != 0:
            print("entrypoint: WARNING: some harvest sources of harvesters/registry.yaml were not "
                  "loaded (see above); fix the registry and restart", file=sys.stderr, flush=True)
    cur.execute("SELECT pg_advisory_unlock(hashtext('ckan db upgrade'))")
conn.close()
sys.exit(code)
PY
  # CKAN's JavaScript strings in Chinese (core's and the plugins' catalogues): `ckan run` builds
  # them, gunicorn does not. They go to the storage volume that every web replica shares.
  ckan translation js
fi

exec "$@"
