#!/usr/bin/env bash
# Install, upgrade or uninstall credctl from this checkout: the Debian packages it runs (gnupg,
# pass), a private venv, links to its programs where Docker finds docker-credential-*, the man
# page and the shell completions, and a PATH line for login shells when one is needed.
# `scripts/install.sh --help` says it all; README.md ("Install and start") says it longer.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/install.sh [--setup] [--no-apt] [--user | --system]
       scripts/install.sh --uninstall [--user | --system]

Install credctl from this checkout (run it again to upgrade):
  1. the Debian packages it needs and lacks: gnupg, pass, the python venv module
     (apt-get, with sudo when not root);
  2. a venv with credctl in it, its programs started without `site` (python -IS);
  3. links to credctl and its docker-credential-* programs, the man page and the
     bash, zsh and fish completions;
  4. when a new login shell would not find those programs first on PATH, a marked
     block in the file that login shell reads (~/.bash_profile, ~/.bash_login or
     ~/.profile) that puts them there.

                 as root (--system)            as a user (--user)
  venv           /opt/credctl/venv             ~/.local/share/credctl/venv
  programs       /usr/local/bin                ~/.local/bin
  man page       /usr/local/share/man/man1     ~/.local/share/man/man1
  completions    /usr/local/share/{bash-completion/completions,zsh/site-functions,
                 fish/vendor_completions.d}    ~/.local/share/... (the same three)

Options:
  --setup       after installing, run `credctl setup` (the wizard) with the installed
                program; its exit status is this script's
  --no-apt      install no Debian packages (you see to gnupg, pass and python3-venv)
  --user        install for the current user (the default unless root)
  --system      install for every user (the default as root; needs root)
  --uninstall   remove what an install put here: the venv, the links into it, the
                man page and completion links, the PATH block; nothing else (never
                your password store, gpg keys or ~/.docker/config.json)
  -h, --help    show this and do nothing

Environment:
  PYTHON           the interpreter for the venv (default python3; 3.11 or newer)
  CREDCTL_HOME     the directory that holds the venv (default above, without /venv)
  CREDCTL_BIN_DIR  where the program links go (default above)
EOF
}

say() { printf 'credctl install: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}
usage_error() {
  say "$* (see scripts/install.sh --help)"
  exit 2
}

action=install run_setup='' use_apt=1 mode=''
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage && exit 0 ;;
    --setup) run_setup=1 ;;
    --no-apt) use_apt= ;;
    --uninstall) action=uninstall ;;
    --user) mode=user ;;
    --system) mode=system ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done
[ "$action" = uninstall ] && [ -n "$run_setup" ] && usage_error "--setup installs; it does not go with --uninstall"
is_root() { [ "$(id -u)" -eq 0 ]; }
if [ -z "$mode" ]; then
  if is_root; then mode=system; else mode=user; fi
fi
[ "$mode" = system ] && ! is_root && usage_error "--system needs root: sudo scripts/install.sh --system"

here=$(cd "$(dirname "$0")/.." && pwd)
programs=(credctl docker-credential-pass docker-credential-secretservice docker-credential-keyring
  docker-credential-acr-helper docker-credential-credctl credctl-kubelet-provider)
if [ "$mode" = system ]; then
  umask 022 # every user runs the programs: the venv must be world-readable
  home_dir=${CREDCTL_HOME:-/opt/credctl}
  bin_dir=${CREDCTL_BIN_DIR:-/usr/local/bin}
  share_dir=/usr/local/share
  home_mode=755
else
  home_dir=${CREDCTL_HOME:-$HOME/.local/share/credctl}
  bin_dir=${CREDCTL_BIN_DIR:-$HOME/.local/bin}
  share_dir=$HOME/.local/share
  home_mode=700
fi
venv=$home_dir/venv
# The directories an install created, one a line, so --uninstall removes those (when empty) and no other.
created_list=$home_dir/created-dirs
python=${PYTHON:-python3}
block_begin="# added by credctl's install.sh: credctl's programs first on PATH"
block_end="# end of credctl's install.sh block"
step_count=5
step_done=0
step() {
  step_done=$((step_done + 1))
  say "[$step_done/$step_count] $*"
}
on_terminal() { [ -t 2 ]; }

