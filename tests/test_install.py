"""scripts/install.sh, pipx and the sdist, for real: every install route gets the whole product.

The installs run the real script: as a real second uid in a throwaway HOME, and as root in its
default locations (/opt/credctl, /usr/local) inside a private mount namespace with tmpfs over
/opt and /usr/local, so the host is never touched. pip resolves everything from a wheelhouse
built once here (PIP_FIND_LINKS, PIP_NO_INDEX: pip's own settings, not the script's); the
apt tests put recorder programs named apt-get and dpkg-query first on PATH.
"""

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from world import ROOT, free_uid, need

from credctl import __version__

INSTALL = "scripts/install.sh"
PROGRAMS = [
    "credctl",
    "docker-credential-pass",
    "docker-credential-secretservice",
    "docker-credential-keyring",
    "docker-credential-acr-helper",
    "docker-credential-credctl",
    "credctl-kubelet-provider",
]
# where install.sh links it (below the share dir) -> (the wheel's file in the venv, its source)
DATA_LINKS = {
    "man/man1/credctl.1": ("share/man/man1/credctl.1", "man/credctl.1"),
    "bash-completion/completions/credctl": (
        "share/bash-completion/completions/credctl.bash",
        "completions/credctl.bash",
    ),
    "zsh/site-functions/_credctl": ("share/zsh/site-functions/_credctl", "completions/_credctl"),
    "fish/vendor_completions.d/credctl.fish": (
        "share/fish/vendor_completions.d/credctl.fish",
        "completions/credctl.fish",
    ),
}
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BLOCK_BEGIN = "# added by credctl's install.sh: credctl's programs first on PATH"
OLD_PYTHON_REFUSAL = (
    "credctl install: {python} is Python 3.9; credctl needs 3.11 or newer: "
    "sudo apt install python3.11 python3.11-venv, then PYTHON=python3.11 scripts/install.sh"
)


def world_readable_dir(prefix: str) -> Path:
    """A fresh directory under /tmp that any uid can enter (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


SKIPPED_IN_COPIES = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache"}


def checkout_files(*under: str) -> list[str]:
    """The checkout's files (tracked and new, not ignored); in an unpacked sdist, all of them."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z", *under], cwd=ROOT, check=True, capture_output=True
        ).stdout.split(b"\0")
        return [os.fsdecode(name) for name in listed if name and (ROOT / os.fsdecode(name)).is_file()]
    tops = [ROOT / top for top in under] or [ROOT]
    return sorted(
        str(path.relative_to(ROOT))
        for top in tops
        for path in top.rglob("*")
        if path.is_file()
        and not SKIPPED_IN_COPIES & set(path.relative_to(ROOT).parts)
        and not any(part.endswith(".egg-info") for part in path.parts)
    )


