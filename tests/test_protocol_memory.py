"""The helper protocol in-process, over an in-memory store: every action, exact bytes, no gpg.

respond() is the whole protocol (framing, input limits, encoding, error lines) for any Store;
these tests pin each rule down fast. The same bytes against Debian's Go helpers, over the real
stores, are in test_protocol.py, test_interop.py and test_hostile_input.py.

Where docker/docker-credential-helpers tests a rule itself (credentials/credentials_test.go,
which drives its Store/Get/Erase/List handlers over a memory store), its cases are taken as data.
"""

import errno
import io
import os
import sys

import pytest
import world
from world import NOT_FOUND, MemoryStore

from credctl import __version__
from credctl.errors import CredctlError, StoreError, UnknownStore
from credctl.helperinput import MAX_INPUT
from credctl.names import DOCKER_HUB_KEYS
from credctl.protocol import respond, serve

PROGRAM = "docker-credential-memory"
USAGE = b"Usage: docker-credential-memory <store|get|erase|list|version>\n"
VERSION = f"docker-credential-memory (credctl) {__version__}\n".encode()
NO_SERVER = b"no credentials server URL\n"
NO_USERNAME = b"no credentials username\n"
BUG = "unexpected {}; please report this as a credctl bug"


def call(store: MemoryStore, *args: str, stdin: bytes = b"") -> tuple[int, bytes]:
    out = io.BytesIO()
    status = respond(store, PROGRAM, list(args), io.BytesIO(stdin), out)
    return status, out.getvalue()


def credentials(server_url: str, username: str, secret: str) -> bytes:
    """The JSON Go's json.Marshal writes for a Credentials struct (what Docker sends to `store`)."""
    return f'{{"ServerURL":"{server_url}","Username":"{username}","Secret":"{secret}"}}'.encode()


# -- docker-credential-helpers' own cases (credentials/credentials_test.go) -------------------

GO_URL = "https://registry.example.com/v1/"


def test_store():  # TestStore
    store = MemoryStore()
    assert call(store, "store", stdin=credentials(GO_URL, "foo", "bar")) == (0, b"")
    assert store.logins == {GO_URL: ("foo", "bar")}


def test_store_missing_server_url():  # TestStoreMissingServerURL
    store = MemoryStore()
    assert call(store, "store", stdin=credentials("", "foo", "bar")) == (1, NO_SERVER)
    assert store.logins == {}


def test_store_missing_username():  # TestStoreMissingUsername
    store = MemoryStore()
    assert call(store, "store", stdin=credentials(GO_URL, "", "bar")) == (1, NO_USERNAME)
    assert store.logins == {}


def test_get():  # TestGet
    store = MemoryStore()
    call(store, "store", stdin=credentials(GO_URL, "foo", "bar"))
    assert call(store, "get", stdin=GO_URL.encode()) == (0, credentials(GO_URL, "foo", "bar") + b"\n")


def test_get_missing_server_url():  # TestGetMissingServerURL
    store = MemoryStore({GO_URL: ("foo", "bar")})
    assert call(store, "get", stdin=b"") == (1, NO_SERVER)


def test_erase():  # TestErase
    store = MemoryStore({GO_URL: ("foo", "bar")})
    assert call(store, "erase", stdin=GO_URL.encode()) == (0, b"")
    assert call(store, "get", stdin=GO_URL.encode()) == (1, NOT_FOUND)


def test_erase_missing_server_url():  # TestEraseMissingServerURL
    store = MemoryStore({GO_URL: ("foo", "bar")})
    assert call(store, "erase", stdin=b"") == (1, NO_SERVER)
    assert store.logins == {GO_URL: ("foo", "bar")}


def test_list():  # TestList: Go checks only that there is output; these are its exact bytes
    assert call(MemoryStore(), "list") == (0, b"{}\n")
    store = MemoryStore({"b.example": ("bob", "1"), "a.example": ("<token>", "2"), "é.example": ("e", "3")})
    assert call(store, "list", stdin=b"ignored") == (
        0,
        '{"a.example":"\\u003ctoken\\u003e","b.example":"bob","é.example":"e"}\n'.encode(),
    )


# -- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "output"),
    [
        ([], 1, USAGE),
        (["get", "extra"], 1, USAGE),
        (["--help"], 0, USAGE),
        (["-h"], 0, USAGE),
        (["version"], 0, VERSION),
        (["--version"], 0, VERSION),
        (["-v"], 0, VERSION),
        (["bogus"], 1, b"docker-credential-memory: unknown action: bogus\n"),
        (["GET"], 1, b"docker-credential-memory: unknown action: GET\n"),
        (["a\r\nb"], 1, b"docker-credential-memory: unknown action: a  b\n"),
        ([b"\xff".decode("utf-8", "surrogateescape")], 1, b"docker-credential-memory: unknown action: \xff\n"),
    ],
)
def test_arguments(args, status, output):
    store = MemoryStore(error=AssertionError("the store must not be used"))
    assert call(store, *args) == (status, output)


