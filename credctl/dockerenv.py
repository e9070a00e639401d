"""DOCKER_AUTH_CONFIG: logins docker takes from the environment, over every file and helper.

docker/cli 28.3.0 and later (cli/config/configfile/file.go: GetCredentialsStore, parseEnvConfig;
cli/config/memorystore/store.go) read the variable whenever they need a login: a JSON document
holding only `auths`, each entry only an `auth` (base64 of user:password). A registry whose key
it holds gets that login whatever config.json's credHelpers, credsStore or auths say; the key is
matched exactly, as docker asks for it (host[:port], Docker Hub as https://index.docker.io/v1/).
Anything else in the document (a username or password field, credsStore, credHelpers, a second
JSON value, an entry without `auth`, an `auth` that is not base64 of user:password) makes docker
print "Failed to create credential store from DOCKER_AUTH_CONFIG" and ignore the whole variable.
An empty variable is unset. `docker login` and `docker logout` still write to the files and
helpers beneath (the memory store writes through), so a `docker login` with no username while
the variable is set copies its login into config.json's store. Docker 28.2 and older never read it,
nor does containers/image (Podman, Buildah, Skopeo: measured with Skopeo 1.9).

Every rule here was checked against the real docker 28.5 CLI (tests/test_docker_auth_config.py).
"""

from __future__ import annotations

import os

from credctl.dockerconfig import _go_fold, plaintext_credentials
from credctl.errors import ConfigError
from credctl.gojson import JSON_SPACE, JSONObject, json_type, valid_unicode
from credctl.names import helper_key, is_hub_bookkeeping

VARIABLE = "DOCKER_AUTH_CONFIG"
SINCE = "docker 28.3 and later"  # the first docker/cli release that reads it: v28.3.0


class EnvLogin:
    """One login of the variable: the key it is held under, its username and secret."""

    __slots__ = ("key", "secret", "username")

    def __init__(self, key: str, username: str, secret: str) -> None:
        self.key, self.username, self.secret = key, username, secret


class DockerAuthConfig:
    """What docker makes of a set DOCKER_AUTH_CONFIG: its logins by key, or why it ignores them all.

    problem: None when docker uses the logins; else the reason docker ignores the variable,
    one line that never quotes the value (it may hold secrets)."""

    def __init__(self, logins: dict[str, EnvLogin], problem: str | None = None) -> None:
        self.logins, self.problem = ({}, problem) if problem else (logins, None)

    def login_for(self, registry: str) -> EnvLogin | None:
        """The login docker takes from the variable when it asks for registry's key (names.helper_key;
        a Docker Hub bookkeeping key is asked for as it is), or None."""
        key = registry if is_hub_bookkeeping(registry) else helper_key(registry)
        return self.logins.get(key)

    @property
    def used(self) -> list[EnvLogin]:
        """The logins docker can find: those under a key docker asks for, in the variable's order."""
        return [login for login in self.logins.values() if asked(login.key)]

    @property
    def unused(self) -> list[EnvLogin]:
        """The logins under a key docker never asks for (docker.io, https://host, host/v2/...)."""
        return [login for login in self.logins.values() if not asked(login.key)]

    @property
    def summary(self) -> str:
        """One line for people: what the variable does (never a secret)."""
        if self.problem:
            return f"{VARIABLE} is set, but docker ignores it ({self.problem}) and uses its config files and helpers"
        keys = [login.key for login in self.used]
        if not keys:
            return f"{VARIABLE} is set and holds no login docker looks up: it overrides nothing"
        return f"{VARIABLE} is set: {SINCE} use its login for {', '.join(keys)} over every file and helper"


def asked(key: str) -> bool:
    """Whether docker ever asks the variable for key: the key it looks a registry up by
    (names.helper_key), or a Docker Hub bookkeeping key."""
    return is_hub_bookkeeping(key) or helper_key(key) == key


def read(environ=os.environ) -> DockerAuthConfig | None:
    """DOCKER_AUTH_CONFIG as docker reads it from environ; None when unset or empty."""
    value = environ.get(VARIABLE, "")
    if not value:
        return None
    try:
        return DockerAuthConfig(_logins(value))
    except ValueError as err:
        return DockerAuthConfig({}, str(err))


def _logins(text: str) -> dict[str, EnvLogin]:
    """parseEnvConfig's answer: the logins of text, or ValueError with docker's reason (never the text)."""
    start = len(text) - len(text.lstrip(JSON_SPACE))
    if start == len(text):
        return {}  # json.Decoder.Decode answers io.EOF, which docker takes as "no logins"
    document, end = _first_value(text, start)
    auths = _auths(document)
    rest = text[end:].lstrip(JSON_SPACE)
    if rest and rest[0] not in "]}":  # json.Decoder.More: only these end "the current value"
        raise ValueError("it holds more than one JSON value")
    logins = {}
    for key, auth in auths.items():
        if not auth:
            raise ValueError(f"its entry for {key} has no `auth`")
        try:
            username, secret = plaintext_credentials({"auth": auth.replace("\r", "").replace("\n", "")}) or ("", "")
        except ConfigError as err:
            raise ValueError(f"its entry for {key}: {err}") from None
        logins[key] = EnvLogin(key, username, secret)
    return logins


def _first_value(text: str, start: int) -> tuple[object, int]:
    import json  # list and verify only: never on a helper's path

    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    decoder = json.JSONDecoder(object_pairs_hook=JSONObject, parse_constant=refuse)
    try:
        return decoder.raw_decode(text, start)
    except json.JSONDecodeError as err:
        raise ValueError(f"it is not valid JSON: {err.msg} at character {err.pos}") from None
    except RecursionError:
        raise ValueError("it is not valid JSON: nested too deeply") from None


def _auths(document: object) -> dict[str, str]:
    """The document decoded into docker's configEnv struct (registry key → auth), with Go's rules:
    field names in any case, unknown fields refused (DisallowUnknownFields), a repeated `auths`
    adding to the same map, null leaving a field as it was (an `auths` null: no map at all)."""
    if document is None:
        return {}
    if not isinstance(document, JSONObject):
        raise ValueError(f"it is {json_type(document)}, not a JSON object")
    auths: dict[str, str] | None = None
    for name, value in document:
        if _go_fold(name) != "auths":
            raise ValueError("it holds more than `auths` (docker reads no credsStore or credHelpers from it)")
        if value is None:
            auths = None
        elif isinstance(value, JSONObject):
            auths = {} if auths is None else auths
            for key, entry in value:
                auths[valid_unicode(key)] = _auth(key, entry)
        else:
            raise ValueError(f"its `auths` is {json_type(value)}, not an object")
    return auths or {}


def _auth(key: str, entry: object) -> str:
    """An auths entry decoded into configEnvAuth: its `auth`, "" when it has none."""
    if entry is None:
        return ""
    if not isinstance(entry, JSONObject):
        raise ValueError(f"its entry for {key} is {json_type(entry)}, not an object")
    auth = ""
    for name, value in entry:
        if _go_fold(name) != "auth":
            raise ValueError(f"its entry for {key} holds more than `auth` (docker takes no username or password there)")
        if isinstance(value, str):
            auth = valid_unicode(value)
        elif value is not None:
            raise ValueError(f"the `auth` of its entry for {key} is {json_type(value)}, not a string")
    return auth
