"""gpg-agent and the pass key's passphrase: is it cached, for how long, and unlocking it once.

What GnuPG 2.2 (Debian 12's 2.2.40) does, measured with gpg-connect-agent:

- A passphrase given through pinentry is cached `default-cache-ttl` seconds after each use
  (600), and `max-cache-ttl` seconds at most (7200) from when it was given.
- PRESET_PASSPHRASE (only where gpg-agent.conf says `allow-preset-passphrase`) takes no
  lifetime but -1 (any other answers "Not implemented"); a preset passphrase is not expired by
  default-cache-ttl, only by max-cache-ttl.
- `KEYINFO GRIP` says whether a key's passphrase is cached now (the 7th field, `1`) and whether
  the key has one (the 8th: `P` protected, `C` clear), without asking anything.

So `credctl pass unlock --for D` caches it as the agent can, and where D is shorter than the
agent would keep it, a small process of credctl's (forget_at) clears it at the end of D. Every
exchange with the agent is bounded (gpg-connect-agent, killed after its timeout). The passphrase
is held in credctl's memory only on the preset path, between pinentry's answer and the preset.
"""

from __future__ import annotations

import os
import time

from credctl.errors import StoreError, Stuck

AGENT_TIMEOUT = 10.0  # seconds for an exchange with gpg-agent that asks no one
PRESET_PROGRAM = "/usr/lib/gnupg/gpg-preset-passphrase"  # Debian's gnupg-agent; GnuPG's libexecdir


class Cache:
    """The agent's cache settings: default-cache-ttl, max-cache-ttl (seconds), and whether
    gpg-agent.conf allows PRESET_PASSPHRASE."""

    __slots__ = ("default_ttl", "max_ttl", "preset")

    def __init__(self, default_ttl: int, max_ttl: int, preset: bool) -> None:
        self.default_ttl, self.max_ttl, self.preset = default_ttl, max_ttl, preset


class KeyState:
    """One key's state in the agent: keygrip, cached now, and whether it has a passphrase."""

    __slots__ = ("cached", "grip", "protected")

    def __init__(self, grip: str, cached: bool, protected: bool) -> None:
        self.grip, self.cached, self.protected = grip, cached, protected


def home(environ=os.environ) -> str:
    """GnuPG's home: GNUPGHOME, else ~/.gnupg."""
    from credctl.paths import home as user_home

    return environ.get("GNUPGHOME") or os.path.join(user_home(environ), ".gnupg")


def keygrips(identities: list[str], environ=os.environ) -> list[str]:
    """The keygrips of the encryption (sub)keys of identities whose secret part is here: what the
    agent caches a passphrase under."""
    from credctl.spawn import run

    if not identities:
        return []
    argv = ["gpg", "--batch", "--with-colons", "--with-keygrip", "--list-secret-keys", *identities]
    try:
        result = run(argv, env=environ, timeout=AGENT_TIMEOUT)
    except (FileNotFoundError, TimeoutError):
        return []
    grips, encrypts = [], False
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if fields[0] in ("sec", "ssb"):
            encrypts = len(fields) > 11 and "e" in fields[11] and fields[1] not in ("r", "e", "d", "i")
        elif fields[0] == "grp" and encrypts and len(fields) > 9:
            grips.append(fields[9])
            encrypts = False
    return list(dict.fromkeys(grips))


def cache_settings(environ=os.environ) -> Cache:
    """default-cache-ttl and max-cache-ttl as gpgconf reports them (GnuPG's defaults when it
    cannot), and allow-preset-passphrase as gpg-agent.conf sets it (gpgconf 2.2 does not list it)."""
    from credctl.spawn import run

    values = {"default-cache-ttl": 600, "max-cache-ttl": 7200}
    try:
        result = run(["gpgconf", "--list-options", "gpg-agent"], env=environ, timeout=AGENT_TIMEOUT)
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if fields[0] in values and len(fields) > 9:
                value = fields[9] or fields[7]
                if value.isdigit():
                    values[fields[0]] = int(value)
    except (FileNotFoundError, TimeoutError):
        pass
    return Cache(values["default-cache-ttl"], values["max-cache-ttl"], _preset_allowed(environ))


def agent_conf(environ=os.environ) -> str:
    return os.path.join(home(environ), "gpg-agent.conf")


