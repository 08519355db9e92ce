#!/usr/bin/env python3
"""The portal's local stack: PostgreSQL, Redis, Solr, the CKAN web server and its workers.

Everything runs on 127.0.0.1 with its data, logs and pid files under one folder (``.run/``, or
``$RUN_DIR``); ports come from ``config/stack.env``. Each command is idempotent: what already runs
is left running, what exists is kept.

    stack.py up        services, development config, databases (catalogue, DataStore), sysadmin,
                       web, workers, demo data
    stack.py test-env  services, test config (.run/etc/test/test.ini), test databases and Solr core;
                       with --workers N, N-1 more test stacks for pytest-xdist's workers
    stack.py down      stop everything this project started
    stack.py status    what runs where

It is run by the Makefile with the project's virtualenv, after scripts/bootstrap.sh installed it.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import json
import os
import pathlib
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "config" / "ckan"))
sys.path.insert(0, str(ROOT / "config" / "solr"))

import build_configset  # noqa: E402
import render  # noqa: E402

PG_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
SOLR_CORES = ("ckan", "ckan_test", "ckan_plain")
# Cores whose index lives in memory (tmpfs, where there is one), linked from <core>/data: the test
# core, where every dataset write is a hard commit (ckan.search.solr_commit) and a commit's fsyncs
# on disk cost more than the rest of it. Same Solr, same commits and update log; the index is gone
# after a reboot, as the test runs' index may be (they empty it themselves).
SOLR_MEMORY_CORES = ("ckan_test", "ckan_plain")
MEMORY_DIR = pathlib.Path("/dev/shm")
# PostgreSQL roles and the secret holding each one's password. CKAN's role owns the catalogue and
# DataStore databases (it is the DataStore's write user); datastore_ro is the DataStore's read-only
# user, which runs the SQL of datastore_search and datastore_search_sql.
PG_ROLES = {"ckan_default": "PG_PASSWORD", "datastore_ro": "DATASTORE_RO_PASSWORD"}
# What PostgreSQL may write to its log: server events (start, stop, checkpoints, FATAL and PANIC),
# never a statement, its parameters, an error's DETAIL / CONTEXT (which quote keys and whole rows)
# nor a client's error (its message may quote a value; CKAN logs it, masked): a 双公示 record that
# fails must not reach postgresql.log. docker/compose.yaml passes the same settings in production.
PG_LOG_SETTINGS = {
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_error_statement": "panic",
    "log_error_verbosity": "terse",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
    "log_min_messages": "log",
}
# Memory: the DataStore's Chinese search reads every row a broad word matches (a million-row table
# with its full-text column is about 700 MB); with PostgreSQL's default 128 MB of buffers those
# rows come from the OS cache at every search (bench/datastore_load.py: q p95 519 ms, 267 ms with
# 1 GB). PG_SHARED_BUFFERS in config/stack.env; production sets its own (docker/compose.yaml).
PG_SETTINGS_FILE = "yantai.conf"  # in the data directory, included by postgresql.conf
PG_OLD_SETTINGS_FILE = "yantai-logging.conf"  # its name before the memory settings


def read_env_file(path: pathlib.Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


class StackError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"stack: {message}")


@dataclass(frozen=True)
class Profile:
    """What differs between the development portal and the test run on the same services."""

    name: str  # template name in config/ckan
    ini_name: str
    database: str
    datastore: str  # the DataStore's own database: CKAN refuses to share the catalogue's
    solr_core: str
    redis_db: int
    site_url: str


class Stack:
    def __init__(self, run: pathlib.Path | None = None,
                 ports: dict[str, str] | None = None) -> None:
        settings = read_env_file(ROOT / "config" / "stack.env")
        settings.update({k: v for k, v in os.environ.items() if k in settings})
        settings.update(ports or {})
        self.settings = settings
        self.run = (run or pathlib.Path(os.environ.get("RUN_DIR", ROOT / ".run"))).resolve()
        self.venv_bin = pathlib.Path(sys.executable).parent
        self.logs = self.run / "logs"
        self.pids = self.run / "pids"
        self.pg_port = int(settings["PG_PORT"])
        self.redis_port = int(settings["REDIS_PORT"])
        self.solr_port = int(settings["SOLR_PORT"])
        self.ckan_port = int(settings["CKAN_PORT"])
        self.credit_port = int(settings["CREDIT_RECEIVER_PORT"])
        self.feeds_port = int(settings["DEMO_FEEDS_PORT"])
        self.configset_changed = False

    # -- profiles, secrets, config -------------------------------------------------------------

    def profile(self, name: str) -> Profile:
        if name == "development":
            return Profile(name, "ckan.ini", "ckan_default", "datastore_default", "ckan", 0,
                           f"http://127.0.0.1:{self.ckan_port}")
        if name == "plain":  # a stock CKAN for the federation test (config/ckan/plain.ini.in)
            return Profile(name, "plain.ini", "ckan_plain", "", "ckan_plain", 2,
                           "http://plain.ckan.test")
        return Profile(name, "test.ini", "ckan_test", "datastore_test", "ckan_test", 1,
                       "http://test.ckan.net")

    def ini_path(self, profile: Profile) -> pathlib.Path:
        return self.run / "etc" / profile.name / profile.ini_name

    def secrets(self) -> dict[str, str]:
        """Secrets generated once per .run/ and kept there, readable by the owner only."""
        path = self.run / "secrets.json"
        values = json.loads(path.read_text()) if path.exists() else {}
        wanted = {"SECRET_KEY": 32, "PG_PASSWORD": 18, "ADMIN_PASSWORD": 12, "REDIS_PASSWORD": 24,
                  "DATASTORE_RO_PASSWORD": 18, "CREDIT_TOKEN": 24}
        missing = {k: secrets.token_urlsafe(n) for k, n in wanted.items() if k not in values}
        if missing:
            values.update(missing)
            write_private(path, json.dumps(values, indent=2))
        return values

    def render_ini(self, profile: Profile) -> pathlib.Path:
        sec = self.secrets()
        values = {
            "CKAN_SITE_ID": "yantai" if profile.name == "development" else "yantai_test",
            "CKAN_SITE_URL": profile.site_url,
            "SECRET_KEY": sec["SECRET_KEY"],
            "SQLALCHEMY_URL": self.db_url(profile.database),
            "CKAN_DATASTORE_WRITE_URL": self.db_url(profile.datastore),
            "CKAN_DATASTORE_READ_URL": self.db_url(profile.datastore, "datastore_ro"),
            "SOLR_URL": f"http://127.0.0.1:{self.solr_port}/solr/{profile.solr_core}",
            "REDIS_URL": (f"redis://:{sec['REDIS_PASSWORD']}@127.0.0.1:{self.redis_port}"
                          f"/{profile.redis_db}"),
            "CKAN_STORAGE_PATH": str(self.run / "storage" / profile.name),
            "CREDIT_ENDPOINT": f"http://127.0.0.1:{self.credit_port}",
            "CREDIT_TOKEN": sec["CREDIT_TOKEN"],
            "DEMO_FEEDS_PORT": str(self.feeds_port),
        }
        (self.run / "storage" / profile.name).mkdir(parents=True, exist_ok=True)
        path = render.render(profile.name, self.ini_path(profile).parent, profile.ini_name, values)
        step(f"CKAN config written to {path}")
        return path

    def db_url(self, database: str, role: str = "ckan_default") -> str:
        return (f"postgresql://{role}:{self.secrets()[PG_ROLES[role]]}"
                f"@127.0.0.1:{self.pg_port}/{database}")

    # -- processes -----------------------------------------------------------------------------

    def pidfile(self, name: str) -> pathlib.Path:
        return self.pids / f"{name}.pid"

    def running_pid(self, name: str) -> int | None:
        """The pid of our process `name`, if it still runs: the pid file keeps the process's start
        time too, so that a pid reused by another program (after a reboot) is never ours."""
        try:
            pid_text, _, started = self.pidfile(name).read_text().strip().partition(" ")
            pid = int(pid_text)
        except (FileNotFoundError, ValueError):
            return None
        actual = process_start(pid)
        if pid <= 1 or actual is None or (started and actual != started):
            return None  # (a pid file without a start time was written before they were kept)
        return pid

    def spawn(self, name: str, argv: Sequence[str], cwd: pathlib.Path | None = None,
              env: dict[str, str] | None = None) -> int:
        """Start a daemon in its own session, output to logs/<name>.log, pid to pids/<name>.pid."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pids.mkdir(parents=True, exist_ok=True)
        # The daemon keeps its own copy of the log's descriptor.
        with open(self.logs / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                list(argv), cwd=cwd or ROOT, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **(env or {})},
            )
        self.pidfile(name).write_text(f"{proc.pid} {process_start(proc.pid)}")
        return proc.pid

    def stop(self, name: str, timeout: float = 20) -> None:
        pid = self.running_pid(name)
        if pid is None:
            self.pidfile(name).unlink(missing_ok=True)
            return
        step(f"stopping {name} (pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running_pid(name) is not None:
            reap(pid)
            time.sleep(0.2)
        if self.running_pid(name) is not None:
            os.killpg(pid, signal.SIGKILL)
        self.pidfile(name).unlink(missing_ok=True)

    # -- PostgreSQL ----------------------------------------------------------------------------

    @property
    def pg_base(self) -> pathlib.Path:
        return self.run / "postgresql"

    # PostgreSQL gets resolved paths: the link from .run/ may pass through folders it cannot enter.
    @property
    def pg_data(self) -> pathlib.Path:
        return self.pg_base.resolve() / "data"

    @property
    def pg_socket_dir(self) -> pathlib.Path:
        return self.pg_base.resolve() / "socket"

    def pg_outside_dir(self) -> pathlib.Path:
        """Where the cluster lives when the checkout is not reachable by the `postgres` user (a
        clone under root's 0700 home): a folder of its own, linked from .run/postgresql."""
        key = hashlib.sha256(str(self.run).encode()).hexdigest()[:12]
        return pathlib.Path("/var/lib/yantai-portal") / key / "postgresql"

    def prepare_pg_base(self) -> None:
        if self.pg_base.exists() or os.geteuid() != 0:
            return
        self.run.mkdir(parents=True, exist_ok=True)
        if not reachable_by("postgres", self.run):
            outside = self.pg_outside_dir()
            outside.mkdir(parents=True, exist_ok=True)
            self.pg_base.symlink_to(outside)
            step(f"the checkout is not reachable by user postgres: cluster kept in {outside}")

    def as_postgres(self, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
        """Run a PostgreSQL tool as the `postgres` system user when we are root (initdb refuses
        root)."""
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, **kwargs)

    def psql(self, sql: str, database: str = "postgres", script: bool = False) -> str:
        """Run SQL as the superuser: one statement (-c), or with script=True a whole script on
        standard input, as `… | sudo -u postgres psql` would (psql meta-commands allowed)."""
        argv = [str(PG_BIN / "psql"), "-h", str(self.pg_socket_dir), "-p", str(self.pg_port),
                "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt"]
        out = self.as_postgres(argv if script else [*argv, "-c", sql],
                               input=sql if script else None, capture_output=True, text=True)
        return out.stdout.strip()

    def start_postgres(self) -> None:
        self.prepare_pg_base()
        base = self.pg_base.resolve()
        if not (self.pg_data / "PG_VERSION").exists():
            step(f"initialising PostgreSQL 15 cluster in {self.pg_data}")
            self.pg_data.mkdir(parents=True, exist_ok=True)
            self.pg_socket_dir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                pg = pwd.getpwnam("postgres")
                for path in (base, self.pg_data, self.pg_socket_dir):
                    os.chown(path, pg.pw_uid, pg.pw_gid)
                if not reachable_by("postgres", base):
                    raise StackError(f"user postgres cannot reach {base}")
            self.pg_data.chmod(0o700)
            self.as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.pg_data), "-U", "postgres", "-E", "UTF8",
                 "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256"],
                stdout=subprocess.DEVNULL,
            )
        changed = self.write_pg_settings()
        if port_open(self.pg_port) and self.pg_running():
            if changed:
                step("PostgreSQL settings changed: reloading its configuration")
                self.as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "reload"],
                                 stdout=subprocess.DEVNULL)
                if not self.pg_pending_restart():
                    step(f"PostgreSQL already running on 127.0.0.1:{self.pg_port}")
                    return
                step("PostgreSQL's memory settings changed: restarting it")
                self.stop_postgres()
            else:
                step(f"PostgreSQL already running on 127.0.0.1:{self.pg_port}")
                return
        ensure_port_free(self.pg_port, "PostgreSQL")
        step(f"starting PostgreSQL on 127.0.0.1:{self.pg_port}")
        self.logs.mkdir(parents=True, exist_ok=True)
        log = base / "postgresql.log"
        self.as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "-l", str(log), "-w", "-t", "60",
             "-o", f"-p {self.pg_port} -k {self.pg_socket_dir} -c listen_addresses=127.0.0.1",
             "start"],
            stdout=subprocess.DEVNULL,
        )
        link_log(self.logs / "postgresql.log", log)

    def write_pg_settings(self) -> bool:
        """PG_LOG_SETTINGS and the memory settings into the cluster's configuration (a file of
        their own, included at the end of postgresql.conf); True when that changed anything."""
        settings = self.pg_data / PG_SETTINGS_FILE
        values = {**PG_LOG_SETTINGS, "shared_buffers": self.settings["PG_SHARED_BUFFERS"]}
        text = "# written by scripts/stack.py: PG_LOG_SETTINGS, PG_SHARED_BUFFERS\n" + "".join(
            f"{name} = '{value}'\n" for name, value in values.items())
        (self.pg_data / PG_OLD_SETTINGS_FILE).unlink(missing_ok=True)
        conf = self.pg_data / "postgresql.conf"
        include = f"include_if_exists = '{PG_SETTINGS_FILE}'"
        changed = False
        if not settings.exists() or settings.read_text() != text:
            settings.write_text(text)
            changed = True
        if include not in conf.read_text().splitlines():
            with conf.open("a") as f:
                f.write(f"\n{include}\n")
            changed = True
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(settings, pg.pw_uid, pg.pw_gid)
        settings.chmod(0o600)
        return changed

    def pg_running(self) -> bool:
        argv = [str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "status"]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True).returncode == 0

    def pg_pending_restart(self) -> bool:
        """Whether a setting read only at start (shared_buffers) waits for a restart."""
        return self.psql("SELECT count(*) FROM pg_settings WHERE pending_restart") != "0"

    def stop_postgres(self) -> None:
        if (self.pg_data / "postmaster.pid").exists():
            step("stopping PostgreSQL")
            self.as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_data), "-m", "fast", "-w",
                              "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ensure_role(self, role: str) -> None:
        password = self.secrets()[PG_ROLES[role]].replace("'", "''")
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
            self.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        else:  # keep it in step with secrets.json
            self.psql(f"ALTER ROLE {role} PASSWORD '{password}'")

    def ensure_databases(self, profile: Profile) -> None:
        """The profile's catalogue and DataStore databases, both owned by CKAN's role, and the
        DataStore's read-only role."""
        for role in PG_ROLES:
            self.ensure_role(role)
        self.ensure_database(profile.database)
        self.ensure_database(profile.datastore)

    def ensure_database(self, database: str) -> None:
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):
            step(f"creating database {database}")
            self.psql(f"CREATE DATABASE {database} OWNER ckan_default ENCODING 'UTF8' "
                      "TEMPLATE template0")

    # -- Redis ---------------------------------------------------------------------------------

    def start_redis(self) -> None:
        if self.running_pid("redis") and port_open(self.redis_port):
            step(f"Redis already running on 127.0.0.1:{self.redis_port}")
            return
        ensure_port_free(self.redis_port, "Redis")
        data = self.run / "redis"
        data.mkdir(parents=True, exist_ok=True)
        conf = data / "redis.conf"
        # A password: the workers run jobs (pickled) from this Redis, so no other local user may
        # write to it.
        write_private(conf, (
            f"bind 127.0.0.1\nprotected-mode yes\nport {self.redis_port}\ndir {data}\n"
            f"requirepass {self.secrets()['REDIS_PASSWORD']}\n"
            "save 60 1000\nappendonly no\ndaemonize no"))
        step(f"starting Redis on 127.0.0.1:{self.redis_port}")
        self.spawn("redis", [shutil.which("redis-server") or "/usr/bin/redis-server", str(conf)])
        wait_for(lambda: redis_ping(self.redis_port, self.secrets()["REDIS_PASSWORD"]), "Redis", 30,
                 self.logs / "redis.log")

    # -- Solr ----------------------------------------------------------------------------------

    @property
    def solr_home(self) -> pathlib.Path:
        return self.run / "solr" / "home"

    def prepare_solr_home(self) -> bool:
        """Build the configset into the Solr home; True when it differs from what was there."""
        home = self.solr_home
        configset = home / "configsets" / "yantai"
        before = tree_digest(configset / "conf")
        build_configset.main([str(configset)])
        shutil.copy2(ROOT / "config" / "solr" / "solr.xml", home / "solr.xml")
        for core in SOLR_CORES:
            (home / core).mkdir(parents=True, exist_ok=True)
            (home / core / "core.properties").write_text(f"name={core}\nconfigSet=yantai\n")
            if core in SOLR_MEMORY_CORES:
                self.link_memory_data(core)
        return before != tree_digest(configset / "conf")

    def solr_memory_dir(self) -> pathlib.Path:
        """This checkout's folder on tmpfs for the SOLR_MEMORY_CORES' data (one per RUN_DIR)."""
        key = hashlib.sha256(str(self.run).encode()).hexdigest()[:12]
        return MEMORY_DIR / "yantai-portal" / key / "solr"

    def link_memory_data(self, core: str) -> None:
        """<core>/data as a link to a folder on tmpfs (created again after a reboot); left as a
        folder on disk where there is no tmpfs."""
        if not (MEMORY_DIR.is_dir() and os.access(MEMORY_DIR, os.W_OK)):
            return
        data = self.solr_home / core / "data"
        target = self.solr_memory_dir() / core
        target.mkdir(parents=True, exist_ok=True)
        if data.is_symlink() and data.resolve() == target.resolve():
            return
        if self.running_pid("solr-console"):
            step(f"moving Solr core {core}'s index to memory: restarting Solr")
            self.stop("solr-console")
        if data.is_symlink() or data.is_file():
            data.unlink()
        else:
            shutil.rmtree(data, ignore_errors=True)  # an index on disk from before: not kept
        data.symlink_to(target)

    def wipe_core_data(self, core: str) -> None:
        data = self.solr_home / core / "data"
        if data.is_symlink():  # in memory: empty the folder it points to, keep the link
            for child in data.resolve().iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            shutil.rmtree(data, ignore_errors=True)

    def start_solr(self) -> None:
        changed = self.prepare_solr_home()
        self.configset_changed = changed
        if changed:
            # A changed schema may not fit the segments already written (a field gaining doc
            # values cannot be reloaded over them): start from empty cores; `up` then rebuilds
            # the whole index from PostgreSQL.
            if self.running_pid("solr-console"):
                step("Solr configset changed: restarting Solr with empty cores")
                self.stop("solr-console")
            for core in SOLR_CORES:
                self.wipe_core_data(core)
        if self.running_pid("solr-console") and self.running_pid("solr") is None:
            # Started by an older stack.py, without its supervisor (or just restarting).
            step("restarting Solr under its supervisor")
            self.stop("solr-console")
        if self.running_pid("solr-console") and port_open(self.solr_port):
            if self.solr_ready():
                step(f"Solr already running on 127.0.0.1:{self.solr_port}")
                return
            step("a Solr core was added since Solr started: restarting Solr")
            self.stop("solr-console")
        ensure_port_free(self.solr_port, "Solr")
        server = ROOT / "config" / "solr" / "server" / "target"
        step(f"starting Solr 9 on 127.0.0.1:{self.solr_port}")
        heap = self.settings["SOLR_HEAP"]
        # Supervised: a JVM out of memory exits at once (a half-dead Solr keeps a closed
        # IndexWriter and refuses every write) and `supervise` starts it again.
        self.spawn("solr-console", [
            sys.executable, str(pathlib.Path(__file__).resolve()), "supervise",
            "--pidfile", str(self.pidfile("solr")), "--",
            "java", f"-Xms{heap}", f"-Xmx{heap}", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dsolr.log.dir={self.logs}",
            f"-Dlog4j2.configurationFile={ROOT / 'config' / 'solr' / 'log4j2.xml'}",
            f"-Dsolr.solr.home={self.solr_home}",
            "-cp", f"{server / 'yantai-solr.jar'}:{server / 'lib'}/*",
            "cn.gov.yantai.solr.Server", str(self.solr_home), str(self.solr_port),
        ], cwd=self.solr_home, env={"SOLR_LOG_DIR": str(self.logs)})
        wait_for(self.solr_ready, "Solr", 120, self.logs / "solr.log")

    def solr_url(self) -> str:
        return f"http://127.0.0.1:{self.solr_port}/solr"

    def solr_ready(self) -> bool:
        if self.running_pid("solr-console") is None:
            raise StackError(f"Solr exited while starting; see {self.logs / 'solr.log'} and "
                             f"{self.logs / 'solr-console.log'}")
        try:
            status = json.loads(http_get(f"{self.solr_url()}/admin/cores?action=STATUS&wt=json"))
        except (OSError, ValueError):
            return False
        if status.get("initFailures"):
            raise StackError(f"Solr cores failed to load: {status['initFailures']}")
        return all(core in status.get("status", {}) for core in SOLR_CORES)

    # -- CKAN ----------------------------------------------------------------------------------

    def ckan(self, ini: pathlib.Path, *args: str, capture: bool = False) -> str:
        result = subprocess.run(
            [str(self.venv_bin / "ckan"), "-c", str(ini), *args], check=False, text=True,
            capture_output=True,
        )
        if result.returncode != 0:
            raise StackError(f"`ckan {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
        if not capture and result.stdout.strip():
            print(indent(result.stdout))
        return result.stdout

    def migrate(self, ini: pathlib.Path) -> None:
        step("running database migrations (CKAN core and plugins)")
        self.ckan(ini, "db", "upgrade")
        # CKAN's JavaScript strings in the page's language: `ckan run` builds them at start,
        # gunicorn does not (without them every JS module speaks English).
        step("building the JavaScript translations")
        self.ckan(ini, "translation", "js", capture=True)

    def set_datastore_permissions(self, profile: Profile, ini: pathlib.Path) -> None:
        """CKAN's own DataStore setup, `ckan datastore set-permissions | sudo -u postgres psql`:
        datastore_ro may only read the DataStore database; also creates the _table_metadata view
        and full-text trigger that the DataStore needs. Idempotent, so run on every start, which
        also brings it in step with a CKAN upgrade."""
        step(f"applying DataStore permissions ({profile.datastore}, read-only role datastore_ro)")
        self.psql(self.ckan(ini, "datastore", "set-permissions", capture=True), script=True)
        # The script revokes CONNECT on the catalogue database from datastore_ro, but every role
        # still has it through PUBLIC (PostgreSQL's default): take it from PUBLIC, so that the
        # role behind datastore_search_sql cannot even log in there. The owner keeps it.
        self.psql(f"REVOKE CONNECT ON DATABASE {profile.database} FROM PUBLIC")
        # Chinese search over DataStore rows: after set-permissions, which resets its trigger.
        self.ckan(ini, "yantai", "datastore-init")

    def ensure_admin(self, ini: pathlib.Path) -> dict[str, str]:
        """Create the sysadmin `admin` once; its password comes from the generated secrets."""
        path = self.run / "admin.json"
        password = self.secrets()["ADMIN_PASSWORD"]
        users = self.ckan(ini, "user", "list", capture=True)
        if not any(line.split()[:1] == ["name=admin"] for line in users.splitlines()):
            step("creating sysadmin `admin`")
            self.ckan(ini, "user", "add", "admin", "email=admin@data.yantai.gov.cn",
                      f"password={password}", "fullname=平台管理员", capture=True)
        self.ckan(ini, "sysadmin", "add", "admin", capture=True)
        admin = json.loads(path.read_text()) if path.exists() else {}
        admin.update({"name": "admin", "password": password})
        write_private(path, json.dumps(admin, indent=2, ensure_ascii=False))
        return admin

    def ensure_token(self, ini: pathlib.Path) -> str:
        """Keep a working API token for `admin` in admin.json, creating one when it is missing."""
        path = self.run / "admin.json"
        admin = json.loads(path.read_text())
        token = admin.get("api_token")
        if token and self.token_works(token):
            return token
        step("creating an API token for `admin`")
        out = self.ckan(ini, "user", "token", "add", "admin", "make-up", capture=True)
        token = [line.strip() for line in out.splitlines() if line.strip()][-1]
        admin["api_token"] = token
        write_private(path, json.dumps(admin, indent=2, ensure_ascii=False))
        return token

    def token_works(self, token: str) -> bool:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ckan_port}/api/3/action/api_token_list?user_id=admin",
            headers={"Authorization": token},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.load(resp).get("success") is True
        except urllib.error.HTTPError:
            return False

    def start_web(self, ini: pathlib.Path) -> None:
        web = self.running_pid("ckan-web")
        if web and port_open(self.ckan_port):
            step(f"reloading CKAN web server on http://127.0.0.1:{self.ckan_port}")
            os.kill(web, signal.SIGHUP)
        else:
            ensure_port_free(self.ckan_port, "CKAN")
            step(f"starting CKAN web server (gunicorn) on http://127.0.0.1:{self.ckan_port}")
            self.spawn("ckan-web", [
                str(self.venv_bin / "gunicorn"), "--bind", f"127.0.0.1:{self.ckan_port}",
                "--workers", self.settings["CKAN_WEB_WORKERS"], "--timeout", "120",
                "--access-logfile", "-", "wsgi:application",
            ], cwd=ROOT / "config" / "ckan", env={"CKAN_INI": str(ini)})
        wait_for(lambda: self.web_ready(), "CKAN", 120, self.logs / "ckan-web.log")

    def web_ready(self) -> bool:
        if self.running_pid("ckan-web") is None:
            raise StackError(f"CKAN exited while starting; see {self.logs / 'ckan-web.log'}")
        try:
            status = json.loads(http_get(
                f"http://127.0.0.1:{self.ckan_port}/api/3/action/status_show"))
        except (OSError, ValueError):
            return False
        return status.get("success") is True

    WORKERS = {
        "ckan-worker": ("jobs", "worker"),
        "harvest-gather": ("harvester", "gather-consumer"),
        "harvest-fetch": ("harvester", "fetch-consumer"),
    }

    def start_credit_receiver(self) -> None:
        """The loopback stand-in for 信用烟台 that the demo's 双公示 pushes go to; what it
        received stays in .run/credit-receiver/received.jsonl."""
        if self.running_pid("credit-receiver"):
            return
        ensure_port_free(self.credit_port, "the credit receiver")
        step(f"starting the 信用烟台 stand-in on http://127.0.0.1:{self.credit_port}")
        self.spawn("credit-receiver", [
            str(self.venv_bin / "python"), "-m", "demo.credit_receiver",
            "--port", str(self.credit_port), "--data-dir", str(self.run / "credit-receiver"),
            "--token", self.secrets()["CREDIT_TOKEN"]])
        wait_for(lambda: port_open(self.credit_port), "the credit receiver", 120,
                 self.logs / "credit-receiver.log")

    def start_demo_feeds(self) -> None:
        """The demo's harvest feeds (harvesters/demo/feeds/) over HTTP on loopback, as a
        department's server would publish them."""
        if self.running_pid("demo-feeds"):
            return
        ensure_port_free(self.feeds_port, "the demo feeds")
        step(f"serving the demo harvest feeds on http://127.0.0.1:{self.feeds_port}")
        self.spawn("demo-feeds", [str(self.venv_bin / "python"),
                                   str(ROOT / "harvesters" / "demo" / "serve.py"),
                                   str(self.feeds_port)])
        wait_for(lambda: port_open(self.feeds_port), "the demo feeds", 120,
                 self.logs / "demo-feeds.log")

    def harvest_demo(self, ini: pathlib.Path) -> None:
        step("registering the demo harvest sources and harvesting each once")
        os.environ["DEMO_FEEDS_PORT"] = str(self.feeds_port)
        registry = ROOT / "harvesters" / "demo" / "registry.yaml"
        self.ckan(ini, "yantai", "harvest", "load", str(registry))
        for source in self.demo_sources(registry):
            self.ckan(ini, "yantai", "harvest", "run", source)

    @staticmethod
    def demo_sources(registry: pathlib.Path) -> list[str]:
        import yaml

        return [s["name"] for s in yaml.safe_load(registry.read_text("utf-8"))["sources"]]

    def start_workers(self, ini: pathlib.Path, restart: bool) -> None:
        for name, args in self.WORKERS.items():
            if self.running_pid(name):
                if not restart:
                    continue
                self.stop(name)
            step(f"starting {name} (ckan {' '.join(args)})")
            self.spawn(name, [str(self.venv_bin / "ckan"), "-c", str(ini), *args])

    # -- commands ------------------------------------------------------------------------------

    def services(self) -> None:
        self.run.mkdir(parents=True, exist_ok=True)
        self.start_postgres()
        self.start_redis()
        self.start_solr()

    def up(self, demo: bool = True) -> None:
        started = time.monotonic()
        self.services()
        profile = self.profile("development")
        self.ensure_databases(profile)
        ini = self.render_ini(profile)
        self.migrate(ini)
        self.set_datastore_permissions(profile, ini)
        self.ensure_admin(ini)
        self.start_credit_receiver()
        if demo:
            self.start_demo_feeds()
        # Workers load the code at start: restart them so a re-run picks up changes.
        self.start_workers(ini, restart=True)
        self.start_web(ini)
        step("checking that the background worker runs jobs")
        self.ckan(ini, "yantai", "check-worker", "--timeout", "120")
        self.ensure_token(ini)
        # The index can always be rebuilt from PostgreSQL: all of it when the analysis changed,
        # otherwise only what is missing (e.g. after Solr's data was lost).
        step("bringing the search index up to date")
        self.ckan(ini, "search-index", "rebuild", *([] if self.configset_changed else ["-o"]),
                  capture=True)
        step("creating the policy-domain groups")
        self.ckan(ini, "yantai", "init-domains")
        if demo:
            step("loading the demo catalogue through the Action API")
            subprocess.run(
                [str(self.venv_bin / "python"), "-m", "demo", "--url",
                 f"http://127.0.0.1:{self.ckan_port}",
                 "--token-file", str(self.run / "admin.json")],
                check=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            self.harvest_demo(ini)
        # Before the DataStore wait: it publishes the usage statistics' monthly CSVs, tables the
        # workers load too.
        step("summing dataset views, downloads and API calls")
        self.ckan(ini, "tracking", "update", capture=True)
        # The workers load table files into the DataStore as they are created; this waits for
        # them, and queues any that were not (created while the queue was down).
        step("loading the table files into the DataStore")
        self.ckan(ini, "yantai", "datastore-load", "--pending", "--wait", "900")
        # New resources get their previews as they are created (ckan.views.default_views);
        # this gives them to resources created before a view type was enabled. Idempotent.
        step("creating resource previews")
        self.ckan(ini, "views", "create", "--yes", capture=True)
        step("refreshing metadata-quality scores in the search index")
        self.ckan(ini, "yantai", "refresh-quality")
        url = f"http://127.0.0.1:{self.ckan_port}"
        services = (f"Solr:  {self.solr_url()}/ckan   PostgreSQL: 127.0.0.1:{self.pg_port}   "
                    f"Redis: 127.0.0.1:{self.redis_port}")
        print(f"""
The portal is up ({time.monotonic() - started:.0f} s): {url}
  Log in as `admin`; the password and an API token are in {self.run / 'admin.json'}.
  API:   {url}/api/3/action/package_search?q=公交
  {services}
  Logs:  {self.logs}/        Stop: make down""", flush=True)

    def test_env(self, workers: int = 1) -> None:
        """The test services, config and databases; with ``workers`` > 1, as many test stacks in
        all (see worker_stacks), prepared side by side."""
        preparing = []
        for worker in self.worker_stacks(workers):
            worker.run.mkdir(parents=True, exist_ok=True)
            log = open(worker.run / "test-env.log", "w")  # noqa: SIM115 (closed below)
            preparing.append((worker, log, subprocess.Popen(
                [sys.executable, str(pathlib.Path(__file__).resolve()), "test-env"],
                env={**os.environ, "RUN_DIR": str(worker.run), **worker.ports()},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)))
        try:
            self.services()
            profile = self.profile("test")
            self.ensure_databases(profile)
            ini = self.render_ini(profile)
            self.migrate(ini)
            self.set_datastore_permissions(profile, ini)
            self.plain_env()
        finally:
            failed = []
            for worker, log, process in preparing:
                process.wait()
                log.close()
                if process.returncode != 0:
                    failed.append(worker)
                    print(indent((worker.run / "test-env.log").read_text(errors="replace")))
        if failed:
            raise StackError("could not prepare the test stack of "
                             + ", ".join(str(w.run) for w in failed))
        if preparing:
            step(f"{len(preparing) + 1} test stacks ready: this one and "
                 + ", ".join(str(w.run) for w, _, _ in preparing))

    def plain_env(self) -> None:
        """A plain CKAN's database and config beside the test profile (the federation test
        harvests the portal into it)."""
        plain = self.profile("plain")
        self.ensure_database(plain.database)
        ini = self.render_ini(plain)
        step("running the plain CKAN's database migrations (CKAN core and ckanext-harvest)")
        self.ckan(ini, "db", "upgrade")

    # A test run over N pytest-xdist workers (make test) gives the first worker this stack and each
    # other worker a complete stack of its own, under RUN_DIR/workers/<worker id>: its own
    # PostgreSQL, Redis and Solr, on ports chosen once and kept in ports.json there. Each worker's
    # tests then see what a lone run sees (the databases ckan_test and datastore_test, the core
    # ckan_test, Redis database 1), and a test that stops or kills a service (Solr's supervisor
    # test) stops its own worker's only.
    PORT_NAMES: tuple[str, ...] = ("PG_PORT", "REDIS_PORT", "SOLR_PORT", "CKAN_PORT",
                                   "CREDIT_RECEIVER_PORT", "DEMO_FEEDS_PORT")

    def worker_stacks(self, workers: int | None = None) -> list[Stack]:
        """The stacks of workers gw1 … gw<workers-1>; without a count, those that exist."""
        base = self.run / "workers"
        if workers is None:
            names = sorted(p.name for p in base.glob("gw*") if (p / "ports.json").exists())
        else:
            names = [f"gw{i}" for i in range(1, workers)]
        stacks: list[Stack] = []
        for name in names:
            taken = {port for stack in stacks for port in stack.ports().values()}
            stacks.append(Stack(base / name, self.worker_ports(base / name, taken)))
        return stacks

    def worker_ports(self, run: pathlib.Path, taken: set[str] | None = None) -> dict[str, str]:
        """The ports of the worker stack in ``run``: those kept in its ports.json while they are
        free or its own services hold them, otherwise new free ones (kept for next time), none of
        them this stack's nor in ``taken``."""
        taken = {*self.ports().values(), *(taken or ())}  # which may not listen yet
        path = run / "ports.json"
        ports = json.loads(path.read_text()) if path.exists() else {}
        if set(ports) == set(self.PORT_NAMES) and not set(ports.values()) & taken:
            stack = Stack(run, ports)
            held = {"PG_PORT": stack.pg_running, "REDIS_PORT": lambda: stack.running_pid("redis"),
                    "SOLR_PORT": lambda: stack.running_pid("solr-console")}
            if all(not port_open(int(ports[name])) or (name in held and held[name]())
                   for name in self.PORT_NAMES):
                return ports
        with contextlib.ExitStack() as sockets:  # all bound at once, so all different
            chosen: list[str] = []
            while len(chosen) < len(self.PORT_NAMES):
                sock = sockets.enter_context(socket.socket())
                sock.bind(("127.0.0.1", 0))
                if str(sock.getsockname()[1]) not in taken:
                    chosen.append(str(sock.getsockname()[1]))
        ports: dict[str, str] = dict(zip(self.PORT_NAMES, chosen, strict=True))
        run.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(ports, indent=2))
        return ports

    def ports(self) -> dict[str, str]:
        return {name: self.settings[name] for name in self.PORT_NAMES}

    def down(self) -> None:
        for worker in self.worker_stacks():
            worker.down()
        for name in ("ckan-web", *self.WORKERS, "credit-receiver", "demo-feeds", "solr-console",
                     "redis"):
            self.stop(name)
        self.stop_postgres()

    def reset(self) -> None:
        """Stop everything and remove all runtime state (a cluster kept outside included)."""
        for worker in self.worker_stacks():
            worker.reset()
        self.down()
        if self.pg_base.is_symlink():  # the cluster's own folder outside (pg_outside_dir)
            shutil.rmtree(self.pg_base.resolve().parent, ignore_errors=True)
        shutil.rmtree(self.solr_memory_dir().parent, ignore_errors=True)
        shutil.rmtree(self.run, ignore_errors=True)
        step(f"removed {self.run}")

    def status(self) -> None:
        for name, port in (("postgresql", self.pg_port), ("redis", self.redis_port),
                           ("solr", self.solr_port), ("ckan-web", self.ckan_port),
                           ("credit-receiver", self.credit_port),
                           ("demo-feeds", self.feeds_port)):
            state = "listening" if port_open(port) else "down"
            print(f"{name:15} 127.0.0.1:{port:<6} {state}")
        for name in self.WORKERS:
            pid = self.running_pid(name)
            print(f"{name:15} {'pid ' + str(pid) if pid else 'down'}")


