# Shared by scripts/demo and scripts/test: a virtual environment installed from a lock file.
# Needs only Python 3.11+ (and root for apt, where a system package is truly needed).

PYTHON="${PYTHON:-python3}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
  # Install Debian packages that are missing; quietly, once per run.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_python() {
  local lock="$1"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "Duban needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2; exit 1; }
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv 2>/dev/null || {
      rm -rf .venv
      apt_install python3-venv || { echo "install python3-venv (apt) and run again" >&2; exit 1; }
      "$PYTHON" -m venv .venv
    }
  fi
  # What the last install was made from (the lock and the project's own metadata): the same
  # again installs nothing, as with node_modules below. A new .venv has no stamp.
  local stamp=.venv/.duban-lock
  if ! cat "$lock" pyproject.toml | cmp -s - "$stamp" 2>/dev/null; then
    echo "==> installing Python packages from $lock"
    rm -f "$stamp"
    .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
    cat "$lock" pyproject.toml > "$stamp"
  fi
  export PATH="$PWD/.venv/bin:$PATH"
}

setup_node() {
  # Front-end packages (ECharts) from the npm registry, exactly as package-lock.json pins them;
  # the application serves them itself (settings.STATICFILES_DIRS), never a CDN.
  command -v npm >/dev/null || apt_install nodejs npm || { echo "install nodejs and npm (apt) and run again" >&2; exit 1; }
  if ! cmp -s package-lock.json node_modules/.duban-lock 2>/dev/null; then
    echo "==> installing front-end packages from package-lock.json"
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    cp package-lock.json node_modules/.duban-lock
  fi
}

setup_documents() {
  # Official documents (bulletins) as PDF and charts: WeasyPrint needs Debian's pango; the free
  # CJK fonts that stand in for the GB/T 9704 typefaces (docs/documents.md): Noto Serif CJK and
  # Noto Sans CJK (fonts-noto-cjk) and LXGW WenKai (fonts-lxgw-wenkai) for 楷体.
  apt_install fonts-noto-cjk fonts-lxgw-wenkai libpango-1.0-0 libpangoft2-1.0-0 ||
    echo "warning: could not install the document fonts (PDF and charts will lack Chinese type)" >&2
}
