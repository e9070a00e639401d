"""The routing helper's rules: which helper serves a registry under credsStore `credctl`.

Docker and Podman route per exact host (credHelpers) or send everything to one store
(credsStore). docker-credential-credctl (credctl.router) is one credsStore that routes by
the rules kept here, in credctl's settings.json:

    "routes": {"PATTERN": "HELPER", ...}, "route_default": "HELPER", "route_timeout": SECONDS

A PATTERN is `host`, `host:port` or a glob whose `*` stands for part of one DNS label, as the
kubelet matches matchImages entries (pkg/credentialprovider/keyring.go URLsMatch: as many
dot-separated parts as the host, each matched by filepath.Match). Docker Hub is `docker.io`,
whichever of its keys a tool sends. A registry is served by, in this order:

1. the rule for its exact host:port;
2. the rule for its exact host (a host rule covers every port of that host);
3. the most specific glob that matches it (one with a port matches that port only; more
   literal characters win, then fewer `*`);
4. for an Alibaba Cloud Container Registry domain (credctl.acr.domains.find_registry), `acr`;
5. the default route; no default: no route, and `get` answers "credentials not found" at once.

A HELPER is a credctl store, an ACR profile (acr-helper-NAME) or any other helper's suffix;
credctl.helperstore turns one into the store that answers.

Standard library only, and cheap: the router reads this on every call Docker makes.
"""

from __future__ import annotations

from credctl import settings
from credctl.errors import UsageError
from credctl.names import DOCKER_HUB_KEYS, PODMAN_HUB, ROUTER, is_docker_hub, registry_host
from credctl.posixfs import ENVIRON

ROUTES_SETTING = "routes"
DEFAULT_SETTING = "route_default"
TIMEOUT_SETTING = "route_timeout"
DEFAULT_TIMEOUT = 15.0  # seconds another helper program may take to answer the router
DEFAULT_PATTERN = "*"  # how the default route is shown

# Rule.kind, in precedence order.
HOST_PORT, HOST, GLOB, ACR, DEFAULT = "host:port", "host", "glob", "acr", "default"
_API_PATHS = ("", "/", "/v1", "/v1/", "/v2", "/v2/")
_LABEL_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_*")
_EXAMPLES = "give a host, host:port or a glob such as *.example.com"


class Rule:
    """One route: pattern (as stored), helper (the suffix that answers), kind (why it applies)."""

    __slots__ = ("helper", "kind", "pattern")

    def __init__(self, pattern: str, helper: str, kind: str) -> None:
        self.pattern, self.helper, self.kind = pattern, helper, kind

    @property
    def why(self) -> str:
        """One line for people: why this rule serves a registry."""
        if self.kind == HOST_PORT:
            return f"the rule for exactly {self.pattern}"
        if self.kind == HOST:
            return f"the rule for host {self.pattern} (any port)"
        if self.kind == GLOB:
            return f"the glob rule {self.pattern}"
        if self.kind == ACR:
            return "an Alibaba Cloud Container Registry domain: ACR serves it unless a rule says otherwise"
        return "the default route: no rule matches"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and (self.pattern, self.helper, self.kind) == (
            other.pattern,
            other.helper,
            other.kind,
        )

    def __repr__(self) -> str:
        return f"Rule({self.pattern!r}, {self.helper!r}, {self.kind!r})"


# --- names --------------------------------------------------------------------------------------


def routing_name(server_url: str) -> str:
    """What a client sent (a credHelpers-style key, a URL, Docker Hub by any of its keys, Hub's
    OAuth bookkeeping keys), as the rules see it: `docker.io` for Docker Hub, else host[:port]
    in lower case."""
    if is_docker_hub(server_url):
        return PODMAN_HUB
    return registry_host(server_url).lower()


def _split(name: str) -> tuple[str, str]:
    """(host, port) of a host[:port] name; an IPv6 literal keeps its brackets."""
    if name.startswith("["):
        end = name.find("]")
        rest = name[end + 1 :] if end >= 0 else ""
        return name[: end + 1] if end >= 0 else name, rest[1:] if rest.startswith(":") else ""
    host, _, port = name.partition(":")
    return host, port