# -- supervision ---------------------------------------------------------------------------------

def supervise(pidfile: pathlib.Path, argv: Sequence[str], min_uptime: float = 30,
              max_delay: float = 60) -> int:
    """Run `argv` and start it again whenever it dies, waiting 1, 2, 4 … `max_delay` s between
    tries (1 s again after it ran a minute), each restart logged on standard output. The
    child's pid goes to `pidfile` as stack.py's own pid files do. A first run that exits by
    itself with status 1 or 2 within `min_uptime` seconds failed to start (Solr's launcher:
    a core that does not load, bad arguments): the supervisor ends with that status, so that
    `stack.py` reports it; a kill or an out-of-memory exit (3) is always restarted. SIGTERM or
    SIGINT stop the child and the supervisor."""
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay, runs = 0.5, 0
    while not stopping:
        started = time.monotonic()
        # The child dies with the supervisor (PR_SET_PDEATHSIG), never left holding the port.
        child = subprocess.Popen(list(argv), preexec_fn=_die_with_parent)
        runs += 1
        pidfile.write_text(f"{child.pid} {process_start(child.pid)}")
        code = child.wait()
        ran = time.monotonic() - started
        pidfile.unlink(missing_ok=True)
        if stopping:
            return 0
        if runs == 1 and code in (1, 2) and ran < min_uptime:
            print(f"supervise: {argv[0]} exited with status {code} after {ran:.0f} s while "
                  "starting; not restarting it", flush=True)
            return code or 1
        delay = 1.0 if ran >= 60 else min(delay * 2, max_delay)
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} supervise: {argv[0]} (pid {child.pid}) "
              f"exited with status {code} after {ran:.0f} s; restart {runs} in {delay:.0f} s",
              flush=True)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
    return 0


