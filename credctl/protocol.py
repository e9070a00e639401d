"""The Docker credential-helper protocol, written once for every store.

A helper is run as `docker-credential-<name> ACTION`; the data travels on stdin and stdout.
Everything printed is byte-identical to docker-credential-helpers v0.9 (Go): compact JSON in
the field order ServerURL, Username, Secret with Go's escaping and a trailing newline; errors
as one line on stdout and exit status 1.

Standard library only, and only its cheap parts (no json, re or subprocess on get/list):
Docker starts a helper process for every registry it touches.
"""

import sys

from credctl import __version__
from credctl.errors import BadInput, CredctlError, CredentialsNotFound, MissingServerURL, MissingUsername
from credctl.names import DOCKER_HUB_KEYS
from credctl.quickjson import JSON_SPACE, json_string
from credctl.stores import open_store, program_name

ACTIONS = "store|get|erase|list|version"
MAX_INPUT = 1 << 20  # 1 MiB: far above any real token; Go reads without limit

# strings.TrimSpace in Go trims exactly unicode.IsSpace, which differs from str.strip().
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def encode_credentials(server_url: str, username: str, secret: str) -> bytes:
    """The JSON line Go's json.Encoder writes for a Credentials struct."""
    body = (
        f'{{"ServerURL":{json_string(server_url)},"Username":{json_string(username)},"Secret":{json_string(secret)}}}\n'
    )
    return body.encode("utf-8")


def encode_listing(listing: dict[str, str]) -> bytes:
    """A map[string]string as Go encodes it: keys sorted by their bytes."""
    keys = sorted(listing, key=lambda key: key.encode("utf-8", "surrogateescape"))
    pairs = ",".join(f"{json_string(key)}:{json_string(listing[key])}" for key in keys)
    return ("{" + pairs + "}\n").encode("utf-8")


def read_input(stdin) -> bytes:
    data = stdin.read(MAX_INPUT + 1) if stdin is not None else b""
    if len(data) > MAX_INPUT:
        raise BadInput(f"input on stdin is larger than {MAX_INPUT // 1024} KiB")
    return data


def join_lines(data: bytes) -> bytes:
    """What Go's bufio.Scanner loop makes of stdin: lines concatenated, \\n and one \\r dropped."""
    if b"\r" not in data:
        return data.replace(b"\n", b"")
    return b"".join(line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n"))


def read_server_url(stdin) -> str:
    url = join_lines(read_input(stdin)).decode("utf-8", "surrogateescape").strip(GO_SPACE)
    if not url:
        raise MissingServerURL()
    return url


class JSONObject(list):
    """A JSON object kept as its (key, value) pairs, so duplicate keys resolve as in Go."""


def first_json_value(text: str) -> object:
    """The first JSON value in text, read as Go's json.Decoder reads it: anything after it is
    ignored, NaN and Infinity are refused. Raises ValueError with a reason that never quotes text.
    """
    import json  # not needed on get/list

    start = len(text) - len(text.lstrip(JSON_SPACE))
    if start == len(text):
        raise ValueError("no JSON value")

    def refuse(constant: str) -> object:
        raise ValueError(f"not valid JSON: {constant} is not a JSON value")

    try:
        value, _ = json.JSONDecoder(object_pairs_hook=JSONObject, parse_constant=refuse).raw_decode(text, start)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON: {err.msg} (character {err.pos})") from None
    return value


def string_fields(value: object, names: tuple[str, ...]) -> dict[str, str]:
    """Go's decoding of a JSON value into a struct of string fields (the present ones).

    Keys match the field names case-insensitively, unknown keys are ignored, null leaves a
    field as it was, and invalid Unicode becomes U+FFFD. Raises ValueError with the reason.
    """
    if value is None:
        return {}
    if not isinstance(value, JSONObject):
        raise ValueError(f"expected a JSON object, not {json_type(value)}")
    canonical = {name.casefold(): name for name in names}
    fields = {}
    for key, item in value:
        name = canonical.get(key.casefold())
        if name is None or item is None:
            continue
        if not isinstance(item, str):
            raise ValueError(f"{name} must be a string, not {json_type(item)}")
        fields[name] = valid_unicode(item)
    return fields


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


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, JSONObject):
        return "an object"
    return "an array" if isinstance(value, list) else "a string"


