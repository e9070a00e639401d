"""Which docker-credential-* program Docker would run for a helper name, and whether it is credctl's.

Docker (and Podman) run docker-credential-<suffix> for a credsStore or credHelpers value through
Go's exec.LookPath: the first executable file of that name in the directories of PATH. The PATH
judged here is this process's own: a Docker started from the same shell inherits it.

The one owner of that question: `credctl verify`, warn_if_missing (map and setup) and
`credctl acr add-profile` all ask find_helper. Admin path only (not imported by the helpers).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from credctl.acr.login import profile_of, recorded_profiles
from credctl.names import PREFIX
from credctl.stores import STORES

# The helpers credctl installs as console scripts, beside its own interpreter.
CONSOLE_SCRIPTS = frozenset(spec.suffix for spec in STORES.values())
# Where install.sh (and pipx) link credctl's programs, so that a login shell finds them.
LINK_DIRS = ("~/.local/bin", "/usr/local/bin")
WHICH_PATH = "this process's PATH, which a Docker started from here inherits"


@dataclass(frozen=True)
class HelperLookup:
    """The answer for one helper suffix."""

    suffix: str
    candidates: tuple[str, ...]  # every distinct executable of that name on PATH, in lookup order
    runs_ours: bool  # what Docker runs (candidates[0]) is credctl's
    ours: str | None  # credctl's own copy, where a user reaches it; None: credctl has none of that name

    @property
    def program(self) -> str:
        return PREFIX + self.suffix

    @property
    def runs(self) -> str | None:
        """The program Docker runs, None when it finds none."""
        return self.candidates[0] if self.candidates else None

    @property
    def status(self) -> str:
        """ok, warning (Docker runs another helper than credctl's) or failed (Docker finds none)."""
        if self.runs is None:
            return "failed"
        return "ok" if self.runs_ours or self.ours is None else "warning"

    @property
    def problem(self) -> str | None:
        """One line saying what is wrong and what to do; None when Docker runs the right program."""
        runs, ours = self.runs, self.ours
        if runs is None and ours is None:
            return (
                f"{self.program} is not on PATH ({WHICH_PATH}): install it, or change the config to a helper you have"
            )
        if runs is None:
            return (
                f"credctl's {self.program} is not on PATH ({WHICH_PATH}): add {os.path.dirname(ours)} to PATH "
                "(install.sh --help says how)"
            )
        if self.runs_ours or ours is None:
            return None
        return (
            f"another helper is first on PATH ({WHICH_PATH}): {runs} (not credctl's); credctl's is {ours}: "
            f"put {os.path.dirname(ours)} before {os.path.dirname(runs)} in PATH"
        )


def find_helper(suffix: str) -> HelperLookup:
    """Which docker-credential-<suffix> Docker would run, and where credctl's own copy is."""
    program = PREFIX + suffix
    candidates = on_path(program)
    is_ours = _recogniser(suffix)
    ours_on_path = [path for path in candidates if is_ours(path)]
    runs_ours = bool(candidates) and candidates[0] in ours_on_path
    if ours_on_path:
        ours: str | None = ours_on_path[0]
    else:
        ours = next((path for path in _our_locations(suffix) if is_ours(path)), None)
    return HelperLookup(suffix, tuple(candidates), runs_ours, ours)


def on_path(program: str) -> list[str]:
    """Every distinct executable file named program on PATH, in lookup order (the first wins).

    Relative entries are skipped: Go's exec.LookPath refuses what it finds through them (ErrDot).
    """
    found, seen = [], set()
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not os.path.isabs(directory):
            continue
        path = os.path.join(directory, program)
        try:
            stat = os.stat(path)
        except OSError:
            continue
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        if (stat.st_dev, stat.st_ino) not in seen:  # /bin and /usr/bin are often one folder
            seen.add((stat.st_dev, stat.st_ino))
            found.append(path)
    return found


def _console_script(suffix: str) -> str:
    """credctl's own console script for suffix: beside the interpreter running credctl (its venv's bin)."""
    return os.path.join(os.path.dirname(sys.executable), PREFIX + suffix)


def _our_locations(suffix: str) -> list[str]:
    """Where credctl's copy may be when it is not on PATH, best first: the links install.sh (or
    pipx) made, or one beside the `credctl` being run, then the console script itself; for a
    profile, its wrapper."""
    if suffix not in CONSOLE_SCRIPTS:
        wrapper = _profile_wrapper(suffix)
        return [wrapper] if wrapper else []
    script = _console_script(suffix)
    dirs = [os.path.expanduser(directory) for directory in LINK_DIRS]
    if sys.argv and sys.argv[0]:
        dirs.append(os.path.dirname(os.path.abspath(sys.argv[0])))
    links = [os.path.join(directory, PREFIX + suffix) for directory in dict.fromkeys(dirs)]
    return [link for link in links if link != script] + [script]


def _recogniser(suffix: str):
    """A test for "this file is credctl's docker-credential-<suffix>"."""
    if suffix in CONSOLE_SCRIPTS:
        script = _console_script(suffix)
        return lambda path: _same_file(path, script)  # the script itself, or a link to it (install.sh, pipx)
    if profile_of(suffix):  # docker-credential-acr-helper-NAME: a wrapper `credctl acr add-profile` writes
        from credctl.acr.profiles import is_ours

        wrapper = _profile_wrapper(suffix)
        if wrapper is None:  # the profile is not recorded (settings removed): any wrapper credctl wrote
            return is_ours
        return lambda path: is_ours(path) and _same_file(path, wrapper)  # the profile's own wrapper
    return lambda _path: False


def _same_file(path: str, other: str) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def _profile_wrapper(suffix: str) -> str | None:
    """The wrapper `credctl acr add-profile` recorded for docker-credential-acr-helper-NAME."""
    name = profile_of(suffix)
    if not name:
        return None
    entry = recorded_profiles().get(name)
    wrapper = entry.get("wrapper") if isinstance(entry, dict) else None
    return wrapper if isinstance(wrapper, str) and wrapper else None


def docker_default_store() -> str:
    """The store docker's CLI picks by itself for a config without credentials settings
    (credentials.DetectDefaultStore("")): the platform's, "" unless its docker-credential-* program
    is on PATH. Linux: pass when the `pass` program is on PATH, else secretservice; macOS:
    osxkeychain; Windows: wincred; other systems: none. ConfigFile.helper_for(automatic=) applies it."""
    if sys.platform.startswith("linux"):
        default = "pass" if on_path("pass") else "secretservice"
    else:
        default = {"darwin": "osxkeychain", "win32": "wincred"}.get(sys.platform, "")
    return default if default and on_path(PREFIX + default) else ""
