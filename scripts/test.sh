#!/usr/bin/env bash
# Install everything the tests need (Debian packages of the real test world, a venv with
# credctl and its test extras) and run lint and the whole suite. Extra arguments go to pytest.
#
#   scripts/test.sh [-k EXPR ...]
#
# Under CREDCTL_REQUIRE_REAL=1 (CI) a test whose real part is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real test world: gpg + pass, a Secret Service (gnome-keyring on a private D-Bus), a
# registry with htpasswd auth and its clients, Debian's Go helpers for interop and speed.
packages=(python3-venv gnupg pass golang-docker-credential-helpers gnome-keyring dbus-daemon dbus-x11
  docker-registry apache2-utils skopeo groff-base pinentry-tty)
# The docker CLI (client only; no daemon is started) comes with the machine image; else Debian's.
command -v docker >/dev/null || packages+=(docker.io)
# kubectl (client side only: the pull-secret tests compare with `kubectl create secret`), likewise.
command -v kubectl >/dev/null || packages+=(kubernetes-client)

if command -v apt-get >/dev/null; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "installing Debian packages: ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "no apt-get here: tests that need the real world will skip (or fail under CREDCTL_REQUIRE_REAL=1)" >&2
fi

venv=${CREDCTL_TEST_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -U pip
# A regular (not editable) install: the tests drive the console scripts a user gets.
"$venv/bin/python" -m pip install -q --disable-pip-version-check ".[test]"

"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/pytest" "$@"