def _preset_allowed(environ) -> bool:
    try:
        with open(agent_conf(environ), encoding="utf-8", errors="replace") as conf:
            return any(line.split("#", 1)[0].strip() == "allow-preset-passphrase" for line in conf)
    except OSError:
        return False


def states(grips: list[str], environ=os.environ) -> list[KeyState] | None:
    """Each grip's state (KEYINFO: it asks no one); None when the agent cannot be reached within
    AGENT_TIMEOUT."""
    lines = _agent([f"KEYINFO {grip}" for grip in grips], environ)
    if lines is None:
        return None
    found = {}
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[:2] == ["S", "KEYINFO"]:
            found[fields[2]] = KeyState(fields[2], fields[6] == "1", fields[7] != "C")
    return [found[grip] for grip in grips if grip in found]


def ask_passphrase(description: str, environ, timeout: float) -> str:
    """The passphrase, asked once through the agent's pinentry (GET_PASSPHRASE, cached nowhere:
    cache id X); Stuck after timeout seconds, StoreError when it is cancelled."""
    escaped = description.replace("%", "%25").replace(" ", "+")
    lines = _agent([f"GET_PASSPHRASE --data X X Passphrase: {escaped}"], environ, timeout=timeout, asks=True)
    if lines is None:
        raise StoreError("gpg-agent cannot be reached: check GNUPGHOME and that gpg-agent can start")
    for line in lines:
        if line.startswith("D "):
            return _unescape(line[2:])
        if line.startswith("ERR"):
            raise StoreError(f"gpg-agent did not get the passphrase: {line.split(' ', 2)[-1]}")
    raise StoreError("gpg-agent did not get the passphrase")


def preset(grips: list[str], passphrase: str, environ) -> None:
    """The passphrase into the agent's cache for each grip (PRESET_PASSPHRASE, lifetime -1)."""
    hexed = passphrase.encode().hex().upper()
    lines = _agent([f"PRESET_PASSPHRASE {grip} -1 {hexed}" for grip in grips], environ)
    errors = [line for line in lines or ["ERR no agent"] if line.startswith("ERR")]
    if errors:
        raise StoreError(f"gpg-agent refused to keep the passphrase: {errors[0].split(' ', 2)[-1]}")


def forget(grips: list[str], environ=os.environ) -> None:
    """Each grip's cached passphrase out of the agent (CLEAR_PASSPHRASE)."""
    _agent([f"CLEAR_PASSPHRASE --mode=normal {grip}" for grip in grips], environ, autostart=False)