# -- get, erase, store input -------------------------------------------------------------------------


def test_get_not_found():
    assert call(MemoryStore(), "get", stdin=b"https://missing.example.com/v1") == (1, NOT_FOUND)


def test_erase_of_nothing_succeeds():
    # As Go's secretservice helper: containers/image's logout crashes on "not found" (docs/helper-protocol.md).
    assert call(MemoryStore(), "erase", stdin=b"missing.example") == (0, b"")


@pytest.mark.parametrize("action", ["get", "erase"])
@pytest.mark.parametrize("stdin", [b"", b"\n", b"  \t\r\n", "\u00a0\u3000\u2028".encode(), b"\r\n\r\n"])
def test_a_blank_server_url_is_missing(action, stdin):
    assert call(MemoryStore({"": ("u", "s")}), action, stdin=stdin) == (1, NO_SERVER)


@pytest.mark.parametrize(
    "stdin",
    [b"h.example", b" h.example\n", b"h.\nexample\r\n", b"h.ex\r\nample", "\th.example\x85".encode(), b"h.example\n\n"],
)
def test_get_joins_lines_and_trims_as_go(stdin):
    # Go reads stdin with a bufio.Scanner (lines joined, "\n" and one "\r" dropped), then TrimSpace.
    store = MemoryStore({"h.example": ("u", "s")})
    assert call(store, "get", stdin=stdin) == (0, b'{"ServerURL":"h.example","Username":"u","Secret":"s"}\n')


def test_a_lone_carriage_return_stays():
    store = MemoryStore({"h.\rexample": ("u", "s")})
    assert call(store, "get", stdin=b"h.\rexample") == (
        0,
        b'{"ServerURL":"h.\\rexample","Username":"u","Secret":"s"}\n',
    )


def test_store_json_split_over_crlf_lines():
    store = MemoryStore()
    assert call(store, "store", stdin=b'{"ServerURL":"h.example",\r\n"Username":"bob",\n"Secret":"pw"}\r\n') == (0, b"")
    assert store.logins == {"h.example": ("bob", "pw")}


def test_store_as_go_decodes_a_struct():
    # Keys case-insensitively, unknown keys ignored, the last duplicate wins, anything after the value ignored.
    store = MemoryStore()
    body = b'{"serverurl":"h.example","USERNAME":"al","Username":"bob","secret":"pw","Extra":1} trailing'
    assert call(store, "store", stdin=body) == (0, b"")
    assert store.logins == {"h.example": ("bob", "pw")}


def test_store_replaces_and_keeps_the_server_url_as_given():
    store = MemoryStore({" h.example": ("old", "old")})
    assert call(store, "store", stdin=credentials(" h.example", "new", "")) == (0, b"")
    assert store.logins == {" h.example": ("new", "")}


@pytest.mark.parametrize(
    ("stdin", "output"),
    [
        (b"", b"no credentials on stdin: expected a JSON object with ServerURL, Username and Secret\n"),
        (b" \r\n\t", b"no credentials on stdin: expected a JSON object with ServerURL, Username and Secret\n"),
        (b"null", NO_SERVER),
        (b"{}", NO_SERVER),
        (b'{"ServerURL":null,"Username":"u"}', NO_SERVER),
        (b'{"ServerURL":"x","Username":null}', NO_USERNAME),
        (b"notjson", b"credentials on stdin: not valid JSON: Expecting value (character 0)\n"),
        (b'{"ServerURL":"x"', b"credentials on stdin: not valid JSON: Expecting ',' delimiter (character 16)\n"),
        (b"NaN", b"credentials on stdin: not valid JSON: NaN is not a JSON value\n"),
        (b"[]", b"credentials on stdin: expected a JSON object, not an array\n"),
        (b'"str"', b"credentials on stdin: expected a JSON object, not a string\n"),
        (b"1", b"credentials on stdin: expected a JSON object, not a number\n"),
        (b'{"ServerURL":"x","Username":5}', b"credentials on stdin: Username must be a string, not a number\n"),
        (b'{"ServerURL":true}', b"credentials on stdin: ServerURL must be a string, not a boolean\n"),
        (b'{"ServerURL":"x","Secret":{}}', b"credentials on stdin: Secret must be a string, not an object\n"),
        (b'{"ServerURL":"x","Secret":[]}', b"credentials on stdin: Secret must be a string, not an array\n"),
    ],
)
def test_store_refuses(stdin, output):
    store = MemoryStore()
    assert call(store, "store", stdin=stdin) == (1, output)
    assert store.logins == {}


