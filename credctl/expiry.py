"""When a credential stops working, where that is knowable: the one answer list, show, verify
--expiring-within and export give.

Three sources, in this order:

1. an issued token's own expiry (an ACR temporary token: the cache knows it), given by the caller;
2. the secret itself when it is a JWT with an `exp` claim (an identity token, a registry's
   access token, a robot account's JWT): read, never checked (credctl holds no key to check it);
3. a date the user gave (`credctl login --expires`, `migrate --expires`), kept in expiry.json
   beside settings.json, by registry and username: metadata, never the secret or a hash of it.
   A login under another username makes the recorded date not apply.

A Docker Hub PAT (`dckr_pat_…`), a password or an opaque robot token carries no expiry: None.

Standard library only; imported by the CLI, never by a helper.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time

from credctl.errors import CredctlError, UsageError
from credctl.gojson import JSONError, parse
from credctl.routes import routing_name

TOKEN = "token"  # Expiry.source: an issued token's expiry, from whoever issued it
JWT = "jwt"  # the secret's own `exp` claim
GIVEN = "given"  # a date the user gave, kept in expiry.json

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(?:(\d+)([smhdw]))")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?")


class Expiry:
    """When a credential expires (Unix time) and how credctl knows (TOKEN, JWT or GIVEN)."""

    __slots__ = ("source", "when")

    def __init__(self, when: int, source: str) -> None:
        self.when, self.source = when, source

    def __repr__(self) -> str:
        return f"Expiry({stamp(self.when)}, {self.source})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expiry) and (self.when, self.source) == (other.when, other.source)

    @property
    def renewed(self) -> bool:
        """Whether credctl gets a new one by itself when it runs out (an issued token)."""
        return self.source == TOKEN

    def within(self, seconds: int, now: float | None = None) -> bool:
        """Whether it expires within seconds from now (an expired one does)."""
        return self.when <= (time.time() if now is None else now) + seconds

    def describe(self, now: float | None = None) -> str:
        """For people: `expires 2027-01-31T00:00:00Z (in 59 days; the JWT's exp)`."""
        left = self.when - (time.time() if now is None else now)
        verb = "expired" if left <= 0 else "expires"
        how = {TOKEN: "an issued token", JWT: "the JWT's exp", GIVEN: "date given at login"}[self.source]
        return f"{verb} {stamp(self.when)} ({span(left)}; {how})"


def stamp(unix: int) -> str:
    """Unix time as RFC 3339 UTC, to the second: 2027-01-31T00:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def span(seconds: float) -> str:
    """A time from now for people: `in 3 days`, `in 5 h`, `2 min ago`."""
    amount = abs(int(seconds))
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if amount >= size * (2 if unit == "days" else 1):
            text = f"{amount // size} {unit}"
            break
    else:
        text = f"{amount} s"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def parse_duration(text: str) -> int:
    """Seconds of a duration: one or more NUMBER UNIT pairs, units s m h d w (`90m`, `1h30m`,
    `7d`); a bare number is seconds. UsageError for anything else."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    pairs = _DURATION.findall(value)
    if not value or "".join(number + unit for number, unit in pairs) != value:
        raise UsageError(f"{text!r} is not a duration: write it as 30s, 15m, 12h, 7d, 2w or 1h30m")
    return sum(int(number) * _UNITS[unit] for number, unit in pairs)


def parse_date(text: str, now: float | None = None) -> int:
    """Unix time of a DATE: YYYY-MM-DD (the end of that day, UTC), an RFC 3339 time
    (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]; no zone means UTC), or a duration from now (`90d`).
    UsageError for anything else."""
    value = text.strip()
    match = _DATE.fullmatch(value)
    if match is None:
        try:
            return int(time.time() if now is None else now) + parse_duration(value)
        except UsageError:
            raise UsageError(
                f"{text!r} is not a date: write it as 2027-01-31, 2027-01-31T12:00:00Z or a time from now such as 90d"
            ) from None
    import calendar  # with datetime and locale: only to read a date a person wrote

    year, month, day, hour, minute, second, zone = match.groups()
    try:
        time.strptime(f"{year}-{month}-{day}", "%Y-%m-%d")
    except ValueError:
        raise UsageError(f"{text!r} is not a date of the calendar") from None
    if hour is None:
        return calendar.timegm((int(year), int(month), int(day), 23, 59, 59, 0, 0, 0))
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        raise UsageError(f"{text!r} is not a time of day")
    unix = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second or 0), 0, 0, 0))
    return unix - _offset(zone or "Z")


def _offset(zone: str) -> int:
    if zone == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    seconds = int(digits[:2]) * 3600 + int(digits[2:]) * 60
    return seconds if zone[0] == "+" else -seconds


def of_secret(secret: str) -> int | None:
    """The `exp` claim of a secret that is a JWT (three base64url parts, a JSON header naming an
    `alg`, a JSON payload), as Unix time; None for any other secret. Never raises: the secret's
    text is never quoted."""
    parts = secret.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    header, payload = _json_part(parts[0]), _json_part(parts[1])
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        return None
    exp = payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or exp <= 0:
        return None
    return int(exp)


def _json_part(part: str) -> object:
    try:
        return parse(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, JSONError):
        return None


# --- dates given by the user: expiry.json ---------------------------------------------------------


def expiry_path(environ=os.environ) -> str:
    """expiry.json, beside settings.json."""
    from credctl.settings import settings_path

    return os.path.join(os.path.dirname(settings_path(environ)), "expiry.json")


def given(registry: str, username: str, environ=os.environ) -> int | None:
    """The date given for registry's login by username (Unix time), None for none or another user's."""
    from credctl.settings import read_object

    entry = read_object(expiry_path(environ)).get(routing_name(registry))
    if not isinstance(entry, dict) or entry.get("username") != username:
        return None
    try:
        return parse_date(str(entry.get("expires", "")))
    except UsageError:
        return None


def record(registry: str, username: str, when: int | None, environ=os.environ) -> None:
    """Keep when (Unix time) as the expiry of registry's login by username; None forgets it.
    Locked, atomic, 0600 (settings.change_file)."""
    from credctl.settings import change_file

    name, path = routing_name(registry), expiry_path(environ)
    if when is None and not os.path.exists(path):
        return  # nothing to forget

    def edit(data: dict) -> None:
        data[name] = None if when is None else {"username": username, "expires": stamp(when)}

    change_file(path, edit)


def forget(registry: str, environ=os.environ) -> None:
    """The given date of registry's login out of expiry.json (its login went)."""
    record(registry, "", None, environ)