def pattern_problem(text: str) -> str | None:
    """Why text cannot be a route pattern (one line), or None when it can."""
    try:
        normalized_pattern(text)
    except UsageError as err:
        return str(err)
    return None


def normalized_pattern(text: str) -> str:
    """The pattern as stored and matched: scheme and API path dropped, lower case, Docker Hub's
    keys as docker.io. UsageError, one line saying why, for anything that is not a pattern."""
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"the pattern is empty: {_EXAMPLES}")
    if any(char.isspace() or not char.isprintable() for char in stripped):
        raise UsageError(f"{text!r} is not a pattern: it contains a space or a control character")
    if stripped in DOCKER_HUB_KEYS:
        return PODMAN_HUB
    scheme, separator, address = stripped.partition("://")
    if separator and scheme.lower() not in ("http", "https"):
        raise UsageError(f"{text!r} is not a pattern: only an http:// or https:// URL can name a registry")
    host_port, slash, path = (address if separator else stripped).partition("/")
    if (slash + path).lower() not in _API_PATHS:
        raise UsageError(f"{text!r} names a repository, but routes serve whole registries: give {host_port}")
    name = host_port.lower()
    if is_docker_hub(name):
        return PODMAN_HUB
    if name == DEFAULT_PATTERN:
        raise UsageError("`*` alone is the default route: set it with `credctl route default HELPER`")
    _check_name(text, name)
    return name