def copy_checkout(dest: Path) -> Path:
    """The checkout's files copied to dest, readable by all."""
    for name in checkout_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    subprocess.run(["chmod", "-R", "a+rX,go-w", str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def scratch():
    path = world_readable_dir("credctl-install-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def checkout(scratch: Path) -> Path:
    return copy_checkout(scratch / "checkout")


@pytest.fixture(scope="module")
def wheelhouse(scratch: Path) -> Path:
    """Wheels of credctl's dependencies, pip and setuptools (to build credctl), built once."""
    house = scratch / "wheels"
    build_copy = copy_checkout(scratch / "wheel-build")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "-w", house]
    subprocess.run(
        [*pip_wheel, build_copy, "pip", "setuptools>=77"],
        check=True,
        capture_output=True,
    )
    for ours in house.glob("credctl-*.whl"):
        ours.unlink()  # every install builds credctl from its checkout
    shutil.rmtree(build_copy)
    subprocess.run(["chmod", "-R", "a+rX", str(house)], check=True)
    return house


def pip_offline(wheelhouse: Path, cache: Path) -> dict[str, str]:
    return {"PIP_FIND_LINKS": str(wheelhouse), "PIP_NO_INDEX": "1", "XDG_CACHE_HOME": str(cache)}


def clean_env(home: Path, path: str = SYSTEM_PATH, **extra: str) -> dict[str, str]:
    """A login-like environment: nothing of the test runner's (its venv, pyenv) leaks in."""
    return {"HOME": str(home), "PATH": path, "LANG": "C.UTF-8", **extra}


def snapshot(top: Path) -> dict[str, tuple]:
    """Every entry below top: its mode and its bytes (or link target)."""
    entries = {}
    for path in sorted(top.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content = os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            content = path.read_bytes()
        else:
            content = None
        entries[str(path.relative_to(top))] = (stat.filemode(info.st_mode), content)
    return entries


def lines(text: str) -> list[str]:
    return text.splitlines()


# -- the script as a command -------------------------------------------------------------------


def test_help_prints_usage_and_does_nothing(checkout: Path, tmp_path: Path):
    for flag in ("--help", "-h"):
        result = subprocess.run(
            ["bash", INSTALL, flag, "--setup"], cwd=checkout, env=clean_env(tmp_path), capture_output=True, text=True
        )
        assert result.returncode == 0
        assert result.stdout.startswith("Usage: scripts/install.sh [--setup] [--no-apt] [--user | --system]\n")
        assert "  --uninstall " in result.stdout
        assert "  PYTHON " in result.stdout and "  CREDCTL_HOME " in result.stdout
        assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_unknown_option_is_refused(checkout: Path, tmp_path: Path):
    result = subprocess.run(
        ["bash", INSTALL, "--no-apt", "--frobnicate"], cwd=checkout, env=clean_env(tmp_path), capture_output=True
    )
    assert result.returncode == 2
    assert result.stderr == b"credctl install: unknown option: --frobnicate (see scripts/install.sh --help)\n"
    assert result.stdout == b""
    assert list(tmp_path.iterdir()) == []


def test_setup_with_uninstall_is_refused(checkout: Path, tmp_path: Path):
    result = subprocess.run(
        ["bash", INSTALL, "--uninstall", "--setup"], cwd=checkout, env=clean_env(tmp_path), capture_output=True
    )
    assert result.returncode == 2
    assert result.stderr == (
        b"credctl install: --setup installs; it does not go with --uninstall (see scripts/install.sh --help)\n"
    )


# -- Python and apt ----------------------------------------------------------------------------


def recorder_bin(tmp_path: Path, install_status: int) -> tuple[Path, Path]:
    """A bin dir whose apt-get records its arguments (`install` exits install_status), whose
    dpkg-query reports every package but gnupg missing, and whose sudo just runs the command."""
    bin_dir, log = tmp_path / "recorders", tmp_path / "apt.log"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(
        f'#!/bin/sh\necho "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> {log}\n'
        f'case " $* " in *" install "*) exit {install_status} ;; esac\n'
    )
    (bin_dir / "dpkg-query").write_text(
        '#!/bin/sh\nfor last; do :; done\n[ "$last" = gnupg ] && printf "install ok installed" && exit 0\nexit 1\n'
    )
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    for program in bin_dir.iterdir():
        program.chmod(0o755)
    return bin_dir, log


def old_python(tmp_path: Path) -> Path:
    """A real interpreter that reports itself as Python 3.9 (sys.version_info set at startup)."""
    site = tmp_path / "old-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.version_info = (3, 9, 18, 'final', 0)\n")
    python = tmp_path / "python3.9"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec /usr/bin/python3 "$@"\n')
    python.chmod(0o755)
    return python


def test_python_older_than_3_11_is_refused_before_any_apt_step(checkout: Path, tmp_path: Path):
    need("/usr/bin/python3")
    bin_dir, log = recorder_bin(tmp_path, install_status=0)
    python = old_python(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, f"{bin_dir}:{SYSTEM_PATH}", PYTHON=str(python))
    result = subprocess.run(["bash", INSTALL, "--user"], cwd=checkout, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == OLD_PYTHON_REFUSAL.format(python=python) + "\n"
    assert not log.exists()
    assert list(home.iterdir()) == []


def test_apt_installs_only_what_is_missing_and_waits_for_the_dpkg_lock(checkout: Path, tmp_path: Path):
    """The control for the test above: in the same world a good Python goes on to apt-get."""
    need("/usr/bin/python3")
    bin_dir, log = recorder_bin(tmp_path, install_status=100)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, f"{bin_dir}:{SYSTEM_PATH}", PYTHON="/usr/bin/python3")
    result = subprocess.run(["bash", INSTALL, "--user"], cwd=checkout, env=env, capture_output=True, text=True)
    assert result.returncode == 100  # apt-get's, and the install stopped there
    assert lines(result.stderr) == [
        "credctl install: [1/5] Debian packages: checking gnupg pass",
        "credctl install:   apt-get install pass",
    ]
    assert lines(log.read_text()) == [
        "DEBIAN_FRONTEND= -o DPkg::Lock::Timeout=300 -qq update",
        "DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=300 -qq -y --no-install-recommends install pass",
    ]
    assert list(home.iterdir()) == []


def test_a_missing_venv_module_is_installed_for_that_python(checkout: Path, tmp_path: Path):
    """PYTHON=python3.X without its venv module (Debian splits it off): apt gets python3.X-venv."""
    need("/usr/bin/python3")
    bin_dir, log = recorder_bin(tmp_path, install_status=0)
    site = tmp_path / "no-ensurepip"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['ensurepip'] = None\n")
    python = bin_dir / "python3.11"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec /usr/bin/python3 "$@"\n')
    python.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, f"{bin_dir}:{SYSTEM_PATH}", PYTHON="python3.11")
    result = subprocess.run(["bash", INSTALL, "--user"], cwd=checkout, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert lines(result.stderr) == [
        "credctl install: [1/5] Debian packages: checking gnupg pass python3.11-venv",
        "credctl install:   apt-get install pass python3.11-venv",
        "credctl install: python3.11 has no venv module: sudo apt install python3.11-venv (Debian/Ubuntu),"
        " then run this again",
    ]
    assert lines(log.read_text())[1] == (
        "DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=300 -qq -y --no-install-recommends install"
        " pass python3.11-venv"
    )
    assert list(home.iterdir()) == []


def test_without_python3_apt_installs_it_first(checkout: Path, tmp_path: Path):
    """A fresh minbase root has no python3: the script asks apt for python3 and its venv module."""
    bin_dir, log = recorder_bin(tmp_path, install_status=0)
    # /usr/bin without any python: the world of a machine that has none.
    no_python = tmp_path / "usr-bin"
    no_python.mkdir()
    for program in Path("/usr/bin").iterdir():
        if not program.name.startswith("python"):
            (no_python / program.name).symlink_to(program)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, f"{bin_dir}:{no_python}")
    result = subprocess.run(["/bin/bash", INSTALL], cwd=checkout, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert lines(result.stderr) == [
        "credctl install:   apt-get install python3 python3-venv",
        "credctl install: no python3 here: install Python 3.11 or newer (sudo apt install python3 python3-venv),"
        " or name one with PYTHON=...",
    ]
    assert lines(log.read_text()) == [
        "DEBIAN_FRONTEND= -o DPkg::Lock::Timeout=300 -qq update",
        "DEBIAN_FRONTEND=noninteractive -o DPkg::Lock::Timeout=300 -qq -y --no-install-recommends install"
        " python3 python3-venv",
    ]


# -- a user install, as a real second uid --------------------------------------------------------


class User:
    """A throwaway uid with its own HOME: a Debian skeleton, a ~/.bash_profile (so bash's login
    shell reads that and not ~/.profile) and a ~/.local/bin holding a program of its own."""

    def __init__(self, scratch: Path, wheelhouse: Path):
        self.uid = free_uid()
        self.home = scratch / "home"
        self.cache = scratch / "cache"
        for path in (self.home, self.cache):
            path.mkdir(parents=True)
        shutil.copytree("/etc/skel", self.home, dirs_exist_ok=True)
        (self.home / ".bash_profile").write_text("export EDITOR=vi\n")
        (self.home / ".local/bin").mkdir(parents=True)
        (self.home / ".local/bin/my-tool").write_text("#!/bin/sh\necho mine\n")
        (self.home / ".local/bin/docker-credential-keyring").write_text("#!/bin/sh\necho not credctl's\n")
        subprocess.run(["chown", "-R", f"{self.uid}:{self.uid}", str(self.home), str(self.cache)], check=True)
        self.home.chmod(0o700)
        self.env = clean_env(
            self.home, USER="credctl-test", LOGNAME="credctl-test", **pip_offline(wheelhouse, self.cache)
        )

    def run(self, *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        as_user = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "env", "-i"]
        as_user += [f"{k}={v}" for k, v in (env or self.env).items()]
        return subprocess.run([*as_user, *argv], capture_output=True, text=True, cwd=cwd or self.home, timeout=600)

    def login(self, command: str) -> str:
        """stdout of `command` in a new bash login shell of this user, from an empty environment."""
        result = self.run("/bin/bash", "-lc", command, env={"HOME": str(self.home), "USER": "credctl-test"})
        assert result.returncode == 0, result.stderr
        return result.stdout


def test_system_install_needs_root(checkout: Path, tmp_path: Path):
    need("setpriv")
    uid = free_uid()
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "env", "-i", "HOME=/nonexistent"]
    result = subprocess.run([*as_user, "bash", f"{checkout}/{INSTALL}", "--system"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == (
        "credctl install: --system needs root: sudo scripts/install.sh --system (see scripts/install.sh --help)\n"
    )


def test_user_install_upgrade_uninstall(scratch: Path, checkout: Path, wheelhouse: Path):
    need("setpriv")
    user = User(scratch / "user", wheelhouse)
    home, local = user.home, user.home / ".local"
    venv, bin_dir = local / "share/credctl/venv", local / "bin"
    before = snapshot(home)

    result = user.run("bash", f"{checkout}/{INSTALL}", "--no-apt")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    keyring = bin_dir / "docker-credential-keyring"
    assert lines(result.stderr) == [
        "credctl install: [1/5] Debian packages: skipped (--no-apt)",
        f"credctl install: [2/5] creating the venv in {venv} (Python 3.11)",
        "credctl install: [3/5] installing credctl and its dependencies with pip",
        f"credctl install: [4/5] linking the programs into {bin_dir}, the man page and completions into {local}/share",
        f"credctl install:   kept {keyring}: a file that is not ours (Docker may run it instead of credctl's)",
        "credctl install: [5/5] checking that a new login shell finds credctl's programs first",
        f"credctl install:   added {bin_dir} to PATH in {home}/.bash_profile"
        ' (a block marked "added by credctl\'s install.sh")',
        f"credctl install:   this shell does not run them yet: export PATH='{bin_dir}':\"$PATH\" (or log in again)",
        f"credctl install:   zsh: the completion is in {local}/share/zsh/site-functions;"
        f" add fpath=({local}/share/zsh/site-functions $fpath) to ~/.zshrc before compinit",
        f"credctl install: credctl {__version__} installed in {venv}, programs in {bin_dir}."
        f" Next: {bin_dir}/credctl setup",
    ]
    # install.sh's lean launchers: no `site` on any helper start (scripts/launchers.py)
    assert (venv / "bin" / "docker-credential-pass").read_text().split("\n")[0] == f"#!{venv}/bin/python -IS"
    assert (home / ".bash_profile").read_text() == (
        f"export EDITOR=vi\n{BLOCK_BEGIN}\nPATH='{bin_dir}':\"$PATH\"\nexport PATH\n"
        "# end of credctl's install.sh block\n"
    )

    # A new login shell runs credctl's programs from the links; the links point into the venv.
    assert user.login("command -v docker-credential-pass credctl") == (
        f"{bin_dir}/docker-credential-pass\n{bin_dir}/credctl\n"
    )
    assert user.login("docker-credential-pass version; credctl --version") == (
        f"docker-credential-pass (credctl) {__version__}\ncredctl {__version__}\n"
    )
    for program in PROGRAMS:
        if program != "docker-credential-keyring":
            assert os.readlink(bin_dir / program) == f"{venv}/bin/{program}"
    assert keyring.read_text() == "#!/bin/sh\necho not credctl's\n"
    for link, (target, source) in DATA_LINKS.items():
        assert os.readlink(local / "share" / link) == f"{venv}/{target}"
        assert (venv / target).read_bytes() == (checkout / source).read_bytes()
    assert stat.S_IMODE((local / "share/credctl").stat().st_mode) == 0o700
    if shutil.which("man"):
        found = user.login("man -w credctl").strip()
        assert os.path.realpath(found) == str(venv / "share/man/man1/credctl.1")

    # Re-run = upgrade: the venv is made afresh, the links and the one PATH block stay.
    assert user.run("touch", str(venv / "left-over")).returncode == 0
    again = user.run("bash", f"{checkout}/{INSTALL}", "--no-apt")
    assert again.returncode == 0, again.stderr
    assert f"credctl install:   it does: {bin_dir} is on PATH there" in lines(again.stderr)
    assert not (venv / "left-over").exists()
    assert (home / ".bash_profile").read_text().count(BLOCK_BEGIN) == 1
    assert user.login("command -v docker-credential-pass") == f"{bin_dir}/docker-credential-pass\n"

    gone = user.run("bash", f"{checkout}/{INSTALL}", "--uninstall")
    assert gone.returncode == 0, gone.stderr
    removed = [f"credctl install: removed {bin_dir}/{p}" for p in PROGRAMS if p != "docker-credential-keyring"]
    removed += [f"credctl install: removed {local}/share/{link}" for link in DATA_LINKS]
    assert lines(gone.stderr)[: len(removed) + 1] == [
        *removed[:3],
        f"credctl install: kept {keyring}: not a link into {venv}",
        *removed[3:],
    ]
    assert f"credctl install: removed credctl's PATH block from {home}/.bash_profile" in lines(gone.stderr)
    assert f"credctl install: removed the venv {venv}" in lines(gone.stderr)
    assert lines(gone.stderr)[-1] == (
        "credctl install: credctl is uninstalled; your password store, gpg keys and ~/.docker/config.json"
        " are as they were"
    )
    assert snapshot(home) == before


# -- a root install in its default places, in a private mount namespace ---------------------------

ROOT_DRIVER = r"""
set -u
out=$1 checkout=$2
mount -t tmpfs -o mode=755 tmpfs /opt
mount -t tmpfs -o mode=755 tmpfs /usr/local
bash "$checkout/scripts/install.sh" --no-apt --setup </dev/null >"$out/install.out" 2>"$out/install.err"
echo $? >"$out/install.rc"
env -i HOME="$HOME" /bin/bash -lc 'command -v docker-credential-pass credctl' >"$out/login" 2>&1
man -w credctl >"$out/man" 2>&1
/opt/credctl/venv/bin/credctl setup </dev/null >"$out/setup.out" 2>"$out/setup.err"
echo $? >"$out/setup.rc"
stat -c '%a %U %n' /opt/credctl /opt/credctl/venv /opt/credctl/venv/bin/credctl >"$out/modes"
for f in /usr/local/bin/* /usr/local/share/man/man1/credctl.1 /usr/local/share/bash-completion/completions/credctl \
  /usr/local/share/zsh/site-functions/_credctl /usr/local/share/fish/vendor_completions.d/credctl.fish; do
  echo "$f -> $(readlink "$f")"
done >"$out/links"
bash "$checkout/scripts/install.sh" --uninstall >"$out/uninstall.out" 2>"$out/uninstall.err"
echo $? >"$out/uninstall.rc"
find /opt /usr/local >"$out/left"
gpgconf --kill all 2>/dev/null
"""


def test_root_install_in_the_default_places(scratch: Path, checkout: Path, wheelhouse: Path, tmp_path: Path):
    need("unshare", "mount")
    if os.geteuid() != 0:
        pytest.skip("the root install runs as root")
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    home.mkdir()
    env = clean_env(
        home, GNUPGHOME=str(tmp_path / "gnupg"), **pip_offline(wheelhouse, tmp_path / "cache")
    )  # a throwaway HOME and gpg home for root
    driver = tmp_path / "driver.sh"
    driver.write_text(ROOT_DRIVER)
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", str(driver), str(out), str(checkout)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr

    def read(name: str) -> str:
        return (out / name).read_text()

    install_err = lines(read("install.err"))
    assert install_err[:6] == [
        "credctl install: [1/5] Debian packages: skipped (--no-apt)",
        "credctl install: [2/5] creating the venv in /opt/credctl/venv (Python 3.11)",
        "credctl install: [3/5] installing credctl and its dependencies with pip",
        "credctl install: [4/5] linking the programs into /usr/local/bin, the man page and completions into"
        " /usr/local/share",
        "credctl install: [5/5] checking that a new login shell finds credctl's programs first",
        "credctl install:   it does: /usr/local/bin is on PATH there",
    ]
    assert install_err[6] == (
        f"credctl install: credctl {__version__} installed in /opt/credctl/venv, programs in /usr/local/bin."
        " Running: /usr/local/bin/credctl setup"
    )
    # --setup exec'd the installed credctl setup: what follows, and the status, are setup's own.
    assert install_err[7:] == lines(read("setup.err"))
    assert read("install.rc") == read("setup.rc")
    assert read("install.out") == read("setup.out")

    assert read("login") == "/usr/local/bin/docker-credential-pass\n/usr/local/bin/credctl\n"
    if shutil.which("man"):  # found through /usr/local/share/man; man-db prints the link's target
        assert read("man") == "/opt/credctl/venv/share/man/man1/credctl.1\n"
    assert lines(read("modes")) == [
        "755 root /opt/credctl",
        "755 root /opt/credctl/venv",
        "755 root /opt/credctl/venv/bin/credctl",
    ]
    assert lines(read("links")) == [
        *(f"/usr/local/bin/{p} -> /opt/credctl/venv/bin/{p}" for p in sorted(PROGRAMS)),
        *(f"/usr/local/share/{link} -> /opt/credctl/venv/{target}" for link, (target, _) in DATA_LINKS.items()),
    ]
    assert not [p for p in home.iterdir() if p.name in (".profile", ".bash_profile", ".bash_login")]

    assert read("uninstall.rc") == "0\n"
    assert "credctl install: removed the venv /opt/credctl/venv" in lines(read("uninstall.err"))
    assert lines(read("left")) == ["/opt", "/usr/local"]


# -- pipx and the sdist ----------------------------------------------------------------------------


def test_pipx_install_gets_the_programs_and_the_man_page(scratch: Path, wheelhouse: Path, tmp_path: Path):
    need("/usr/bin/python3")
    source = copy_checkout(tmp_path / "checkout")
    pipx = {name: tmp_path / name for name in ("PIPX_HOME", "PIPX_BIN_DIR", "PIPX_MAN_DIR")}
    env = clean_env(tmp_path, **{k: str(v) for k, v in pipx.items()}, **pip_offline(wheelhouse, tmp_path / "cache"))
    env["PIPX_DEFAULT_PYTHON"] = "/usr/bin/python3"
    result = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(source)], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    bin_dir, man_dir = pipx["PIPX_BIN_DIR"], pipx["PIPX_MAN_DIR"]
    assert sorted(p.name for p in bin_dir.iterdir()) == sorted(PROGRAMS)
    venv_man = pipx["PIPX_HOME"] / "venvs/credctl/share/man/man1/credctl.1"
    assert os.readlink(man_dir / "man1/credctl.1") == str(venv_man)
    assert venv_man.read_bytes() == (ROOT / "man/credctl.1").read_bytes()
    run = subprocess.run([bin_dir / "docker-credential-pass", "version"], capture_output=True, text=True)
    assert run.stdout == f"docker-credential-pass (credctl) {__version__}\n"
    run = subprocess.run([bin_dir / "credctl", "--version"], capture_output=True, text=True)
    assert run.stdout == f"credctl {__version__}\n"
    if shutil.which("man"):
        found = subprocess.run(["man", "-M", man_dir, "-w", "credctl"], capture_output=True, text=True)
        assert found.stdout == f"{venv_man}\n"  # man-db prints the link's target


SDIST_DIRS = ("tests", "scripts", "completions", "man", "docs", "bench", ".ci")


def test_sdist_has_everything_its_tests_need(scratch: Path, wheelhouse: Path, tmp_path: Path):
    if not (ROOT / ".git").exists():
        pytest.skip("compares the sdist with `git ls-files`: this is not a git checkout")
    source = copy_checkout(tmp_path / "checkout")
    env = {**os.environ, **pip_offline(wheelhouse, tmp_path / "cache")}
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", tmp_path / "dist", source],
        env=env,
        check=True,
        capture_output=True,
    )
    (sdist,) = (tmp_path / "dist").glob("credctl-*.tar.gz")
    prefix = f"credctl-{__version__}/"
    with tarfile.open(sdist) as archive:
        members = {m.name.removeprefix(prefix) for m in archive.getmembers() if m.isfile()}
    assert sorted(m for m in members if m.split("/")[0] in SDIST_DIRS) == sorted(checkout_files(*SDIST_DIRS))
    assert {"README.md", "LICENSE", "pyproject.toml", "MANIFEST.in"} <= members


def first_code_block(markdown: str, heading: str) -> str:
    section = markdown.split(f"\n## {heading}", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_readme_keeps_the_two_command_promise():
    readme = (ROOT / "README.md").read_text()
    install = first_code_block(readme, "Install and start")
    tests = first_code_block(readme, "Run the tests")
    assert (install, tests) == ("scripts/install.sh --setup\n", "scripts/test.sh\n")
    # ...and CI runs exactly those two, in the fresh Debian root.
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert any(line.startswith(f'INSTALL_COMMAND="{install.strip()}"') for line in ci_lines)
    assert any(line.startswith(f'TEST_COMMAND="{tests.strip()}"') for line in ci_lines)


def test_install_sh_links_every_program_the_package_declares():
    """install.sh's list of programs is pyproject.toml's [project.scripts], no more, no less."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert sorted(PROGRAMS) == sorted(declared)
    line = next(line for line in (ROOT / INSTALL).read_text().split("\nprograms=(", 1)[1:])
    assert sorted(line.split(")", 1)[0].split()) == sorted(declared)


def test_a_launcher_is_written_only_where_a_shebang_can_name_the_venv():
    """scripts/launchers.py keeps pip's console script (which starts through /bin/sh) for a venv
    path with a space, where the kernel would end the interpreter's path, or too long to read."""
    script = Path(__file__).parent.parent / "scripts" / "launchers.py"
    spec = importlib.util.spec_from_file_location("launchers", script)
    launchers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launchers)
    paths = ["/opt/credctl/venv/lib/python3.11/site-packages"]
    text = launchers.launcher("/opt/credctl/venv", "credctl.entry:pass_main", paths)
    assert text.split("\n")[0] == "#!/opt/credctl/venv/bin/python -IS"
    assert "from credctl.entry import pass_main\nsys.exit(pass_main())\n" in text
    assert launchers.launcher("/home/a b/venv", "credctl.entry:pass_main", paths) is None
    assert launchers.launcher("/" + "x" * 120, "credctl.entry:pass_main", paths) is None