def _die_with_parent() -> None:
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


# -- small helpers -------------------------------------------------------------------------------

def write_private(path: pathlib.Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def reachable_by(user: str, path: pathlib.Path) -> bool:
    """Whether `user` can enter the folder (every parent searchable)."""
    return subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)],
                          capture_output=True).returncode == 0


def link_log(link: pathlib.Path, target: pathlib.Path) -> None:
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(target)


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_port_free(port: int, what: str) -> None:
    if port_open(port):
        raise StackError(f"port 127.0.0.1:{port} for {what} is taken by another program; "
                         "change it in config/stack.env")


def http_get(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode("utf-8")


def redis_ping(port: int, password: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            answer = b""
            while answer.count(b"\r\n") < 2:
                chunk = sock.recv(64)
                if not chunk:
                    break
                answer += chunk
            return answer.endswith(b"+PONG\r\n")
    except OSError:
        return False


def wait_for(ready: Callable[[], bool], what: str, timeout: float, log: pathlib.Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    raise StackError(f"{what} did not become ready in {timeout:.0f} s; see {log}")


def reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tree_digest(path: pathlib.Path) -> dict[str, bytes]:
    if not path.exists():
        return {}
    return {str(p.relative_to(path)): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the portal with demo data")
    up.add_argument("--no-demo", action="store_true", help="do not load the demo catalogue")
    sub.add_parser("services", help="start PostgreSQL, Redis and Solr only")
    test_env = sub.add_parser("test-env",
                              help="prepare the services, config and database for the tests")
    test_env.add_argument("--workers", type=int, default=1,
                          help="test stacks to prepare, one per pytest-xdist worker (make test)")
    sub.add_parser("down", help="stop everything")
    sub.add_parser("reset", help="stop everything and remove the runtime state")
    sub.add_parser("status", help="show what runs")
    sup = sub.add_parser("supervise", help="run a command and restart it when it dies (Solr)")
    sup.add_argument("--pidfile", required=True, type=pathlib.Path)
    sup.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "supervise":
        return supervise(args.pidfile, args.argv[1:] if args.argv[:1] == ["--"] else args.argv)
    stack = Stack()
    if args.command == "up":
        stack.up(demo=not args.no_demo)
    elif args.command == "services":
        stack.services()
    elif args.command == "test-env":
        stack.test_env(args.workers)
    elif args.command == "down":
        stack.down()
    elif args.command == "reset":
        stack.reset()
    else:
        stack.status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