def expiry_of(
    registry: str, username: str, secret: str | None, issued: int | None = None, environ=os.environ
) -> Expiry | None:
    """When registry's login (username, secret) expires, by the module's order; secret None: not
    read (a listing), so only a given date can answer."""
    if issued is not None:
        return Expiry(int(issued), TOKEN)
    claimed = of_secret(secret) if secret else None
    if claimed is not None:
        return Expiry(claimed, JWT)
    date = given(registry, username, environ)
    return Expiry(date, GIVEN) if date is not None else None


# --- a stored login's expiry, as list and verify ask it ---------------------------------------------


def of_stored(helper: str, key: str, username: str, environ=os.environ) -> Expiry | None:
    """When the login helper gives for key (by username) expires, as a listing asks: credctl's
    own stores (the router's route to one too) are read in-process for a JWT's exp; any other
    helper's program is not run (one may ask the user, or go to a cloud): of_login without the
    secret (an ACR helper's cached token answers without a username). A store that cannot be read
    says nothing here (verify reports stores)."""
    from credctl.stores import LOGIN_STORES

    name = _behind(helper, key, environ)
    if name not in LOGIN_STORES or not username:
        return of_login(name, key, username, None, environ)
    from credctl.stores import open_store

    store = open_store(name, environ)
    revision = store.revision(key)
    seen = _Seen.of(environ)
    claimed = seen.claim(name, key, username, revision)
    if claimed is _UNSEEN and seen.reads_left <= 0:
        return of_login(name, key, username, None, environ)  # a later listing reads it
    if claimed is _UNSEEN:
        seen.reads_left -= 1
        try:
            found = store.get(key)
        except CredctlError:
            return of_login(name, key, username, None, environ)
        if found[0] != username:
            return of_login(name, key, username, None, environ)
        claimed = of_secret(found[1])
        seen.remember(name, key, username, revision, claimed)
    if claimed is not None:
        return Expiry(claimed, JWT)
    return of_login(name, key, username, None, environ)


