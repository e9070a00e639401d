#!/usr/bin/env bash
# Install everything the tests need (Debian packages of the real test world, the client programs
# of tests/world_programs.txt, a venv with credctl and its test extras) and run lint and the
# whole suite. Extra arguments go to pytest.
#
#   scripts/test.sh [-k EXPR ...]
#
# Under CREDCTL_REQUIRE_REAL=1 (CI) a test whose real part is missing fails instead of skipping.
# CREDCTL_TEST_WORLD (default: .world in the checkout, ignored by git) holds the client programs
# in bin/; remove it to fetch them anew.
set -euo pipefail
cd "$(dirname "$0")/.."

# The real test world: gpg + pass, a Secret Service (gnome-keyring on a private D-Bus), a
# registry with htpasswd auth and its clients (podman, buildah and skopeo among them), Debian's Go helpers for interop and speed, pinentry-tty
# for passphrase prompts, man-db for `man credctl`, git for the sdist-against-checkout test,
# iproute2 (ip) for the private network namespace holding the ECS metadata stand-in, openssl for
# the throwaway CA of the fake API's HTTPS under Alibaba Cloud's own names (the VPC endpoint tests).
packages=(python3-venv gnupg pass golang-docker-credential-helpers gnome-keyring dbus-daemon dbus-x11
  docker-registry apache2-utils podman buildah skopeo groff-base debian-archive-keyring pinentry-tty man-db git iproute2
  openssl)

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

install_packages() {
  local missing=() package
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

world=${CREDCTL_TEST_WORLD:-$PWD/.world}
export CREDCTL_TEST_WORLD=$world

# apt-get against one Debian release's archive only, with its own sources, lists and cache under
# $world/apt: the host's apt sources, lists and installed packages are never read or changed.
# Check-Valid-Until=false: a mirror that serves a snapshot of the archive (as this workplace's
# does) holds a testing release's (forky's) Release file past its Valid-Until date, and apt would
# refuse it ("Release file ... is expired"); its signature is still checked, and nothing fetched
# here is installed: tests run the one program taken out of its package.
release_apt() {
  local release=$1 dir=$world/apt/$1
  shift
  # APT::Sandbox::User: root's apt would download as _apt, who may not reach $world (a home).
  apt-get -q -o Acquire::Check-Valid-Until=false -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::Etc::PreferencesParts=/dev/null -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
    -o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)" "$@"
}

# Once per run and release: that release's package lists (its updates and security fixes too).
declare -A updated=()
update_release() {
  local release=$1 dir=$world/apt/$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -z "${updated[$release]:-}" ] || return 0
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  cat >"$dir/sources.list" <<SOURCES
deb [signed-by=$keyring] http://deb.debian.org/debian $release main
deb [signed-by=$keyring] http://deb.debian.org/debian $release-updates main
deb [signed-by=$keyring] http://deb.debian.org/debian-security $release-security main
SOURCES
  release_apt "$release" update -qq >/dev/null
  updated[$release]=1
}

# Each program of tests/world_programs.txt not yet in $world/bin: download its package, take the
# one file out of it, leave the package uninstalled (no daemon starts, nothing else changes).
fetch_world_programs() {
  local name release package member work deb
  mkdir -p "$world/bin"
  while read -r name release package member; do
    [ -n "$name" ] && [ "${name:0:1}" != "#" ] || continue
    [ -x "$world/bin/$name" ] && continue
    update_release "$release"
    work=$(mktemp -d "$world/fetch.XXXXXX")
    (cd "$work" && release_apt "$release" download -qq "$package")
    deb=$(echo "$work"/*.deb)
    dpkg-deb -x "$deb" "$work/files"
    install -m 0755 "$work/files/$member" "$world/bin/$name.new"
    mv -f "$world/bin/$name.new" "$world/bin/$name"
    echo "test world: $world/bin/$name is $member of $package $(dpkg-deb -f "$deb" Version) ($release)" >&2
    rm -rf "$work"
  done <tests/world_programs.txt
}

if command -v apt-get >/dev/null; then
  install_packages
  fetch_world_programs
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
