"""The plaintext logins and credHelpers entries of every file Docker and Podman read: the one
answer `credctl list`, `verify` and `migrate` ask.

Docker reads one config.json (--config, $DOCKER_CONFIG, ~/.docker). Podman, Buildah and Skopeo
(containers/image) read the files of podman.auth_files in their order, Docker's config.json
among them, ~/.dockercfg (a bare map of auths) last. A file both read is one Source, read once.

For one registry (or namespace) containers/image takes the first file that answers
(pkg/docker/config getCredentialsWithHomeDir, findCredentialsInFile): in each file a credHelpers
entry for the host first, then the auths keys, most specific first. So a login in a later file for
a scope an earlier file already gives a login for is never used by Podman: Login.shadowed_by names
that earlier file.

Nothing here runs a helper or prints: commands decide what to show.
"""

from __future__ import annotations

import os

from credctl import podman
from credctl.dockerconfig import ConfigFile, auth_fields, plaintext_credentials, without_credentials
from credctl.errors import ConfigError
from credctl.names import helper_key

DOCKER = "docker"  # Source.readers: Docker's CLI reads the file
PODMAN = "podman"  # Podman, Buildah and Skopeo read it


class Source:
    """One file Docker or Podman reads logins from, as read now.

    readers: DOCKER and/or PODMAN. role: its podman.AuthFile role ("" for a Docker config Podman
    does not read). legacy: ~/.dockercfg's format. config: the parsed file (None when it cannot be
    read: then error says why, in one line)."""

    __slots__ = ("config", "error", "legacy", "path", "readers", "role")

    def __init__(self, path: str, readers: tuple[str, ...], role: str = "", legacy: bool = False) -> None:
        self.path, self.readers, self.role, self.legacy = path, readers, role, legacy
        self.config: ConfigFile | None = None
        self.error = ""

    @property
    def auths(self) -> dict[str, object]:
        """The file's logins by key: its auths, or for ~/.dockercfg the whole file."""
        if self.config is None:
            return {}
        return self.config.data if self.legacy else self.config.auths

    @property
    def helpers(self) -> dict[str, str]:
        """credHelpers (~/.dockercfg has none)."""
        return {} if self.config is None or self.legacy else self.config.helpers


class Login:
    """A plaintext login of one Source.

    key: the auths key as written. registry, namespace: what it gives Podman a login for
    (podman.auth_key_scope; for a Docker-only file the namespace is ""). username, secret: the
    login (both "" with error set when Docker would reject the entry). shadowed_by: the earlier
    file Podman reads for the same scope, whose login it uses instead ("" when this one counts)."""

    __slots__ = ("entry", "error", "key", "namespace", "registry", "secret", "shadowed_by", "source", "username")

    def __init__(self, source: Source, key: str, entry: object) -> None:
        self.source, self.key, self.entry = source, key, entry
        if PODMAN in source.readers:
            self.registry, self.namespace = podman.auth_key_scope(key, source.legacy)
        else:
            self.registry, self.namespace = helper_key(key), ""
        self.username = self.secret = self.error = self.shadowed_by = ""
        try:
            found = plaintext_credentials(entry)
        except ConfigError as err:
            self.error = str(err)
        else:
            if found is not None:
                self.username, self.secret = found

    @property
    def podman_reads(self) -> bool:
        """Whether containers/image decodes this entry: it reads an `auth` field alone (its
        dockerAuthConfig has no username and password; podman 4.3 answers `not logged into` for an
        entry with only those, or with an identitytoken and no auth)."""
        return isinstance(self.entry, dict) and bool(auth_fields(self.entry).get("auth"))

    @property
    def scope(self) -> str:
        """registry, or registry/namespace: what Podman matches this login for."""
        return f"{self.registry}/{self.namespace}" if self.namespace else self.registry


def sources(docker_path: str, environ=os.environ) -> list[Source]:
    """Docker's config (docker_path) first, then every other file Podman reads, in its order;
    each file once (Docker's config is also Podman's when the paths name one file). Each is read:
    one that cannot be is kept, with its error."""
    docker_real = os.path.realpath(docker_path)
    files = podman.auth_files(environ)
    shared = next((file for file in files if os.path.realpath(file.path) == docker_real), None)
    found = [Source(docker_path, (DOCKER, PODMAN) if shared else (DOCKER,), shared.role if shared else "")]
    found += [Source(file.path, (PODMAN,), file.role, file.legacy) for file in files if file is not shared]
    for source in found:
        _read(source)
    return found