# Every link an install makes: "LINK<TAB>TARGET", the target always inside the venv. The wheel
# ships the man page and completions as data files (pyproject.toml), so they are the installed
# version's own. bash-completion loads completions/credctl on demand (it also tries credctl.bash).
links() {
  local program
  for program in "${programs[@]}"; do
    printf '%s\t%s\n' "$bin_dir/$program" "$venv/bin/$program"
  done
  printf '%s\t%s\n' \
    "$share_dir/man/man1/credctl.1" "$venv/share/man/man1/credctl.1" \
    "$share_dir/bash-completion/completions/credctl" "$venv/share/bash-completion/completions/credctl.bash" \
    "$share_dir/zsh/site-functions/_credctl" "$venv/share/zsh/site-functions/_credctl" \
    "$share_dir/fish/vendor_completions.d/credctl.fish" "$venv/share/fish/vendor_completions.d/credctl.fish"
}

is_our_link() { # LINK: a symlink into our venv (only those are ever replaced or removed)
  [ -L "$1" ] && case $(readlink "$1") in "$venv"/*) true ;; *) false ;; esac
}

# -- Debian packages -------------------------------------------------------------------------

missing_packages() {
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || printf '%s\n' "$package"
  done
}

apt_install() { # PACKAGE...: install those that are missing, with sudo when not root
  local missing sudo=()
  mapfile -t missing < <(missing_packages "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || {
    say "no apt-get here: install ${missing[*]} yourself"
    return 0
  }
  if ! is_root; then
    command -v sudo >/dev/null || die "installing ${missing[*]} needs root: install them as root, then run again with --no-apt"
    sudo=(sudo)
  fi
  say "  apt-get install ${missing[*]}${sudo:+ (with sudo)}"
  local quiet=(-qq) output=/dev/null
  on_terminal && quiet=(-q) output=/dev/stderr
  # Another apt (unattended-upgrades, a second terminal) may hold the dpkg lock: wait for it.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 "${quiet[@]}" update >"$output"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "${quiet[@]}" -y \
    --no-install-recommends install "${missing[@]}" >"$output"
}

# -- Python ----------------------------------------------------------------------------------

python_apt_name() { # the Debian package of $python: python3, or python3.X for PYTHON=python3.X
  case ${python##*/} in
    python3.[0-9]*) printf '%s\n' "${python##*/}" ;;
    *) printf 'python3\n' ;;
  esac
}

check_python() {
  if ! command -v "$python" >/dev/null; then
    [ -n "$use_apt" ] && apt_install "$(python_apt_name)" "$(python_apt_name)-venv"
    command -v "$python" >/dev/null ||
      die "no $python here: install Python 3.11 or newer (sudo apt install python3 python3-venv), or name one with PYTHON=..."
  fi
  local version
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || die "$python does not run"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    die "$python is Python $version; credctl needs 3.11 or newer: sudo apt install python3.11 python3.11-venv, then PYTHON=python3.11 scripts/install.sh"
  fi
  python_version=$version
}

has_venv_module() { "$python" -c 'import ensurepip, venv' 2>/dev/null; }

install_packages() {
  local wanted=(gnupg pass)
  has_venv_module || wanted+=("$(python_apt_name)-venv")
  if [ -z "$use_apt" ]; then
    step "Debian packages: skipped (--no-apt)"
  else
    step "Debian packages: checking ${wanted[*]}"
    apt_install "${wanted[@]}"
  fi
  has_venv_module ||
    die "$python has no venv module: sudo apt install $(python_apt_name)-venv (Debian/Ubuntu), then run this again"
  if ! command -v gpg >/dev/null || ! command -v pass >/dev/null; then
    say "  note: gpg or pass is not installed; the pass store needs both"
  fi
}

# -- venv, links -----------------------------------------------------------------------------