def test_invalid_unicode_becomes_the_replacement_character():
    store = MemoryStore()
    assert call(store, "store", stdin=b'{"ServerURL":"h\xff","Username":"\\ud800","Secret":"s"}') == (0, b"")
    assert store.logins == {"h\ufffd": ("\ufffd", "s")}


@pytest.mark.parametrize("action", ["store", "get", "erase"])
def test_input_over_the_limit_is_refused(action):
    store = MemoryStore({"x": ("u", "s")})
    assert call(store, action, stdin=b" " * (MAX_INPUT + 1)) == (1, b"input on stdin is larger than 1024 KiB\n")
    assert store.logins == {"x": ("u", "s")}


def test_input_at_the_limit_is_read():
    assert call(MemoryStore(), "get", stdin=b"h" * MAX_INPUT) == (1, NOT_FOUND)


# -- output: Go's encoding ------------------------------------------------------------------------


def test_get_escapes_as_go():
    secret = 'a<b>&c"d\\e\n\t\x01\x7f\u2028\u2029é/'
    store = MemoryStore({"registry.example.com:5000": ("<token>", secret)})
    assert call(store, "get", stdin=b"registry.example.com:5000") == (
        0,
        b'{"ServerURL":"registry.example.com:5000","Username":"\\u003ctoken\\u003e",'
        b'"Secret":"a\\u003cb\\u003e\\u0026c\\"d\\\\e\\n\\t\\u0001\x7f\\u2028\\u2029\xc3\xa9/"}\n',
    )


def test_get_answers_with_the_server_url_asked_for():
    store = MemoryStore({"h.example": ("u", "s")})
    assert call(store, "get", stdin=b"h.example\n")[1].startswith(b'{"ServerURL":"h.example",')


# -- Docker Hub: one login under any of its keys ------------------------------------------------------


@pytest.mark.parametrize("stored", DOCKER_HUB_KEYS)
@pytest.mark.parametrize("asked", DOCKER_HUB_KEYS)
def test_docker_hub_is_found_under_each_of_its_keys(stored, asked):
    store = MemoryStore({stored: ("alice", "hub-secret")})
    expected = f'{{"ServerURL":"{asked}","Username":"alice","Secret":"hub-secret"}}\n'.encode()
    assert call(store, "get", stdin=asked.encode()) == (0, expected)


def test_the_exact_key_wins_over_another_docker_hub_key():
    first, second = DOCKER_HUB_KEYS[:2]
    store = MemoryStore({first: ("one", "1"), second: ("two", "2")})
    assert call(store, "get", stdin=second.encode()) == (
        0,
        f'{{"ServerURL":"{second}","Username":"two","Secret":"2"}}\n'.encode(),
    )


@pytest.mark.parametrize("asked", ["docker.io.evil.example", "https://docker.io/v2/", "quay.io", "Docker.io"])
def test_other_hosts_get_no_alias(asked):
    store = MemoryStore({key: ("alice", "hub-secret") for key in DOCKER_HUB_KEYS})
    assert call(store, "get", stdin=asked.encode()) == (1, NOT_FOUND)


@pytest.mark.parametrize("asked", DOCKER_HUB_KEYS)
def test_erase_of_any_docker_hub_key_erases_every_copy(asked):
    store = MemoryStore({key: ("alice", "hub-secret") for key in DOCKER_HUB_KEYS} | {"quay.io": ("q", "s")})
    assert call(store, "erase", stdin=asked.encode()) == (0, b"")
    assert store.logins == {"quay.io": ("q", "s")}


@pytest.mark.parametrize("asked", ["docker.io.evil.example", "https://docker.io/v2/", "Docker.io"])
def test_erase_of_another_host_leaves_docker_hub_alone(asked):
    store = MemoryStore({DOCKER_HUB_KEYS[0]: ("alice", "hub-secret")})
    assert call(store, "erase", stdin=asked.encode()) == (0, b"")
    assert store.logins == {DOCKER_HUB_KEYS[0]: ("alice", "hub-secret")}


@pytest.mark.parametrize("stored_as", DOCKER_HUB_KEYS)
def test_store_under_one_docker_hub_key_leaves_no_stale_copy(stored_as):
    store = MemoryStore({key: ("old", "stale") for key in DOCKER_HUB_KEYS} | {"quay.io": ("q", "s")})
    login = f'{{"ServerURL":"{stored_as}","Username":"new","Secret":"fresh"}}'.encode()
    assert call(store, "store", stdin=login) == (0, b"")
    assert store.logins == {stored_as: ("new", "fresh"), "quay.io": ("q", "s")}


# -- failures: one line, exit status 1, never the data ---------------------------------------------------

