"""Static checks of the production deployment (docker/). No Docker engine is needed: the compose
file, Dockerfiles, nginx and ini templates are parsed and checked against each other and against the
rest of the repository (requirements pins, Solr version, CKAN's config declaration).

Runs in the normal suite, and alone without CKAN's pytest plugins:
    .venv/bin/pytest -p no:ckan -p no:ckan_fixtures tests/docker -q
"""
from __future__ import annotations

import configparser
import json
import pathlib
import re
import shlex
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, cast

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
CKAN_CONFIG = ROOT / "config" / "ckan"

sys.path.insert(0, str(CKAN_CONFIG))
import render  # noqa: E402  (config/ckan/render.py, as used by the entrypoint)

SERVICES = {"db", "redis", "solr", "ckan", "worker", "harvest-gather", "harvest-fetch",
            "harvest-run", "daily", "credit-push", "nginx"}
CKAN_IMAGE_SERVICES = {"ckan", "worker", "harvest-gather", "harvest-fetch", "harvest-run", "daily",
                       "credit-push"}
DATA_SERVICES = {"db", "redis", "solr"}


@pytest.fixture(autouse=True)
def _portal_plugins():
    """Override tests/conftest.py's autouse fixture: these checks need no CKAN app or plugins."""


# -- helpers ---------------------------------------------------------------------------------------

def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def read_env_file(path: pathlib.Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip().strip("'\"")
    return values


class MissingVariable(Exception):
    pass


# Compose interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $VAR.
_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                  r"|(?P<bare>[A-Za-z_]\w*))")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("name") or m.group("bare")
        op, current = m.group("op"), env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise MissingVariable(f"{name}: {m.group('arg')}")
        if op == ":-" and not current or op == "-" and current is None:
            return m.group("arg")
        return current or ""

    return _VAR.sub(sub, value)


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


def referenced_variables() -> dict[str, set[str]]:
    """Variable name -> the operators it is used with in compose.yaml ('' for none)."""
    refs: dict[str, set[str]] = {}
    for text in strings(compose()):
        for m in _VAR.finditer(text):
            if not m.group("escaped"):
                refs.setdefault(m.group("name") or m.group("bare"), set()).add(m.group("op") or "")
    return refs


