"""ACR profiles: a docker-credential-acr-helper-NAME wrapper per Alibaba Cloud identity.

The Go helper's recipe for several accounts (one shell script per credentials file), made by a
command and widened to every identity: the wrapper runs our helper with CREDCTL_ACR_PROFILE and
its source's variables (credctl.acr.login.profile_variables: a credentials file and section, a
profile of the aliyun CLI's config, or a RAM role and its base), so that only that source is
used (and the token cache is keyed by it). It unsets the other kinds' variables first. Every
value is quoted, every path absolute. Wrappers written before kinds existed (a credentials file
only) export exactly what a file profile's do, and keep working.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys

from credctl.acr.identity import KIND_VARIABLES
from credctl.acr.login import HELPER, profile_suffix, profile_variables
from credctl.errors import ProfileError
from credctl.names import PREFIX
from credctl.paths import folder_risk, write_atomically

PROGRAM = PREFIX + HELPER
MARKER = "# credctl ACR profile"


def wrapper_name(name: str) -> str:
    """The wrapper's file name, the program Docker runs for credHelpers value acr-helper-NAME;
    ProfileError for a name credctl does not give a profile."""
    return PREFIX + profile_suffix(name)


def helper_program() -> str:
    """Our docker-credential-acr-helper, by absolute path (the one beside this interpreter)."""
    beside = os.path.join(os.path.dirname(sys.executable), PROGRAM)
    found = beside if os.access(beside, os.X_OK) else shutil.which(PROGRAM)
    if not found:
        raise ProfileError(f"{PROGRAM} is not installed beside credctl: reinstall credctl")
    return os.path.abspath(found)


def wrapper_text(name: str, record: dict, program: str) -> str:
    """The wrapper's script: export what the profile's helper is run with (from its settings
    record), then run it."""
    variables = profile_variables(name, record)
    exports = "".join(f"export {variable}={shlex.quote(value)}\n" for variable, value in variables.items())
    return (
        "#!/bin/sh\n"
        f"{MARKER} {name}: {PROGRAM} with one Alibaba Cloud account.\n"
        f"# Made by `credctl acr add-profile`; remove it with `credctl acr remove-profile {name}`.\n"
        f"unset {' '.join(KIND_VARIABLES)}\n"
        f"{exports}"
        f'exec {shlex.quote(program)} "$@"\n'
    )


def is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as file:
            return MARKER in file.read(512)
    except (OSError, UnicodeDecodeError):
        return False


def check_free(path: str) -> None:
    """Refuse a wrapper path that holds something credctl did not make."""
    if os.path.lexists(path) and not is_ours(path):
        raise ProfileError(f"{path} exists and was not made by credctl: remove it or choose another name")


def check_bin_dir(directory: str) -> None:
    """Refuse a folder where another user could replace the wrapper, and so run code as whoever
    runs Docker: it must belong to the user or root, be writable by no one else, and so must the
    folders above it (credctl.paths.folder_risk)."""
    where, reason = folder_risk(directory, (os.geteuid(), 0))
    if reason:
        raise ProfileError(
            f"{where}: {reason}: another user could replace the helper and run code as you; "
            "choose another --bin-dir, or pass --force"
        )


def write_wrapper(path: str, text: str) -> None:
    check_free(path)
    write_atomically(path, text.encode("utf-8"))
    os.chmod(path, 0o755)  # runnable by Docker; never group- or world-writable