created=()
make_dir() { # DIR: mkdir -p that remembers each directory it creates
  local dir=$1 missing=()
  while [ ! -e "$dir" ]; do
    missing=("$dir" "${missing[@]}")
    dir=$(dirname "$dir")
  done
  for dir in "${missing[@]}"; do
    mkdir "$dir"
    created+=("$dir")
  done
}

remember_created() {
  [ ${#created[@]} -eq 0 ] && return 0
  printf '%s\n' "${created[@]}" >>"$created_list"
}

build_venv() {
  [ -e "$venv" ] && [ ! -e "$venv/pyvenv.cfg" ] && die "$venv exists and is not a venv: move it away or set CREDCTL_HOME"
  make_dir "$home_dir"
  chmod "$home_mode" "$home_dir"
  step "creating the venv in $venv (Python $python_version)"
  "$python" -m venv --clear "$venv"
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check) quiet=(-q)
  on_terminal && quiet=()
  step "installing credctl and its dependencies with pip"
  # pip >= 24 writes console scripts that skip `import re`: ~8 ms less on every helper call.
  "${pip[@]}" install -q -U pip
  # Built from a private copy: the checkout may be read-only to us, and stays free of build files.
  build_copy=$(mktemp -d)
  trap 'rm -rf "$build_copy"' EXIT
  tar -C "$here" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='./*.egg-info' -cf - . |
    tar -C "$build_copy" -xf -
  "${pip[@]}" install "${quiet[@]}" "$build_copy"
  rm -rf "$build_copy"
  # Nothing runs setuptools after the install; its .pth file would cost every helper start.
  "${pip[@]}" uninstall -q -y setuptools 2>/dev/null || true
  # pip's console scripts start with `site`; these start without it (scripts/launchers.py).
  local kept
  kept=$("$venv/bin/python" "$here/scripts/launchers.py" "$venv")
  [ -z "$kept" ] || say "  $kept"
}

place_links() {
  step "linking the programs into $bin_dir, the man page and completions into $share_dir"
  local link target
  while IFS=$'\t' read -r link target; do
    [ -e "$target" ] || die "$target is missing from the installed wheel"
    if [ -e "$link" ] || [ -L "$link" ]; then
      if ! [ -L "$link" ]; then
        say "  kept $link: a file that is not ours (Docker may run it instead of credctl's)"
        continue
      fi
      is_our_link "$link" || say "  replaced $link (was a link to $(readlink "$link"))"
    fi
    make_dir "$(dirname "$link")"
    ln -sfn "$target" "$link"
  done < <(links)
}

# -- PATH for login shells -------------------------------------------------------------------

login_file() { # the file a bash login shell reads (bash stops at the first that exists)
  local file
  for file in "$HOME/.bash_profile" "$HOME/.bash_login" "$HOME/.profile"; do
    [ -e "$file" ] && printf '%s\n' "$file" && return 0
  done
  printf '%s\n' "$HOME/.profile"
}

login_resolves() { # PROGRAM: where a new login shell of this user finds it ("" when nowhere)
  env -i HOME="$HOME" USER="$(id -un 2>/dev/null || id -u)" LOGNAME="$(id -un 2>/dev/null || id -u)" \
    "$(command -v bash)" -lc "printf 'credctl-found:%s\n' \"\$(command -v $1)\"" </dev/null 2>/dev/null |
    sed -n 's/^credctl-found://p' | tail -n 1
}

shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

logins_find_us() {
  [ "$(login_resolves docker-credential-pass)" = "$bin_dir/docker-credential-pass" ] &&
    [ "$(login_resolves credctl)" = "$bin_dir/credctl" ]
}

ensure_path() {
  step "checking that a new login shell finds credctl's programs first"
  path_ok=''
  if logins_find_us; then
    path_ok=1
    say "  it does: $bin_dir is on PATH there"
  else
    local file
    file=$(login_file)
    if grep -qxF "$block_begin" "$file" 2>/dev/null; then
      say "  $file already has credctl's PATH block"
    else
      # shellcheck disable=SC2016 # $PATH is for the login shell to expand
      printf '%s\nPATH=%s:"$PATH"\nexport PATH\n%s\n' "$block_begin" "$(shell_quote "$bin_dir")" "$block_end" >>"$file"
      say "  added $bin_dir to PATH in $file (a block marked \"added by credctl's install.sh\")"
    fi
    if logins_find_us; then
      path_ok=1
    else
      local found
      found=$(login_resolves docker-credential-pass)
      say "  a new login shell still runs ${found:-no docker-credential-pass} instead of $bin_dir/docker-credential-pass: put $bin_dir first on PATH"
    fi
  fi
  local login_shell
  login_shell=$(getent passwd "$(id -u)" | cut -d: -f7) || true
  case ${login_shell##*/} in
    bash | sh | dash | '') ;;
    *) say "  your login shell is ${login_shell##*/}: make sure it puts $bin_dir on PATH before /usr/bin" ;;
  esac
  [ "$(command -v docker-credential-pass || true)" = "$bin_dir/docker-credential-pass" ] ||
    say "  this shell does not run them yet: export PATH=$(shell_quote "$bin_dir"):\"\$PATH\" (or log in again)"
}

