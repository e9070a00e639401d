"""The Docker credential-helper protocol, written once for every store.

A helper is run as `docker-credential-<name> ACTION`; the data travels on stdin and stdout.
Everything printed is byte-identical to docker-credential-helpers v0.9 (Go): compact JSON in
the field order ServerURL, Username, Secret with Go's escaping and a trailing newline; errors
as one line on stdout and exit status 1.

respond() answers one invocation over any Store (tests drive it with one in memory); serve() is
what the programs run: the real stdin and stdout, and the store they are named after.

Standard library only, and only its cheap parts (no json, re or subprocess on get/list):
Docker starts a helper process for every registry it touches.
"""

from __future__ import annotations

import sys

from credctl import __version__
from credctl.errors import BadInput, CredentialsNotFound, MissingServerURL, MissingUsername, one_line
from credctl.gojson import JSON_SPACE, first_json_value, json_string, needs_no_escape, string_fields
from credctl.helperinput import join_lines, read_input, server_url_in
from credctl.names import login_keys
from credctl.process import keep_secrets_in_memory
from credctl.stores import open_store, program_name
from credctl.stores.base import Health, Store

ACTIONS = "store|get|erase|list|version"


def encode_credentials(server_url: str, username: str, secret: str) -> bytes:
    """The JSON line Go's json.Encoder writes for a Credentials struct."""
    body = (
        f'{{"ServerURL":{json_string(server_url)},"Username":{json_string(username)},"Secret":{json_string(secret)}}}\n'
    )
    return body.encode("utf-8")


def encode_listing(listing: dict[str, str]) -> bytes:
    """A map[string]string as Go encodes it: keys sorted by their bytes."""
    text = "".join(listing) + "".join(listing.values())
    if needs_no_escape(text):
        # Nothing to escape, and ASCII sorts by code point as by byte: 1,000 entries in 0.1 ms.
        pairs = ",".join([f'"{key}":"{listing[key]}"' for key in sorted(listing)])
    else:
        keys = sorted(listing, key=lambda key: key.encode("utf-8", "surrogateescape"))
        pairs = ",".join(f"{json_string(key)}:{json_string(listing[key])}" for key in keys)
    return ("{" + pairs + "}\n").encode("utf-8")


def read_server_url(stdin) -> str:
    url = server_url_in(read_input(stdin))
    if not url:
        raise MissingServerURL()
    return url


CREDENTIAL_FIELDS = ("ServerURL", "Username", "Secret")


def parse_credentials(data: bytes) -> tuple[str, str, str]:
    """Decode `store` input like Go's json.Decoder into a Credentials struct and validate it."""
    text = join_lines(data).decode("utf-8", "replace")
    if not text.strip(JSON_SPACE):
        raise BadInput("no credentials on stdin: expected a JSON object with ServerURL, Username and Secret")
    try:
        fields = string_fields(first_json_value(text), CREDENTIAL_FIELDS)
    except ValueError as err:
        raise BadInput(f"credentials on stdin: {err}") from None
    server_url, username, secret = (fields.get(name, "") for name in CREDENTIAL_FIELDS)
    if not server_url:
        raise MissingServerURL()
    if not username:
        raise MissingUsername()
    return server_url, username, secret


def _store(store: Store, stdin) -> bytes:
    server_url, username, secret = parse_credentials(read_input(stdin))
    store_login(store, server_url, username, secret)
    return b""


def _get(store: Store, stdin) -> bytes:
    server_url = read_server_url(stdin)
    username, secret = get_with_hub_fallback(store, server_url)
    return encode_credentials(server_url, username, secret)


# One Docker Hub login, whichever of Hub's keys a tool sends (names.login_keys): Docker stores
# and erases https://index.docker.io/v1/, Podman and Skopeo docker.io. get falls back to another
# key, store leaves no stale copy under another, erase removes every copy, so `docker logout`
# and `podman logout docker.io` each log out of Hub for every tool that asks this store.


def get_with_hub_fallback(backend, server_url: str) -> tuple[str, str]:
    """backend.get, where any Docker Hub key finds a login stored under another one."""
    for key in login_keys(server_url):
        try:
            return backend.get(key)
        except CredentialsNotFound:
            continue
    raise CredentialsNotFound()