def forget_at(grips: list[str], when: float, environ=os.environ) -> None:
    """A process of its own that sleeps until when, then forgets grips (the end of `--for`),
    detached from this one and its terminal."""
    import subprocess
    import sys

    code = "import sys, time; from credctl.gpgagent import _forget_later; _forget_later(sys.argv[1:])"
    subprocess.Popen(
        [sys.executable, "-c", code, str(when), *grips],
        env=dict(environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def _forget_later(args: list[str]) -> None:
    when, grips = float(args[0]), args[1:]
    time.sleep(max(0.0, when - time.time()))
    forget(grips)


def _agent(
    commands: list[str], environ, timeout: float = AGENT_TIMEOUT, autostart: bool = True, asks: bool = False
) -> list[str] | None:
    """gpg-connect-agent's answer lines to commands (on its stdin, never argv); None when no agent
    answers. asks: a pinentry may ask someone (GPG_TTY names the terminal); Stuck after timeout."""
    from credctl.spawn import run

    argv = ["gpg-connect-agent"] + ([] if autostart else ["--no-autostart"])
    script = "\n".join([*commands, "/bye"]) + "\n"
    try:
        result = run(argv, input=script.encode(), env=environ, timeout=timeout)
    except FileNotFoundError:
        raise StoreError("gpg-connect-agent is not installed: install gnupg") from None
    except TimeoutError:
        if asks:
            raise Stuck(f"no passphrase was given within {timeout:g} s: nothing cached") from None
        return None
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    if b"no gpg-agent running" in result.stderr or not lines:
        return None
    return lines


def _unescape(text: str) -> str:
    """An Assuan data line's text: %XX escapes decoded."""
    out, index = bytearray(), 0
    raw = text.encode()
    while index < len(raw):
        if raw[index] == ord("%") and index + 2 < len(raw):
            out.append(int(raw[index + 1 : index + 3], 16))
            index += 3
        else:
            out.append(raw[index])
            index += 1
    return out.decode("utf-8", "replace")


# --- checking the passphrase: a probe encrypted to the pass key and decrypted ----------------------


def decrypts(recipients: list[str], environ, timeout: float, asks: bool) -> bool:
    """Whether gpg decrypts a probe encrypted to recipients: asking no one (pinentry-mode error),
    or with asks through the agent's pinentry on GPG_TTY; Stuck after timeout seconds."""
    from credctl.spawn import run

    options = ["--batch", "--quiet", "--yes", "--no-encrypt-to"]
    probe = run(
        ["gpg", *options, "--encrypt", *(arg for ident in recipients for arg in ("-r", ident))],
        input=b"credctl pass unlock\n",
        env=environ,
        timeout=AGENT_TIMEOUT,
    )
    if probe.status != 0:
        raise StoreError(f"gpg cannot encrypt to the pass store's key: {_last_line(probe.stderr)}")
    mode = [] if asks else ["--pinentry-mode", "error"]
    try:
        result = run(["gpg", *options, *mode, "--decrypt"], input=probe.stdout, env=environ, timeout=timeout)
    except TimeoutError:
        raise Stuck(f"no passphrase was given within {timeout:g} s: nothing cached") from None
    return result.status == 0


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# --- what credctl set: the state file ---------------------------------------------------------------


def state_path(environ=os.environ) -> str:
    from credctl.paths import cache_dir

    return os.path.join(cache_dir(environ), "pass-unlock.json")


def record_unlock(grips: list[str], until: float, environ=os.environ) -> None:
    """Remember that credctl unlocked grips until (Unix time), for verify (0600; no secret)."""
    import json

    from credctl.paths import write_atomically

    data = json.dumps({"grips": sorted(grips), "until": int(until)}) + "\n"
    write_atomically(state_path(environ), data.encode(), private=True)


def unlocked_until(grips: list[str], environ=os.environ) -> int | None:
    """Until when credctl's last unlock of exactly grips holds, if it is still ahead; else None."""
    import json

    from credctl.errors import CredctlError
    from credctl.paths import read_file

    try:
        data = read_file(state_path(environ), private=True)
        found = json.loads(data) if data else None
    except (CredctlError, OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("grips") != sorted(grips):
        return None
    until = found.get("until")
    return until if isinstance(until, int) and until > time.time() else None


# --- unlocking once ---------------------------------------------------------------------------------


class Unlocked:
    """What unlock did: until (Unix time), how ("preset" or "pinentry"), and the agent's Cache."""

    __slots__ = ("cache", "how", "until")

    def __init__(self, until: float, how: str, cache: Cache) -> None:
        self.until, self.how, self.cache = until, how, cache


def unlock(recipients: list[str], grips: list[str], seconds: int, timeout: float, environ) -> Unlocked:
    """Have the agent ask for the pass key's passphrase once and keep it for seconds: preset
    where gpg-agent.conf allows (kept until max-cache-ttl), else cached by the pinentry exchange
    (default-cache-ttl after each use, max-cache-ttl at most). Where the agent would keep it
    longer than seconds, forget_at clears it then. StoreError for a wrong passphrase or a
    cancelled pinentry (nothing left cached), Stuck after timeout seconds."""
    cache = cache_settings(environ)
    if cache.preset:
        description = "credctl: the passphrase of the pass store's key, kept by gpg-agent for docker pulls"
        passphrase = ask_passphrase(description, environ, timeout)
        preset(grips, passphrase, environ)
        del passphrase
        if not decrypts(recipients, environ, AGENT_TIMEOUT, asks=False):
            forget(grips, environ)
            raise StoreError("that passphrase does not unlock the pass store's key: nothing cached")
        kept, how = cache.max_ttl, "preset"
    else:
        if not decrypts(recipients, environ, timeout, asks=True):
            raise StoreError("gpg-agent did not get the passphrase (cancelled, or wrong): nothing cached")
        kept, how = cache.max_ttl, "pinentry"
    now = time.time()
    until = now + min(seconds, kept)
    if seconds < kept:
        forget_at(grips, until, environ)
    record_unlock(grips, until, environ)
    return Unlocked(until, how, cache)