def podman_order(all_sources: list[Source], environ=os.environ) -> list[Source]:
    """The sources Podman reads, in its order (podman.auth_files)."""
    order = [os.path.realpath(file.path) for file in podman.auth_files(environ)]
    readable = [source for source in all_sources if PODMAN in source.readers]
    return sorted(readable, key=lambda source: order.index(os.path.realpath(source.path)))


def _read(source: Source) -> None:
    try:
        source.config = ConfigFile.read(source.path)
    except ConfigError as err:
        source.error = str(err)
        return
    if source.legacy:
        bad = [key for key, value in source.config.data.items() if not isinstance(value, dict)]
        if bad:
            source.config, source.error = None, f"{source.path}: {bad[0]!r} must be an object: fix it"


def plaintext_logins(all_sources: list[Source], environ=os.environ) -> list[Login]:
    """Every plaintext login (and every entry whose login cannot be decoded) of the sources, file
    by file, each with shadowed_by set by Podman's read order."""
    logins = [
        Login(source, key, entry)
        for source in all_sources
        for key, entry in source.auths.items()
        if _holds_login(entry)
    ]
    first: dict[str, str] = {}  # scope -> the file Podman takes it from
    for source in podman_order(all_sources, environ):
        for login in logins:
            if login.source is source and not login.error and login.podman_reads:
                if login.scope in first and first[login.scope] != source.path:
                    login.shadowed_by = first[login.scope]
                first.setdefault(login.scope, source.path)
    return logins


def _holds_login(entry: object) -> bool:
    """An entry with a login in it (or one that cannot be decoded), not Docker's `{}` marker."""
    try:
        return plaintext_credentials(entry) is not None
    except ConfigError:
        return True


def podman_helper(registry: str, all_sources: list[Source], helpers: tuple[str, ...], environ=os.environ) -> str:
    """The helper Podman asks for registry's login once no auth file holds it in plaintext, "" for
    none (podman_helper_at)."""
    return podman_helper_at(registry, all_sources, helpers, environ)[0]


def podman_helper_at(
    registry: str, all_sources: list[Source], helpers: tuple[str, ...], environ=os.environ
) -> tuple[str, str]:
    """(helper, the auth file whose credHelpers entry names it) Podman asks for registry's login
    once no auth file holds it in plaintext: the first of registries.conf's credential-helpers
    (helpers: podman.credential_helpers) that is a program (file ""), or, at the auth files' place
    in that list, the first credHelpers entry for the host in the files Podman reads; ("", "")
    for none."""
    for helper in helpers:
        if helper != podman.AUTH_FILES_HELPER:
            return helper, ""
        for source in podman_order(all_sources, environ):
            if registry in source.helpers:
                return source.helpers[registry], source.path
    return "", ""


def helper_first(login: Login, all_sources: list[Source], helpers: tuple[str, ...], environ=os.environ) -> bool:
    """Whether Podman asks a helper for login's registry before it reads login (then the helper's
    login, when it holds one, is the one Podman uses now): a program before the auth files in
    helpers, or a credHelpers entry in login's file or an earlier one (in one file, credHelpers
    come before auths)."""
    for helper in helpers:
        if helper != podman.AUTH_FILES_HELPER:
            return True
        for source in podman_order(all_sources, environ):
            if login.registry in source.helpers:
                return True
            if source is login.source:
                return False
    return False


def strip(source: Source, config: ConfigFile, key: str) -> None:
    """Remove the login of config's entry key (config: source's file as read under its lock): the
    fields that hold it go; an entry left empty goes too (containers/image writes no `{}` marker)."""
    entries = config.data if source.legacy else config.auths
    rest = without_credentials(entries[key])
    if source.legacy:
        if rest:
            config.data[key] = rest
        else:
            del config.data[key]
    elif rest:
        config.set_auth(key, rest)
    else:
        config.remove_auth(key)


def entry_of(source: Source, config: ConfigFile, key: str) -> object:
    """config's entry for key as source's format holds it (None when there is none)."""
    return (config.data if source.legacy else config.auths).get(key)
