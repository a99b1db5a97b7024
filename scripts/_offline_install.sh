#!/bin/sh
# Install Duban from this offline bundle (made by scripts/offline-bundle), with no registry:
#   ./install.sh [TARGET]        (default /opt/duban; needs python3 and python3-venv)
# Then follow docs/deployment.md in TARGET: /etc/duban.env, migrate, the systemd units, nginx.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-/opt/duban}"
cd "$here" && sha256sum --check --quiet SHA256SUMS
mkdir -p "$target"
tar -xzf "$here/duban.tar.gz" -C "$target" --strip-components=1
[ ! -f "$here/requirements.lock" ] || cp "$here/requirements.lock" "$target/requirements.lock"
rm -rf "$target/node_modules"
tar -xzf "$here/node_modules.tar.gz" -C "$target"
[ -x "$target/.venv/bin/python" ] || python3 -m venv "$target/.venv"
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1   # nothing but the bundle
pip="$target/.venv/bin/python -m pip -q"
$pip install --no-index --find-links "$here/wheels" --require-hashes -r "$target/requirements.lock"
# Editable, as scripts/_setup.sh installs it: the code stays in TARGET beside node_modules and
# deploy/ (the settings find node_modules beside the code).
$pip install --no-index --find-links "$here/wheels" --no-deps -e "$target"
"$target/.venv/bin/duban" compiletranslations >/dev/null
echo "installed $(cat "$here/COMMIT") into $target"