_UNSEEN = object()
_SEEN_BY_PATH: dict[str, _Seen] = {}  # _Seen.of: one per cache file in a process


class _Seen:
    """What of_stored read from logins before, by their store's revision (Store.revision): the
    JWT exp (or that there is none) of each, so a listing decrypts only logins that changed.
    $XDG_CACHE_HOME/credctl/expiry-seen.json (0600): by store and key, [username, revision, exp
    as digits or ""]; never a secret. Deleting it is safe. Read once per process (of); a process
    decrypts at most READS logins it has not seen (a gpg process each): a listing of thousands
    stays seconds long, and the listings after it read the rest."""

    READS = 50

    def __init__(self, path: str) -> None:
        from credctl.settings import read_object

        self.path, self.reads_left = path, self.READS
        try:
            self.known = read_object(path)
        except CredctlError:
            self.known = {}

    @classmethod
    def of(cls, environ) -> _Seen:
        """The one _Seen of this process for environ's cache folder."""
        from credctl.paths import cache_dir

        path = os.path.join(cache_dir(environ), "expiry-seen.json")
        if path not in _SEEN_BY_PATH:
            _SEEN_BY_PATH[path] = cls(path)
        return _SEEN_BY_PATH[path]

    def claim(self, store: str, key: str, username: str, revision: str | None) -> object:
        """The exp remembered for that revision (None: no exp), or _UNSEEN."""
        if revision is None:
            return _UNSEEN
        entry = self.known.get(f"{store} {key}")
        if not isinstance(entry, list) or len(entry) != 3 or entry[:2] != [username, revision]:
            return _UNSEEN
        exp = entry[2]
        return int(exp) if isinstance(exp, str) and exp.isdigit() else None

    def remember(self, store: str, key: str, username: str, revision: str | None, exp: int | None) -> None:
        from credctl.settings import change_file

        if revision is None:
            return
        entry = [username, revision, str(exp or "")]
        self.known[f"{store} {key}"] = entry
        try:
            change_file(self.path, lambda data: data.__setitem__(f"{store} {key}", entry))
        except (CredctlError, OSError):
            pass  # a cache that cannot be written costs the next listing a decryption


def of_login(helper: str, key: str, username: str, secret: str | None, environ=os.environ) -> Expiry | None:
    """When the login helper gave for key expires: for credctl's ACR helper (or a profile, or the
    router's route to one) the expiry of the token its cache holds for that identity (never a new
    one asked for); else expiry_of's answer for the login."""
    from credctl.helperstore import acr_environ

    acr = acr_environ(_behind(helper, key, environ), environ)
    issued = _cached_token_expiry(key, acr) if acr is not None else None
    return expiry_of(key, username, secret, issued, environ)


def _behind(helper: str, key: str, environ) -> str:
    """The helper that answers for key behind helper: the router's route's (canonical names)."""
    from credctl.stores import ROUTERS, canonical

    name = canonical(helper)
    if name in ROUTERS:
        from credctl.routes import Routes

        rule = Routes.load(environ).route_for(key, environ)
        return canonical(rule.helper) if rule is not None else ""
    return name


def _cached_token_expiry(key: str, acr_environ: dict[str, str]) -> int | None:
    """The expiry of the token credctl's ACR cache holds for key's registry under acr_environ's
    identity (the one the helper would serve), None for none."""
    from credctl.acr import cache
    from credctl.acr.login import identity
    from credctl.errors import CredctlError
    from credctl.names import bare_host

    try:
        owner = cache.owner_of(identity(acr_environ))
    except CredctlError:
        return None
    domain = bare_host(key)
    found = [
        token.expires for _path, token in cache.tokens(acr_environ) if token.domain == domain and token.owner == owner
    ]
    return max(found) if found else None