SECRET = "s3cr3t-do-not-show"


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (StoreError("the store is locked: unlock it and try again"), "the store is locked: unlock it and try again"),
        (StoreError("two\nlines\r\nhere"), "two lines  here"),
        (OSError(errno.ENOSPC, "No space left on device", "/st/h.gpg"), "{}: No space left on device (/st/h.gpg)"),
        (PermissionError(errno.EACCES, "Permission denied"), "{}: Permission denied"),
        (OSError(SECRET), "{}: OSError"),
        (ConnectionResetError(SECRET), "{}: ConnectionResetError"),
        (ValueError(SECRET), "{}: " + BUG.format("ValueError")),
        (UnicodeEncodeError("utf-8", SECRET, 0, 1, SECRET), "{}: " + BUG.format("UnicodeEncodeError")),
        (KeyboardInterrupt(), "{}: interrupted"),
    ],
    ids=repr,
)
@pytest.mark.parametrize(
    ("action", "stdin"),
    [
        ("store", credentials("h.example", "u", SECRET)),
        ("get", b"h.example"),
        ("erase", b"h.example"),
        ("list", b""),
    ],
)
def test_a_failing_store_gives_one_line(error, line, action, stdin):
    status, output = call(MemoryStore(error=error), action, stdin=stdin)
    assert (status, output) == (1, (line.format(f"{PROGRAM} {action}") + "\n").encode())
    assert SECRET.encode() not in output


def test_a_credctl_error_is_never_prefixed():
    # Docker recognises "credentials not found in native keychain" and the two others by text.
    assert call(MemoryStore(error=CredctlError("as it is")), "get", stdin=b"h") == (1, b"as it is\n")


def test_a_raw_byte_in_the_server_url_is_echoed_as_given():
    store = MemoryStore(error=StoreError("no login for " + b"h\xff".decode("utf-8", "surrogateescape")))
    assert call(store, "get", stdin=b"h\xff") == (1, b"no login for h\xff\n")


# -- serve: the programs' entry ---------------------------------------------------------------------


class _Stdio:
    def __init__(self, data: bytes = b"") -> None:
        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False


def served(monkeypatch, args: list[str], stdin: bytes = b"") -> tuple[int, bytes]:
    """serve("pass", args) with stdin; its exit status and stdout."""
    stdout = _Stdio()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdin", _Stdio(stdin))
        patch.setattr(sys, "stdout", stdout)
        status = serve("pass", args)
    return status, stdout.buffer.getvalue()


@pytest.mark.parametrize(
    ("args", "stdin", "output", "opens"),
    [
        (["get"], DOCKER_HUB_KEYS[0].encode(), f'{{"ServerURL":"{DOCKER_HUB_KEYS[0]}","Username":"alice"', 1),
        (["list"], b"", "{", 1),
        (["version"], b"", "docker-credential-pass (credctl) ", 0),
        (["--help"], b"", "Usage: docker-credential-pass ", 0),
        (["bogus"], b"", "docker-credential-pass: unknown action: bogus", 0),
        ([], b"", "Usage: docker-credential-pass ", 0),
    ],
)
def test_serve_opens_the_store_once_and_only_for_an_action(monkeypatch, args, stdin, output, opens):
    import credctl.protocol

    stores: list[MemoryStore] = []

    def open_store(name: str) -> MemoryStore:
        assert name == "pass"
        stores.append(MemoryStore({DOCKER_HUB_KEYS[-1]: ("alice", "s")}))  # get asks for three keys
        return stores[-1]

    monkeypatch.setattr(credctl.protocol, "open_store", open_store)
    _status, answer = served(monkeypatch, args, stdin)
    assert answer.decode().startswith(output)
    assert len(stores) == opens


def test_serve_reports_a_store_that_cannot_be_opened_as_its_action(monkeypatch):
    import credctl.protocol

    def open_store(name: str) -> MemoryStore:
        raise OSError(errno.ENOENT, "No such file or directory", "/nowhere")

    monkeypatch.setattr(credctl.protocol, "open_store", open_store)
    assert served(monkeypatch, ["get"], b"h.example") == (
        1,
        b"docker-credential-pass get: No such file or directory (/nowhere)\n",
    )


def test_serve_refuses_an_unknown_store_before_reading_anything(monkeypatch):
    with pytest.raises(UnknownStore) as caught:
        serve("nosuch", ["get"])
    assert str(caught.value) == "unknown store 'nosuch': choose one of pass, secretservice, keyring, acr, credctl"


def test_credctl_helper_with_an_unknown_store_is_a_usage_error():
    result = world.credctl({"PATH": os.defpath}, "helper", "nosuch", "get")
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr
        == "credctl helper: unknown store 'nosuch': choose one of pass, secretservice, keyring, acr, credctl\n"
    )