def _check_name(text: str, name: str) -> None:
    host, port = _split(name)
    if port and not (port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        raise UsageError(f"{text!r} is not a pattern: the port must be a number up to 65535")
    if name.count(":") > (1 if port else 0) and not host.startswith("["):
        raise UsageError(f"{text!r} is not a pattern: {_EXAMPLES}")
    if host.startswith("[") and host.endswith("]") and ":" in host:
        if "*" in host or not all(char in "0123456789abcdef:." for char in host[1:-1]):
            raise UsageError(f"{text!r} is not a pattern: an IPv6 address goes in brackets, with no `*`")
        return
    for label in host.split("."):
        if not label:
            raise UsageError(f"{text!r} is not a pattern: a host name has no empty parts ({_EXAMPLES})")
        if not set(label) <= _LABEL_CHARACTERS:
            raise UsageError(
                f"{text!r} is not a pattern: a host name holds letters, digits, '-' and '_'; "
                "`*` (within one part) is the only wildcard"
            )
    from credctl.gostd import GoError, parse_schemeless_url  # the kubelet's own parser: it must take it too

    try:
        parse_schemeless_url(name)
    except GoError as err:
        raise UsageError(f"{text!r} is not a pattern: {err}") from None


def kind_of(pattern: str) -> str:
    """HOST_PORT, HOST or GLOB for a normalized pattern."""
    host, port = _split(pattern)
    if "*" in host:
        return GLOB
    return HOST_PORT if port else HOST


def _glob_order(pattern: str) -> tuple:
    """Most specific first: a port, then more literal characters, then fewer `*`, then by name."""
    host, port = _split(pattern)
    return (not port, -len(host.replace("*", "")), host.count("*"), pattern)


def _glob_matches(pattern: str, name: str) -> bool:
    glob_host, glob_port = _split(pattern)
    host, port = _split(name)
    if glob_port and glob_port != port:
        return False
    glob_parts, parts = glob_host.split("."), host.split(".")
    if len(glob_parts) != len(parts):
        return False
    if any(char in glob_host for char in "?[\\"):  # a hand-written glob beyond `*`: filepath.Match itself
        from credctl.gostd import path_match

        return all(map(path_match, glob_parts, parts))
    return all(map(_star_match, glob_parts, parts))


def _star_match(glob: str, text: str) -> bool:
    """filepath.Match for a glob whose only wildcard is `*` (what route add accepts; no '/' in a
    label), without loading credctl.gostd on Docker's path: tests/test_route_rules.py holds it
    to gostd.path_match."""
    pieces = glob.split("*")
    if len(pieces) == 1:
        return glob == text
    first, last = pieces[0], pieces[-1]
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    at, end = len(first), len(text) - len(last)
    for piece in pieces[1:-1]:  # the leftmost place of each middle piece leaves the most room for the rest
        found = text.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def helper_problem(helper: str) -> str | None:
    """Why helper cannot be a route's helper, or None when it can."""
    if not helper or "/" in helper or "\0" in helper or helper.strip() != helper:
        return (
            f"{helper!r} is not a helper name: give a credctl store (pass, secretservice, keyring, acr) "
            "or another helper's suffix (ecr-login for docker-credential-ecr-login)"
        )
    if helper == ROUTER:
        return "a route to credctl would send the router to itself: give the store or helper that should answer"
    return None


# --- the rules ------------------------------------------------------------------------------------


class Routes:
    """The routing rules in credctl's settings: rules (pattern → helper), the default route's
    helper (None: hosts no rule matches have no route) and the bound on another program's answer."""

    __slots__ = ("default", "found", "rules", "timeout")

    def __init__(
        self,
        rules: dict[str, str],
        default: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        found: dict | None = None,
    ) -> None:
        self.rules, self.default, self.timeout = rules, default, timeout
        self.found = found  # the settings these came from, for their custom ACR domains (None: read when asked)

    @classmethod
    def load(cls, environ=ENVIRON) -> Routes:
        """The rules as settings.json has them; entries that are not pattern → helper strings are
        ignored (a hand-edited file never stops Docker)."""
        return cls.from_settings(settings.load(environ))

    @classmethod
    def from_settings(cls, found: dict) -> Routes:
        rules = found.get(ROUTES_SETTING)
        rules = {p: h for p, h in rules.items() if isinstance(h, str) and h} if isinstance(rules, dict) else {}
        default = found.get(DEFAULT_SETTING)
        default = default if isinstance(default, str) and default else None
        return cls(rules, default, _timeout(found), found)

    def ordered(self) -> list[Rule]:
        """Every rule in precedence order, the default last as pattern `*` (the built-in ACR
        rule is not among them: it applies to ACR domains no rule names)."""
        exact = sorted((p for p in self.rules if kind_of(p) != GLOB), key=lambda p: (kind_of(p) != HOST_PORT, p))
        globs = sorted((p for p in self.rules if kind_of(p) == GLOB), key=_glob_order)
        found = [Rule(p, self.rules[p], kind_of(p)) for p in (*exact, *globs)]
        if self.default:
            found.append(Rule(DEFAULT_PATTERN, self.default, DEFAULT))
        return found

    def route_for(self, server_url: str, environ=ENVIRON) -> Rule | None:
        """The rule that serves server_url (in the module docstring's order), or None."""
        name = routing_name(server_url)
        host, port = _split(name)
        if port and name in self.rules:
            return Rule(name, self.rules[name], HOST_PORT)
        if host in self.rules:
            return Rule(host, self.rules[host], HOST)
        globs = sorted((p for p in self.rules if "*" in p), key=_glob_order)
        for pattern in globs:
            if _glob_matches(pattern, name):
                return Rule(pattern, self.rules[pattern], GLOB)
        if _is_acr(server_url, environ, self.found):
            return Rule(host, "acr", ACR)
        if self.default:
            return Rule(DEFAULT_PATTERN, self.default, DEFAULT)
        return None

    def helpers(self) -> list[str]:
        """Each helper a route names, once, in precedence order (the built-in `acr` last but one)."""
        named = [rule.helper for rule in self.ordered() if rule.kind != DEFAULT]
        named.append("acr")
        if self.default:
            named.append(self.default)
        return list(dict.fromkeys(named))


def _timeout(found: dict) -> float:
    """route_timeout in seconds: a JSON number (settings keep its text: gojson.Number) or a
    numeric string, more than 0 and at most an hour; anything else is the default."""
    from credctl.gojson import Number

    value = found.get(TIMEOUT_SETTING)
    text = value.text if isinstance(value, Number) else value if isinstance(value, str) else ""
    try:
        seconds = float(text)
    except ValueError:
        return DEFAULT_TIMEOUT
    return seconds if 0 < seconds <= 3600 else DEFAULT_TIMEOUT


def _is_acr(server_url: str, environ, found: dict | None) -> bool:
    """Whether server_url is an ACR domain, by name or as a custom domain of the settings found
    (already read: None reads them)."""
    from credctl.acr.domains import domains_in, find_registry  # the domain rules alone: not ACR's tokens or cache
    from credctl.errors import CredentialsNotFound

    try:
        find_registry(server_url, environ, None if found is None else domains_in(found))
    except CredentialsNotFound:
        return False
    return True


# --- editing them ---------------------------------------------------------------------------------


def set_rules(changes: dict[str, str | None], environ=ENVIRON) -> None:
    """Set (helper) or remove (None) rules by pattern, all at once, under settings.json's lock.
    Patterns and helpers are checked first: a refused one changes nothing."""
    from credctl.stores import canonical

    checked: dict[str, str | None] = {}
    for pattern, helper in changes.items():
        if helper is not None:
            _check_helper(helper)
            helper = canonical(helper)
        checked[normalized_pattern(pattern)] = helper

    def change(found: dict) -> None:
        rules = found.get(ROUTES_SETTING)
        rules = dict(rules) if isinstance(rules, dict) else {}
        for pattern, helper in checked.items():
            if helper is None:
                rules.pop(pattern, None)
            else:
                rules[pattern] = helper
        found[ROUTES_SETTING] = rules if rules else None

    settings.change(change, environ)


def add(pattern: str, helper: str, environ=ENVIRON) -> str:
    """Route pattern to helper; returns the pattern as stored."""
    stored = normalized_pattern(pattern)
    set_rules({stored: helper}, environ)
    return stored


def stored_form(pattern: str, environ=ENVIRON) -> str:
    """pattern as the rules hold it: itself when a rule has exactly that key (one written by
    hand, perhaps no pattern a command would take), else normalized_pattern(pattern)."""
    if pattern in Routes.load(environ).rules:
        return pattern
    return normalized_pattern(pattern)


def remove(pattern: str, environ=ENVIRON) -> bool:
    """Remove the rule for pattern (`*`: the default route; a hand-written key as it is
    written); whether there was one."""
    if pattern.strip() == DEFAULT_PATTERN:
        had = Routes.load(environ).default is not None
        settings.update(environ, **{DEFAULT_SETTING: None})
        return had
    stored = stored_form(pattern, environ)
    had = stored in Routes.load(environ).rules

    def change(found: dict) -> None:
        rules = found.get(ROUTES_SETTING)
        if isinstance(rules, dict):
            found[ROUTES_SETTING] = {key: value for key, value in rules.items() if key != stored} or None

    settings.change(change, environ)
    return had


def set_default(helper: str, environ=ENVIRON) -> str:
    """Make helper the default route (hosts no rule matches); returns it as stored."""
    from credctl.stores import canonical

    _check_helper(helper)
    stored = canonical(helper)
    settings.update(environ, **{DEFAULT_SETTING: stored})
    return stored


def _check_helper(helper: str) -> None:
    problem = helper_problem(helper)
    if problem:
        raise UsageError(problem)


# -- docker-credential-credctl get's head start -------------------------------------------------

_early: list[Routes] = []  # the routes start_early read, for this process's RouterStore


def start_early() -> bytes | None:
    """The router's `get` where the route is credctl's pass store: gpg starts decrypting the
    entry before the rest of the router loads, as docker-credential-pass's does
    (passread.start_early). Before the route is known, only this module and settings load."""
    from credctl.helperinput import read_early

    data, server_url = read_early()
    if server_url and _served_by_pass(server_url, ENVIRON):
        from credctl.stores import passread

        passread.begin(server_url, ENVIRON)
    return data


def _served_by_pass(server_url: str, environ) -> bool:
    from credctl.errors import CredctlError
    from credctl.stores import canonical

    try:
        routes = Routes.load(environ)
        rule = routes.route_for(server_url, environ)
    except CredctlError:
        return False  # RouterStore reads them again, and says what is wrong
    _early.append(routes)
    return rule is not None and canonical(rule.helper) == "pass"


def early_routes() -> Routes | None:
    """The routes start_early read (once), or None."""
    return _early.pop() if _early else None
