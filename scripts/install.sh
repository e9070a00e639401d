#!/usr/bin/env bash
# Install credctl for the current user: Debian packages it runs (gpg, pass), a private venv,
# and links to its programs in ~/.local/bin, where Docker finds docker-credential-*.
#
#   scripts/install.sh [--no-apt]
#
# CREDCTL_HOME (default ~/.local/share/credctl) holds the venv; CREDCTL_BIN_DIR (default
# ~/.local/bin) gets the links. Run it again to upgrade.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
home_dir=${CREDCTL_HOME:-$HOME/.local/share/credctl}
bin_dir=${CREDCTL_BIN_DIR:-$HOME/.local/bin}
programs=(credctl docker-credential-pass docker-credential-secretservice docker-credential-keyring
  docker-credential-acr-helper credctl-kubelet-provider)

say() { printf '%s\n' "credctl install: $*" >&2; }

apt_install() {
  # Install the Debian packages that are missing, with sudo when not root.
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    say "not a Debian/Ubuntu system: install ${missing[*]} yourself"
    return 0
  fi
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  say "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [ "${1:-}" != "--no-apt" ]; then
  apt_install python3 python3-venv gnupg pass
fi

python3 - <<'PY' || { say "credctl needs Python 3.11 or newer"; exit 1; }
import sys
sys.exit(sys.version_info < (3, 11))
PY

mkdir -p "$home_dir" "$bin_dir"
chmod 700 "$home_dir"
python3 -m venv --clear "$home_dir/venv"
# pip >= 24 writes console scripts that skip `import re`: ~8 ms less on every helper call.
"$home_dir/venv/bin/python" -m pip install -q --disable-pip-version-check -U pip
"$home_dir/venv/bin/python" -m pip install -q --disable-pip-version-check "$here"
# Nothing runs setuptools after the install; its .pth file would cost every helper start.
"$home_dir/venv/bin/python" -m pip uninstall -q -y setuptools 2>/dev/null || true

for program in "${programs[@]}"; do
  ln -sf "$home_dir/venv/bin/$program" "$bin_dir/$program"
done
say "installed $("$bin_dir/credctl" --version) into $home_dir; programs linked in $bin_dir"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) say "add $bin_dir to PATH (e.g. in ~/.profile) so Docker finds docker-credential-pass" ;;
esac
