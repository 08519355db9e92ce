#!/usr/bin/env bash
# Install what the portal needs on a Debian 12 machine.
#   bootstrap.sh system   Debian packages (only the missing ones; needs root or sudo)
#   bootstrap.sh python   the virtualenv .venv with requirements.txt and the extension
#   bootstrap.sh solr     the Solr server, built from Maven Central artifacts
#   bootstrap.sh assets   the extension's front-end libraries (ECharts) from the npm registry
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  postgresql-15 postgresql-client-15   # database
  redis-server                         # CKAN jobs and harvest queues
  openjdk-17-jdk-headless maven        # Solr 9, built from Maven Central
  python3 python3-venv python3-dev build-essential libpq-dev  # virtualenv, psycopg2
  libmagic1                            # python-magic (CKAN upload type sniffing)
  nodejs npm                           # front-end libraries of the webassets (ECharts)
  chromium fonts-wqy-microhei          # the browser tests (Playwright drives Debian's Chromium)
  curl ca-certificates git
)

ASSETS=ckanext-yantai/ckanext/yantai/assets

step() { printf '==> %s\n' "$*"; }

# Installed, or provided by an installed package (NodeSource's nodejs provides and conflicts with
# Debian's npm, so asking apt for npm there would fail).
present() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' && return
  dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null | awk -F '\t' -v pkg="$1" '
    $1 == "install ok installed" {
      n = split($2, provides, /, */)
      for (i = 1; i <= n; i++) { sub(/ .*/, "", provides[i]); if (provides[i] == pkg) found = 1 }
    }
    END { exit !found }'
}

system() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    [[ $pkg == \#* ]] && continue
    present "$pkg" || missing+=("$pkg")
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

# node_modules/ is git-ignored; node_modules/.installed holds the checksums of the manifest and lock
# it was installed from, so a changed lock (a pull, a version bump) reinstalls.
assets() {
  local sums stamp=$ASSETS/node_modules/.installed
  sums=$(cd "$ASSETS" && sha256sum package.json package-lock.json)
  if [[ -f $stamp && $(<"$stamp") == "$sums" ]]; then
    step "front-end libraries present ($ASSETS/node_modules)"
    return
  fi
  step "installing front-end libraries from $ASSETS/package-lock.json"
  (cd "$ASSETS" && npm ci --omit=dev --no-audit --no-fund)
  printf '%s\n' "$sums" >"$stamp"
}

case "${1:-}" in
  system) system ;;
  python) python_env ;;
  solr) solr ;;
  assets) assets ;;
  *) echo "usage: $0 system|python|solr|assets" >&2; exit 2 ;;
esac