completion_notes() {
  [ "$mode" = user ] || return 0
  say "  zsh: the completion is in $share_dir/zsh/site-functions; add fpath=($share_dir/zsh/site-functions \$fpath) to ~/.zshrc before compinit"
}

do_install() {
  check_python
  install_packages
  build_venv
  place_links
  remember_created
  ensure_path
  completion_notes
  local version credctl=$bin_dir/credctl
  version=$("$venv/bin/credctl" --version)
  is_our_link "$credctl" || credctl=$venv/bin/credctl
  if [ -n "$run_setup" ]; then
    say "$version installed in $venv, programs in $bin_dir. Running: $credctl setup"
    # With PATH as a new login will have it, so setup checks the helpers Docker will run.
    [ -n "$path_ok" ] && PATH="$bin_dir:$PATH"
    exec "$credctl" setup
  fi
  [ "$(command -v credctl || true)" = "$bin_dir/credctl" ] && [ "$credctl" = "$bin_dir/credctl" ] && credctl=credctl
  say "$version installed in $venv, programs in $bin_dir. Next: $credctl setup"
}

# -- uninstall -------------------------------------------------------------------------------

remove_path_block() {
  local file
  for file in "$HOME/.bash_profile" "$HOME/.bash_login" "$HOME/.profile"; do
    grep -qxF "$block_begin" "$file" 2>/dev/null || continue
    local kept
    kept=$(mktemp "$file.XXXXXX")
    awk -v begin="$block_begin" -v end="$block_end" '$0 == begin { skip = 1 } !skip { print } $0 == end { skip = 0 }' \
      "$file" >"$kept"
    if [ -s "$kept" ]; then
      chmod --reference="$file" "$kept"
      mv "$kept" "$file"
      say "removed credctl's PATH block from $file"
    else
      rm -f "$kept" "$file"
      say "removed $file (it held only credctl's PATH block)"
    fi
  done
}

do_uninstall() {
  local link target removed=0
  while IFS=$'\t' read -r link target; do
    if is_our_link "$link"; then
      rm -f "$link"
      say "removed $link"
      removed=$((removed + 1))
    elif [ -e "$link" ] || [ -L "$link" ]; then
      say "kept $link: not a link into $venv"
    fi
  done < <(links)
  remove_path_block
  if [ -e "$venv/pyvenv.cfg" ]; then
    rm -rf "$venv"
    say "removed the venv $venv"
    removed=$((removed + 1))
  fi
  if [ -f "$created_list" ]; then
    local dirs dir gone=()
    mapfile -t dirs < <(sort -ru "$created_list") # deepest first
    rm -f "$created_list"
    for dir in "${dirs[@]}"; do
      # A directory that is not empty (something else lives there now) stays.
      rmdir "$dir" 2>/dev/null && gone+=("$dir")
    done
    [ ${#gone[@]} -eq 0 ] || say "removed the directories the install had created: ${gone[*]}"
  fi
  [ "$removed" -gt 0 ] || say "found no credctl install in $venv"
  say "credctl is uninstalled; your password store, gpg keys and ~/.docker/config.json are as they were"
}

"do_$action"