def store_login(backend, server_url: str, username: str, secret: str) -> None:
    """backend.add, then the same login's copies under other keys removed (after the add: a
    failed add loses nothing)."""
    backend.add(server_url, username, secret)
    for key in login_keys(server_url)[1:]:
        backend.delete(key)


def erase_login(backend, server_url: str) -> None:
    """backend.delete under every key of the login. Nothing stored is success, in every store
    (Store.delete): containers/image's logout crashes on a helper's "not found" (docs/helper-protocol.md)."""
    for key in login_keys(server_url):
        backend.delete(key)


def _erase(store: Store, stdin) -> bytes:
    erase_login(store, read_server_url(stdin))
    return b""


def _list(store: Store, stdin) -> bytes:
    return encode_listing(store.list())


_HANDLERS = {"store": _store, "get": _get, "erase": _erase, "list": _list}


def _line(text: str) -> bytes:
    """One output line; argv and URLs may carry raw bytes (surrogateescape), echoed as given."""
    text = text.replace("\r", " ").replace("\n", " ") + "\n"
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def respond(store: Store, program: str, args: list[str], stdin, stdout) -> int:
    """Run one helper invocation of program (the docker-credential-* name it answers as) on
    store; args are without the program name. Returns the exit status."""
    usage = f"Usage: {program} <{ACTIONS}>"
    if len(args) != 1:
        output, status = _line(usage), 1
    elif args[0] in ("version", "--version", "-v"):
        output, status = f"{program} (credctl) {__version__}\n".encode(), 0
    elif args[0] in ("--help", "-h"):
        output, status = _line(usage), 0
    elif args[0] not in _HANDLERS:
        output, status = _line(f"{program}: unknown action: {args[0]}"), 1
    else:
        output, status = _run(_HANDLERS[args[0]], store, stdin, f"{program} {args[0]}")
    stdout.write(output)
    stdout.flush()
    return status


def _run(handler, store: Store, stdin, what: str) -> tuple[bytes, int]:
    """The handler's output and 0; for any failure, its one line and 1 (as Go's helpers exit)."""
    try:
        return handler(store, stdin), 0
    except (Exception, KeyboardInterrupt) as err:  # never a traceback in helper mode
        return _line(one_line(err, what)), 1


class _OpenedOnFirstUse(Store):
    """The named store, opened when an action first needs it: `version`, `--help` and a usage
    error import no store module, and a store that cannot be opened fails as its actions do
    (one line, exit status 1)."""

    __slots__ = ("_name", "_store")

    def __init__(self, name: str) -> None:
        self._name, self._store = name, None

    def _opened(self) -> Store:
        if self._store is None:
            self._store = open_store(self._name)
        return self._store

    def add(self, server_url: str, username: str, secret: str) -> None:
        self._opened().add(server_url, username, secret)

    def get(self, server_url: str) -> tuple[str, str]:
        return self._opened().get(server_url)

    def delete(self, server_url: str) -> None:
        self._opened().delete(server_url)

    def list(self) -> dict[str, str]:
        return self._opened().list()

    def health(self) -> Health:
        return self._opened().health()


def serve(store_name: str, args: list[str], input: bytes | None = None) -> int:
    """Entry for the docker-credential-* programs: real stdin/stdout, Go's exit statuses.
    input: what was read from stdin already (a store's head start), in place of stdin.

    Raises UnknownStore (before reading or writing anything) if there is no such store.
    """
    program = program_name(store_name)
    if args[:1] in (["get"], ["store"]):  # the actions that hold a secret (list: usernames only)
        keep_secrets_in_memory()
    if input is not None:
        import io

        stdin = io.BytesIO(input)
    else:
        stdin = sys.stdin.buffer if sys.stdin is not None else None
    if stdin is not None and args[:1] in (["get"], ["erase"], ["store"]) and stdin.isatty():
        # Go's helpers wait silently here, which users mistake for a hang (docker/docker-credential-helpers#184).
        sys.stderr.write("reading from stdin; end the input with Ctrl-D\n")
    try:
        return respond(_OpenedOnFirstUse(store_name), program, args, stdin, sys.stdout.buffer)
    except BrokenPipeError:
        # Whoever ran us stopped reading; say nothing more (not even at interpreter exit).
        sys.stdout = None
        return 1