def resolved_services() -> dict[str, Any]:
    return interpolate(compose(), read_env_file(ENV_EXAMPLE))["services"]


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def placeholders(path: pathlib.Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return {m.group("braced") or m.group("named")
            for m in string.Template.pattern.finditer(text)
            if m.group("braced") or m.group("named")}


def dockerfile_instructions(path: pathlib.Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments): continuation lines joined, comments and heredoc bodies dropped."""
    result: list[tuple[str, str]] = []
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        instr, _, args = line.strip().partition(" ")
        result.append((instr.upper(), args.strip()))
        heredoc = re.search(r"<<-?(['\"]?)(\w+)\1", args)
        if heredoc:
            for body in lines:
                if body.strip() == heredoc.group(2):
                    break
    return result


def copy_sources(path: pathlib.Path) -> list[str]:
    """Sources of COPY/ADD taken from the build context (not --from=, not heredocs)."""
    sources = []
    for instr, args in dockerfile_instructions(path):
        if instr not in ("COPY", "ADD"):
            continue
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        if any(f.startswith("--from=") for f in flags) or any(p.startswith("<<") for p in paths):
            continue
        sources.extend(paths[:-1])
    return sources


def build(service: str) -> tuple[pathlib.Path, pathlib.Path]:
    """(context, Dockerfile) of a compose service with a build section."""
    spec = compose()["services"][service]["build"]
    context = (DOCKER / spec["context"]).resolve()
    return context, context / spec.get("dockerfile", "Dockerfile")


def requirement_pin(name: str) -> str:
    pins = re.findall(rf"(?im)^{re.escape(name)}(?:\[[^\]]*\])?==([^\s;#]+)",
                      (ROOT / "requirements.txt").read_text(encoding="utf-8"))
    assert len(pins) == 1, f"expected one pin of {name} in requirements.txt, found {pins}"
    return pins[0]


def pom_property(name: str) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    tree = ET.parse(ROOT / "config" / "solr" / "server" / "pom.xml")
    node = tree.getroot().find(f"m:properties/m:{name}", ns)
    assert node is not None and node.text is not None, name
    return node.text.strip()


def size_in_mb(value: str) -> float:
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", value)
    assert m, f"unexpected nginx size {value!r}"
    return int(m.group(1)) * {"": 1 / 2**20, "k": 1 / 2**10, "m": 1, "g": 2**10}[m.group(2).lower()]


@pytest.fixture
def production_ini(tmp_path: pathlib.Path) -> pathlib.Path:
    """The production ini rendered as the ckan container does, from docker/.env.example values."""
    values = environment(resolved_services()["ckan"])
    return render.render("production", tmp_path, "ckan.ini", values)


def ckan_config(ini: pathlib.Path) -> dict[str, str]:
    from ckan.cli import CKANConfigLoader

    return cast("dict[str, str]", CKANConfigLoader(str(ini)).get_config())  # an ini: strings


# -- compose ---------------------------------------------------------------------------------------

def test_compose_has_every_service():
    assert set(compose()["services"]) == SERVICES


def test_build_contexts_and_dockerfiles_exist():
    builds = {name: build(name) for name, svc in compose()["services"].items() if "build" in svc}
    assert set(builds) == CKAN_IMAGE_SERVICES | {"solr"}
    for name, (context, dockerfile) in builds.items():
        assert context == ROOT, f"{name}: build context {context} is not the repository root"
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
    assert builds["ckan"][1] == DOCKER / "ckan" / "Dockerfile"
    assert builds["solr"][1] == DOCKER / "solr" / "Dockerfile"


def test_files_referenced_by_compose_exist():
    checked = []
    for name, svc in compose()["services"].items():
        for env_file in svc.get("env_file") or []:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            assert (DOCKER / path).is_file(), f"{name}: env_file {path} missing"
        for volume in svc.get("volumes") or []:
            if isinstance(volume, dict):  # long syntax
                volume = f"{volume.get('source', '')}:{volume.get('target', '')}"
            from_env = re.match(r"\$\{(\w+)", volume)
            if from_env:  # a host path set in docker/.env (TLS_CERT_DIR)
                assert from_env.group(1) in read_env_file(ENV_EXAMPLE), volume
                continue
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (DOCKER / source).exists(), f"{name}: bind mount source {source} missing"
                checked.append(source)
    assert sorted(checked) == ["./nginx/nginx.conf", "./postgres/init-ckan-db.sh",
                               "./postgres/init-datastore-db.sh"]


def test_only_nginx_publishes_ports_and_data_services_stay_internal():
    data = compose()
    services = data["services"]
    assert {name for name, svc in services.items() if svc.get("ports")} == {"nginx"}
    assert not [name for name, svc in services.items() if svc.get("network_mode") == "host"]
    assert data["networks"]["backend"]["internal"] is True
    for name in DATA_SERVICES:
        assert services[name]["networks"] == ["backend"], name
    assert "backend" not in services["nginx"]["networks"]
    assert set(services["nginx"]["networks"]) & set(services["ckan"]["networks"]) == {"edge"}


def test_named_volumes():
    data = compose()
    assert set(data["volumes"]) == {"pg_data", "solr_data", "ckan_storage", "redis_data"}
    mounts = {name: [v.split(":")[0] for v in svc.get("volumes", []) if isinstance(v, str)]
              for name, svc in data["services"].items()}
    assert "pg_data" in mounts["db"] and "solr_data" in mounts["solr"]
    assert "redis_data" in mounts["redis"]
    for name in CKAN_IMAGE_SERVICES:
        assert "ckan_storage" in mounts[name], name
    assert "ckan_storage" not in mounts["nginx"]  # uploads only through CKAN


def test_service_commands_and_migration_flag():
    services = resolved_services()
    assert services["worker"]["command"] == ["ckan", "jobs", "worker"]
    assert services["harvest-gather"]["command"] == ["ckan", "harvester", "gather-consumer"]
    assert services["harvest-fetch"]["command"] == ["ckan", "harvester", "fetch-consumer"]
    loop = " ".join(services["harvest-run"]["command"])
    assert "ckan harvester run" in loop and "sleep" in loop and "while" in loop
    assert {name for name in CKAN_IMAGE_SERVICES
            if environment(services[name]).get("CKAN_MIGRATE") == "1"} == {"ckan"}
    health = " ".join(services["ckan"]["healthcheck"]["test"])
    assert "http://127.0.0.1:5000/api/3/action/status_show" in health


def test_env_example_lists_exactly_the_compose_variables():
    assert set(read_env_file(ENV_EXAMPLE)) == set(referenced_variables())


def test_every_variable_without_default_is_required():
    for name, ops in referenced_variables().items():
        assert ops <= {":?", "?"} or ops <= {":-", "-"}, f"{name} used with {ops}"


@pytest.mark.parametrize("name", sorted(
    n for n, ops in referenced_variables().items() if ops & {":?", "?"}))
def test_compose_fails_loudly_without_a_required_variable(name):
    env = read_env_file(ENV_EXAMPLE)
    del env[name]
    with pytest.raises(MissingVariable, match=rf"^{name}: set {name} in docker/\.env"):
        interpolate(compose(), env)


def test_secrets_in_env_example_are_placeholders():
    env = read_env_file(ENV_EXAMPLE)
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "CKAN_DB_PASSWORD", "REDIS_PASSWORD",
                 "DATASTORE_RO_PASSWORD"):
        assert env[name] == "change-me", name
    assert env["SMTP_PASSWORD"] == ""


def test_every_ini_placeholder_is_set_for_every_ckan_container():
    needed = placeholders(CKAN_CONFIG / "common.ini.in") | placeholders(
        CKAN_CONFIG / "production.ini.in")
    assert {"CKAN_SITE_ID", "CKAN_SITE_URL", "SECRET_KEY", "SQLALCHEMY_URL", "SOLR_URL",
            "REDIS_URL", "CKAN_STORAGE_PATH", "SMTP_SERVER", "SMTP_MAIL_FROM",
            "CKAN_DATASTORE_WRITE_URL", "CKAN_DATASTORE_READ_URL"} <= needed
    services = compose()["services"]
    for name in CKAN_IMAGE_SERVICES:
        missing = needed - set(environment(services[name]))
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_connection_urls_point_at_the_compose_services():
    env = read_env_file(ENV_EXAMPLE)
    ckan_env = environment(resolved_services()["ckan"])
    assert ckan_env["SOLR_URL"] == "http://solr:8983/solr/ckan"
    assert ckan_env["SQLALCHEMY_URL"] == (
        "postgresql://{CKAN_DB_USER}:{CKAN_DB_PASSWORD}@db:5432/{CKAN_DB_NAME}".format(**env))
    assert ckan_env["REDIS_URL"] == f"redis://:{env['REDIS_PASSWORD']}@redis:6379/0"
    # The database the init script creates is the one CKAN connects to.
    db_env = environment(resolved_services()["db"])
    assert (db_env["CKAN_DB_USER"], db_env["CKAN_DB_NAME"]) == (env["CKAN_DB_USER"],
                                                               env["CKAN_DB_NAME"])


def test_datastore_urls_point_at_its_own_database_and_roles():
    env = read_env_file(ENV_EXAMPLE)
    ckan_env = environment(resolved_services()["ckan"])
    # Written by CKAN's role (the database's owner), read by the read-only role.
    assert ckan_env["CKAN_DATASTORE_WRITE_URL"] == (
        "postgresql://{CKAN_DB_USER}:{CKAN_DB_PASSWORD}@db:5432/{DATASTORE_DB_NAME}".format(**env))
    assert ckan_env["CKAN_DATASTORE_READ_URL"] == (
        "postgresql://{DATASTORE_RO_USER}:{DATASTORE_RO_PASSWORD}@db:5432/{DATASTORE_DB_NAME}"
        .format(**env))
    # CKAN refuses a DataStore in its own database or read with the write user.
    assert env["DATASTORE_DB_NAME"] != env["CKAN_DB_NAME"]
    assert env["DATASTORE_RO_USER"] != env["CKAN_DB_USER"]
    # The init script creates the database and role that CKAN connects to.
    db_env = environment(resolved_services()["db"])
    for name in ("CKAN_DB_USER", "DATASTORE_DB_NAME", "DATASTORE_RO_USER",
                 "DATASTORE_RO_PASSWORD"):
        assert db_env[name] == env[name], name


@pytest.mark.parametrize("script", ["init-ckan-db.sh", "init-datastore-db.sh"])
def test_postgres_init_scripts_are_valid_bash_and_check_their_variables(script):
    path = DOCKER / "postgres" / script
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    needed = set(re.findall(r'^: "\$\{(\w+):\?', path.read_text(), re.M))
    assert needed, f"{script} checks no variable"
    assert needed <= set(environment(compose()["services"]["db"])), script


def test_datastore_init_script_creates_only_what_is_missing():
    """Idempotent, so that it can be run by hand on a volume made before the DataStore."""
    text = (DOCKER / "postgres" / "init-datastore-db.sh").read_text()
    creates = re.findall(r"format\('(CREATE \w+)", text)
    assert creates == ["CREATE ROLE", "CREATE DATABASE"]
    assert text.count("WHERE NOT EXISTS") == 2 and text.count("\\gexec") == 2


# -- rendering the production ini ------------------------------------------------------------------

def test_production_ini_renders_and_loads_in_ckan(production_ini):
    env = read_env_file(ENV_EXAMPLE)
    config = ckan_config(production_ini)
    assert config["solr_url"] == "http://solr:8983/solr/ckan"
    assert config["sqlalchemy.url"] == (
        "postgresql://{CKAN_DB_USER}:{CKAN_DB_PASSWORD}@db:5432/{CKAN_DB_NAME}".format(**env))
    assert config["ckan.redis.url"] == f"redis://:{env['REDIS_PASSWORD']}@redis:6379/0"
    assert config["ckan.site_url"] == env["CKAN_SITE_URL"]
    assert config["ckan.storage_path"] == "/var/lib/ckan"
    common = configparser.RawConfigParser()
    common.read(CKAN_CONFIG / "common.ini.in", encoding="utf-8")
    plugins = config["ckan.plugins"].split()
    assert plugins == common.get("app:main", "ckan.plugins").split()
    # The harvest services of compose need the harvest plugins; the portal's own plugin is loaded.
    assert ({"yantai", "harvest", "yantai_ckan_harvester", "yantai_dcat_rdf_harvester"}
            <= set(plugins))
    assert plugins[:3] == ["yantai", "activity", "datastore"]
    assert config["ckan.datastore.write_url"] == (
        "postgresql://{CKAN_DB_USER}:{CKAN_DB_PASSWORD}@db:5432/{DATASTORE_DB_NAME}".format(**env))
    assert config["ckan.datastore.read_url"] == (
        "postgresql://{DATASTORE_RO_USER}:{DATASTORE_RO_PASSWORD}@db:5432/{DATASTORE_DB_NAME}"
        .format(**env))
    assert config["ckan.datastore.sqlsearch.enabled"] == "true"
    assert config["debug"] == "false"
    assert config["smtp.starttls"] == "true"
    assert config["smtp.server"] == env["SMTP_SERVER"]
    assert config["SESSION_COOKIE_SECURE"] == "true"
    assert config["REMEMBER_COOKIE_SECURE"] == "true"
    assert config["ckan.cache_expires"] == "0"


def test_production_logging_keeps_gunicorn_loggers(production_ini):
    parser = configparser.RawConfigParser()
    parser.read(production_ini, encoding="utf-8")
    # fileConfig configures only the loggers listed in [loggers] keys.
    keys = [k.strip() for k in parser.get("loggers", "keys").split(",")]
    qualnames = {parser.get(f"logger_{k}", "qualname") for k in keys if k != "root"}
    assert {"ckan", "ckanext", "gunicorn.error", "gunicorn.access"} <= qualnames
    assert parser.get("handler_console", "args") == "(sys.stderr,)"
    assert parser.get("logger_ckan", "level") == "INFO"


def test_production_options_are_declared_by_ckan():
    """No invented options: every key of production.ini.in is one CKAN 2.11 or the portal's
    extension declares."""
    import ckan

    import ckanext.yantai

    declared = set()
    for path in (pathlib.Path(ckan.__file__).parent / "config" / "config_declaration.yaml",
                 pathlib.Path(ckanext.yantai.__file__).parent / "config_declaration.yaml"):
        declaration = yaml.safe_load(path.read_text(encoding="utf-8"))
        declared |= {opt["key"] for group in declaration["groups"] for opt in group["options"]}
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # pyright: ignore[reportAttributeAccessIssue]  # keep SESSION_COOKIE_SECURE's case, as CKAN does
    parser.read(CKAN_CONFIG / "production.ini.in", encoding="utf-8")
    keys = set(parser.options("app:main")) - set(parser.defaults()) - {"use"}
    assert "SESSION_COOKIE_SECURE" in keys and "ckan.cache_expires" in keys
    assert sorted(keys - declared) == []
    assert set(parser.defaults()) <= declared


def test_datastore_options_are_declared_by_the_datastore_plugin():
    import ckanext.datastore

    declaration = yaml.safe_load((pathlib.Path(ckanext.datastore.__file__).parent
                                  / "config_declaration.yaml").read_text())
    declared = {opt["key"] for group in declaration["groups"] for opt in group["options"]}
    parser = configparser.RawConfigParser()
    parser.read(CKAN_CONFIG / "common.ini.in", encoding="utf-8")
    keys = {k for k in parser.options("app:main") if k.startswith("ckan.datastore.")}
    assert keys == {"ckan.datastore.write_url", "ckan.datastore.read_url",
                    "ckan.datastore.sqlsearch.enabled", "ckan.datastore.sqlalchemy.hide_parameters",
                    "ckan.datastore.default_fts_index_method",
                    "ckan.datastore.default_fts_index_field_types"}
    # ckan.datastore.sqlalchemy.<OPTION> is declared as a pattern: SQLAlchemy's engine options.
    assert {k for k in keys if not k.startswith("ckan.datastore.sqlalchemy.")} <= declared
    assert "ckan.datastore.sqlalchemy.<OPTION>" in declared


# -- Dockerfiles -----------------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["ckan", "solr"])
def test_dockerfile_copy_sources_exist_and_are_not_ignored(service):
    context, dockerfile = build(service)
    sources = copy_sources(dockerfile)
    assert sources, f"no COPY from the context in {dockerfile}"
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
    ignored = [line.strip().rstrip("/") for line in ignore.read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for source in sources:
        assert (context / source).exists(), f"{dockerfile}: COPY source {source} missing"
        for pattern in ignored:
            assert not (source.rstrip("/") + "/").startswith(pattern + "/"), (source, pattern)


@pytest.mark.parametrize("image", ["ckan", "solr"])
def test_dockerignore_excludes_local_state_and_secrets(image):
    ignored = {line.strip() for line in
               (DOCKER / image / "Dockerfile.dockerignore").read_text().splitlines()}
    assert {".run", ".venv", "config/solr/server/target", ".git", "docker/.env",
            "**/node_modules"} <= ignored


def test_ckan_image_installs_requirements_and_the_extension():
    instructions = dockerfile_instructions(DOCKER / "ckan" / "Dockerfile")
    froms = [args for instr, args in instructions if instr == "FROM"]
    assert froms == ["${NODE_IMAGE} AS assets", "${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE}"]
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in instructions
    runs = [args for instr, args in instructions if instr == "RUN"]
    assert any(re.search(r"\bpip install -r requirements\.txt\b", r) for r in runs)
    assert any(re.search(r"\bpip install --no-deps \.(\s|$)", r) for r in runs)
    assert {"requirements.txt", "setup.py", "pyproject.toml", "ckanext-yantai/",
            "config/ckan/", "docker/ckan/entrypoint.sh"} <= set(copy_sources(
                DOCKER / "ckan" / "Dockerfile"))
    assert ("USER", "ckan") in instructions
    assert ("VOLUME", "/var/lib/ckan") in instructions
    assert ("ENTRYPOINT", '["ckan-entrypoint"]') in instructions


def test_ckan_image_builds_the_webassets_libraries():
    """node_modules/ is not in git: the image installs it from the lock and packages what the
    webassets bundles use, at the paths webassets.yml names."""
    assets = "ckanext-yantai/ckanext/yantai/assets"
    manifest = json.loads((ROOT / assets / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / assets / "package-lock.json").read_text(encoding="utf-8"))
    assert manifest["private"] is True
    assert manifest["dependencies"] == {"echarts": "6.1.0"}  # exact pin
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert lock["packages"]["node_modules/echarts"]["version"] == "6.1.0"

    instructions = dockerfile_instructions(DOCKER / "ckan" / "Dockerfile")
    assert any(instr == "ARG" and re.fullmatch(r"NODE_IMAGE=node:\d+-bookworm-slim", args)
               for instr, args in instructions)
    stage = instructions[instructions.index(("FROM", "${NODE_IMAGE} AS assets")) + 1:]
    stage = stage[:[instr for instr, _ in stage].index("FROM")]
    assert {f"{assets}/package.json", f"{assets}/package-lock.json"} <= set(
        shlex.split(next(args for instr, args in stage if instr == "COPY")))
    run = " ".join(args for instr, args in stage if instr == "RUN")
    assert re.search(r"\bnpm ci --omit=dev\b", run)

    copy = f"--from=assets /out/ {assets}/node_modules/"
    assert ("COPY", copy) in instructions
    assert instructions.index(("COPY", copy)) < next(
        i for i, (instr, args) in enumerate(instructions)
        if instr == "RUN" and re.search(r"\bpip install --no-deps \.(\s|$)", args))
    bundles = yaml.safe_load((ROOT / assets / "webassets.yml").read_text(encoding="utf-8"))
    libraries = [path for bundle in bundles.values() for path in bundle["contents"]
                 if path.startswith("node_modules/")]
    assert "node_modules/echarts/dist/echarts.min.js" in libraries
    setup_py = (ROOT / "setup.py").read_text(encoding="utf-8")
    for path in libraries:
        # Into /out/ at its path below node_modules/, which the builder copies to node_modules/.
        target = "/out/" + path.removeprefix("node_modules/").rpartition("/")[0] + "/"
        assert f"cp {path} {target}" in run, path
        assert f'"assets/{path}"' in setup_py, f"{path} not in setup.py package_data"


def test_ckan_image_default_command_is_gunicorn_on_port_5000():
    cmd = json.loads(dict(dockerfile_instructions(DOCKER / "ckan" / "Dockerfile"))["CMD"])
    assert cmd[0] == "gunicorn" and cmd[-1] == "wsgi:application"
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0:5000"
    assert cmd[cmd.index("--chdir") + 1] == "/srv/app/config/ckan"
    assert "--workers" not in cmd  # from WEB_CONCURRENCY, set by compose
    assert "WEB_CONCURRENCY" in environment(compose()["services"]["ckan"])
    assert "set $ckan http://ckan:5000;" in (DOCKER / "nginx" / "nginx.conf").read_text()


def test_solr_image_matches_the_local_solr_version():
    froms = [args for instr, args in dockerfile_instructions(DOCKER / "solr" / "Dockerfile")
             if instr == "FROM"]
    assert froms[-1] == f"solr:{pom_property('solr.version')}"
    assert froms[0] == "python:3.11-slim-bookworm AS configset"


def test_solr_image_builds_the_configset_like_the_local_stack():
    instructions = dockerfile_instructions(DOCKER / "solr" / "Dockerfile")
    assert ("RUN", "python config/solr/build_configset.py /configset/yantai") in instructions
    assert {"config/solr/build_configset.py", "config/solr/configset/"} <= set(
        copy_sources(DOCKER / "solr" / "Dockerfile"))
    copies = [args for instr, args in instructions if instr == "COPY"]
    assert "--from=configset /configset/yantai /opt/solr/server/solr/configsets/yantai" in copies
    cmd = json.loads(dict(instructions)["CMD"])
    assert cmd == ["solr-precreate", "ckan", "/opt/solr/server/solr/configsets/yantai"]
    assert environment(compose()["services"]["solr"])["SOLR_HEAP"] == "${SOLR_HEAP:-1g}"


def test_solr_image_uses_the_pinned_ckan_schema():
    instructions = dockerfile_instructions(DOCKER / "solr" / "Dockerfile")
    assert ("ARG", f"CKAN_VERSION={requirement_pin('ckan')}") in instructions
    runs = [args for instr, args in instructions if instr == "RUN"]
    assert any('pip install' in r and '--no-deps "ckan==${CKAN_VERSION}"' in r for r in runs)


def test_postgres_major_version_matches_the_local_stack():
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    local = set(re.findall(r"\bpostgresql-(\d+)\b", bootstrap))
    assert local == {"15"}
    image = compose()["services"]["db"]["image"]
    version = re.fullmatch(r"postgres:(\d+)(?:[.-].*)?", image)
    assert version is not None and version.group(1) == "15", image
    mounts = compose()["services"]["db"]["volumes"]
    assert "./postgres/init-ckan-db.sh:/docker-entrypoint-initdb.d/10-ckan-db.sh:ro" in mounts
    # After CKAN's role exists: the DataStore's database is owned by it.
    assert ("./postgres/init-datastore-db.sh:/docker-entrypoint-initdb.d/20-datastore-db.sh:ro"
            in mounts)


# -- nginx, entrypoint -----------------------------------------------------------------------------

def test_nginx_accepts_the_largest_upload(production_ini):
    nginx = (DOCKER / "nginx" / "nginx.conf").read_text()
    sizes = re.findall(r"^\s*client_max_body_size\s+(\S+);", nginx, re.M)
    assert sizes, "client_max_body_size not set"
    max_resource_mb = int(ckan_config(production_ini)["ckan.max_resource_size"])
    assert max_resource_mb == 100
    for size in sizes:
        # Strictly more: a multipart body carries the file plus boundaries and the other fields.
        assert size_in_mb(size) > max_resource_mb, size


def test_nginx_does_not_serve_files_itself():
    nginx = (DOCKER / "nginx" / "nginx.conf").read_text()
    assert not re.search(r"^\s*(root|alias)\s", nginx, re.M)
    assert re.search(r"location ~ /\\\.\(\?!well-known/\) \{\s*deny all;", nginx)
    image = compose()["services"]["nginx"]["image"]
    assert re.fullmatch(r"nginx:1\.\d*[02468](\.\d+)?", image), f"{image}: not a stable nginx"


def nginx_zone(path: str) -> str | None:
    """The limit_req zone nginx applies to ``path``, by nginx's own rule: the first regex
    location that matches, else the longest prefix (``=`` exact first). Nested blocks are not
    used in this config."""
    nginx = (DOCKER / "nginx" / "nginx.conf").read_text()
    server = nginx[nginx.index("server {"):]
    blocks = re.findall(r"location\s+(=|~\*?|\^~)?\s*(\S+)\s*\{([^{}]*)\}", server)
    regexes = [(pattern, body) for modifier, pattern, body in blocks if modifier.startswith("~")]
    exact = {pattern: body for modifier, pattern, body in blocks if modifier == "="}
    prefixes = [(pattern, body) for modifier, pattern, body in blocks if modifier in ("", "^~")]
    if path in exact:
        body = exact[path]
    else:
        body = next((b for pattern, b in regexes if re.search(pattern, path)), None)
        if body is None:
            body = max(((p, b) for p, b in prefixes if path.startswith(p)),
                       key=lambda pb: len(pb[0]))[1]
    zone = re.search(r"limit_req zone=(\w+)", body)
    return zone.group(1) if zone else None


@pytest.mark.parametrize("path, zone", [
    ("/api/3/action/datastore_search_sql", "heavy"),
    ("/api/action/datastore_search_sql", "heavy"),
    ("/en/api/3/action/datastore_search_sql", "heavy"),
    ("/zh_Hans_CN/api/action/datastore_search_sql", "heavy"),
    ("/datastore/dump/9b1c", "heavy"), ("/en/datastore/dump/9b1c", "heavy"),
    ("/dataset/bus-lines/resource/9b1c/table.xlsx", "heavy"),
    ("/en/dataset/bus-lines/resource/9b1c/table.csv", "heavy"),
    ("/api/3/action/package_search", "api"), ("/en/api/action/package_show", "api"),
    ("/federation/ckan/api/3/action/package_search", "api"),
    ("/datatables/ajax/9b1c", "api"), ("/catalog.ttl", "api"), ("/en/catalog.jsonld", "api"),
    ("/dataset/bus-lines.ttl", "api"),
    ("/", None), ("/dataset/bus-lines", None), ("/webassets/base/main.css", None)])
def test_nginx_limits_each_path_in_its_zone_under_any_prefix(path, zone):
    assert nginx_zone(path) == zone


def test_entrypoint_is_valid_bash_and_renders_the_production_profile():
    entrypoint = DOCKER / "ckan" / "entrypoint.sh"
    result = subprocess.run(["bash", "-n", str(entrypoint)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = entrypoint.read_text()
    assert "python /srv/app/config/ckan/render.py production /etc/ckan ckan.ini" in text
    assert "export CKAN_INI=/etc/ckan/ckan.ini" in text
    assert text.rstrip().endswith('exec "$@"')
    assert re.search(r'if \[\[ "\$\{CKAN_MIGRATE:-0\}" == 1 \]\]', text)
    assert '["ckan", "db", "upgrade"]' in text
    # DataStore permissions: CKAN's script, applied over the write URL (CKAN's role, no superuser).
    assert '["ckan", "datastore", "set-permissions"]' in text
    assert 'psycopg2.connect(os.environ["CKAN_DATASTORE_WRITE_URL"])' in text
    assert "POSTGRES_PASSWORD" not in environment(compose()["services"]["ckan"])


def test_solr_exits_when_out_of_memory_and_compose_restarts_it():
    """Issue 13 item 3: a Solr that survived an OutOfMemoryError kept a closed IndexWriter and
    refused every write until restarted by hand."""
    envs = [shlex.split(args)[0] for instr, args in
            dockerfile_instructions(DOCKER / "solr" / "Dockerfile") if instr == "ENV"]
    assert "SOLR_OPTS=-XX:+ExitOnOutOfMemoryError" in envs
    solr = compose()["services"]["solr"]
    assert solr["restart"] in ("unless-stopped", "always")
    assert "SOLR_OPTS" not in environment(solr)  # would replace the image's
    assert "/solr/ckan/admin/ping" in " ".join(solr["healthcheck"]["test"])
    assert compose()["services"]["ckan"]["depends_on"]["solr"] == {"condition": "service_healthy"}