def valid_unicode(text: str) -> str:
    """Replace lone surrogates (from \\ud800-style escapes) with U+FFFD, as Go does."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _store(store: str, stdin) -> bytes:
    server_url, username, secret = parse_credentials(read_input(stdin))
    open_store(store).add(server_url, username, secret)
    return b""


def _get(store: str, stdin) -> bytes:
    server_url = read_server_url(stdin)
    username, secret = get_with_hub_fallback(open_store(store), server_url)
    return encode_credentials(server_url, username, secret)


def get_with_hub_fallback(backend, server_url: str) -> tuple[str, str]:
    """backend.get, where any Docker Hub key finds a login stored under another one."""
    try:
        return backend.get(server_url)
    except CredentialsNotFound:
        # Docker stores Docker Hub under its v1 URL, Podman and Skopeo ask for docker.io: one login for both.
        if server_url not in DOCKER_HUB_KEYS:
            raise
        return _first_found(backend, [key for key in DOCKER_HUB_KEYS if key != server_url])


def _first_found(backend, keys: list[str]) -> tuple[str, str]:
    for key in keys:
        try:
            return backend.get(key)
        except CredentialsNotFound:
            continue
    raise CredentialsNotFound()


def _erase(store: str, stdin) -> bytes:
    open_store(store).delete(read_server_url(stdin))
    return b""


def _list(store: str, stdin) -> bytes:
    return encode_listing(open_store(store).list())


def _version(store: str, stdin) -> bytes:
    return f"{program_name(store)} (credctl) {__version__}\n".encode()


_HANDLERS = {"store": _store, "get": _get, "erase": _erase, "list": _list, "version": _version}


def _line(text: str) -> bytes:
    """One output line; argv and URLs may carry raw bytes (surrogateescape), echoed as given."""
    text = text.replace("\r", " ").replace("\n", " ") + "\n"
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def respond(store: str, args: list[str], stdin, stdout) -> int:
    """Run one helper invocation (args without the program name); return the exit status."""
    program = program_name(store)
    usage = f"Usage: {program} <{ACTIONS}>"
    if len(args) != 1:
        output, status = _line(usage), 1
    elif args[0] in ("--version", "-v"):
        output, status = _version(store, stdin), 0
    elif args[0] in ("--help", "-h"):
        output, status = _line(usage), 0
    elif args[0] not in _HANDLERS:
        output, status = _line(f"{program}: unknown action: {args[0]}"), 1
    else:
        output, status = _run(_HANDLERS[args[0]], store, stdin, f"{program} {args[0]}")
    stdout.write(output)
    stdout.flush()
    return status


def _run(handler, store: str, stdin, what: str) -> tuple[bytes, int]:
    try:
        return handler(store, stdin), 0
    except CredctlError as err:
        return _line(str(err)), 1
    except KeyboardInterrupt:
        return _line(f"{what}: interrupted"), 1
    except OSError as err:
        # Paths and system messages only: never the data that was being handled.
        where = f" ({err.filename})" if err.filename else ""
        return _line(f"{what}: {err.strerror or type(err).__name__}{where}"), 1
    except Exception as err:  # never a traceback in helper mode
        return _line(f"{what}: unexpected {type(err).__name__}; please report this as a credctl bug"), 1


def serve(store: str, args: list[str]) -> int:
    """Entry for the docker-credential-* programs: real stdin/stdout, Go's exit statuses."""
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    if stdin is not None and args[:1] in (["get"], ["erase"], ["store"]) and stdin.isatty():
        # Go's helpers wait silently here, which users mistake for a hang (helpers #184).
        sys.stderr.write("reading from stdin; end the input with Ctrl-D\n")
    try:
        return respond(store, args, stdin, sys.stdout.buffer)
    except BrokenPipeError:
        # Whoever ran us stopped reading; say nothing more (not even at interpreter exit).
        sys.stdout = None
        return 1
