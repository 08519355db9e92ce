#!/usr/bin/env bash
# Install what the portal needs on a Debian 12 machine.
#   bootstrap.sh system   Debian packages (only the missing ones; needs root or sudo)
#   bootstrap.sh python   the virtualenv .venv with requirements.txt and the extension
#   bootstrap.sh solr     the Solr server, built from Maven Central artifacts
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  postgresql-15 postgresql-client-15   # database
  redis-server                         # CKAN jobs and harvest queues
  openjdk-17-jdk-headless maven        # Solr 9, built from Maven Central
  python3 python3-venv python3-dev build-essential libpq-dev  # virtualenv, psycopg2
  libmagic1                            # python-magic (CKAN upload type sniffing)
  curl ca-certificates git
)

step() { printf '==> %s\n' "$*"; }

system() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    [[ $pkg == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    step "Debian packages present"
    return
  fi
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  step "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  # The distribution's own PostgreSQL and Redis services may start on their default ports; the
  # portal runs its own instances on the ports of config/stack.env.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

python_env() {
  if [[ ! -x .venv/bin/python ]]; then
    step "creating the virtualenv .venv"
    python3 -m venv .venv
  fi
  step "installing Python packages (requirements-dev.txt) and ckanext-yantai"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  .venv/bin/pip check -q >/dev/null || .venv/bin/pip check
}

solr() {
  step "building the Solr server from Maven Central artifacts (config/solr/server)"
  (cd config/solr/server && mvn -q -B -ntp package)
}

case "${1:-}" in
  system) system ;;
  python) python_env ;;
  solr) solr ;;
  *) echo "usage: $0 system|python|solr" >&2; exit 2 ;;
esac
