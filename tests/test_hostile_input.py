"""Hostile helper input, for every docker-credential-* program and every action.

Property-based: hypothesis drives `credctl.protocol.respond` in-process against the REAL stores
(pass with gpg, gnome-keyring on a private bus, keyring's SecretService backend on it, ACR with
the SDK against the loopback fake) with arbitrary bytes, control characters, invalid UTF-8,
JSON of every wrong shape, huge values and path-like server URLs. Whatever arrives:

- the exit status is 0 or 1 and the output at most one line, never a traceback nor an
  "unexpected ... credctl bug" line; a successful `get` is JSON with exactly ServerURL,
  Username and Secret; nothing is written to stderr;
- no file changes anywhere in the test's world except under the store and the cache;
- the credentials stored before the fuzzing read back byte for byte the same after it.

Then a fixed list of nasties goes through the real console scripts, as Docker runs them.
Each world is made once per test (fixtures) and hypothesis runs its examples inside it, so
no hypothesis test takes function-scoped fixtures itself.
"""

import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest
import world
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from world import ALIYUN_INSTANCE, TEMP_USER, run, use_environment

from credctl.errors import CredctlError
from credctl.protocol import encode_credentials, parse_credentials, read_server_url, respond
from credctl.stores import STORES, open_store, program_name

STORE_NAMES = tuple(STORES)
KNOWN_URL = "https://known.credctl.test:5443/v1/"
KNOWN_USER = "known-user"
KNOWN_SECRET = 'known-s3cret <&> "q" é\u2028'

# Examples per (store, property): thousands in all, fast. `store` on pass runs pass and gpg.
EXAMPLES = {
    "get": {"pass": 300, "secretservice": 300, "keyring": 150, "acr": 300, "credctl": 200},
    "erase": {"pass": 200, "secretservice": 200, "keyring": 100, "acr": 200, "credctl": 150},
    "store": {"pass": 40, "secretservice": 120, "keyring": 100, "acr": 200, "credctl": 40},
    "list": {"pass": 40, "secretservice": 40, "keyring": 40, "acr": 40, "credctl": 40},
    "args": {"pass": 150, "secretservice": 100, "keyring": 100, "acr": 100, "credctl": 100},
}


def fuzz_settings(count: int):
    return settings(
        max_examples=count,
        deadline=None,
        database=None,  # nothing written into the working tree
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# --- strategies --------------------------------------------------------------------------------

FIELDS = ("ServerURL", "Username", "Secret")
PATH_LIKE = [
    "../../etc/passwd",
    "/etc/shadow",
    "a/../../b",
    "..",
    ".",
    "/",
    "../",
    "./x",
    "~root/.ssh/id_rsa",
    "$HOME",
    "`touch pwned`",
    "$(touch pwned)",
    ";touch pwned",
    "-rf",
    "--help",
    "C:\\Windows\\System32",
    "\\\\server\\share",
    "file:///etc/passwd",
    "https://../../etc/passwd",
    "registry.example.com/../../../etc",
    "%2e%2e%2f%2e%2e%2fetc",
    "docker-credential-helpers",
    ".gpg-id",
    "x.gpg",
    ".git",
    "\0",
    "a\0b",
    "index.docker.io",
    "docker.io",
    "registry.cn-hangzhou.aliyuncs.com",
    "evil-registry.cn-hangzhou.cr.aliyuncs.com",
    "https://nosuch-registry-vpc.cn-beijing.cr.aliyuncs.com/v2/",
    "registry-intl.ap-southeast-1.aliyuncs.com:443",
]
NASTY_CHARS = list("\0\n\r\t\x0b\x0c\x1b\x7f\x85\xa0\u2028\u2029\ufeff/.\\\"'$`;|&<>*?:% {}[]")
SURROGATES = ["\ud800", "\udfff", "\udc80", "\udcff", "\udcc3"]

nasty_char = st.one_of(st.sampled_from(NASTY_CHARS), st.sampled_from(SURROGATES), st.characters())
nasty_text = st.text(nasty_char, max_size=40)
long_text = st.builds(
    lambda piece, count: piece * count, st.sampled_from(["a", "/", "..", "é", "\n", "\0", "../"]), st.integers(64, 6000)
)
hostile_text = st.one_of(
    nasty_text,
    st.sampled_from(PATH_LIKE),
    st.builds(lambda a, b, c: a + b + c, nasty_text, st.sampled_from(PATH_LIKE), nasty_text),
    long_text,
)
HUGE_SIZES = [64 * 1024 + 1, 300_000, (1 << 20) - 16, (1 << 20) + 1, 2 << 20]
huge = st.builds(lambda piece, size: (piece * size)[:size], st.sampled_from([b"a", b"\xff", b"\n", b"{", b"\0"]),
                 st.sampled_from(HUGE_SIZES))  # fmt: skip


def to_bytes(text: str, how: str) -> bytes:
    """text as bytes: lone surrogates become invalid UTF-8 (surrogateescape or -pass)."""
    try:
        return text.encode("utf-8", how)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


encoding = st.sampled_from(["surrogatepass", "surrogateescape"])
hostile_bytes = st.builds(to_bytes, hostile_text, encoding)


def any_casing(name: str):
    return st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in name]).map("".join)


field_name = st.one_of(st.sampled_from(FIELDS).flatmap(any_casing), st.text(max_size=10))
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)  # fmt: skip


def json_object(pairs: list[tuple[str, object]], ascii_only: bool, glue: str, tail: str) -> str:
    """An object written pair by pair, so duplicate keys survive (Go takes the last)."""
    body = ("," + glue).join(
        json.dumps(key, ensure_ascii=ascii_only) + ":" + glue + json.dumps(value, ensure_ascii=ascii_only)
        for key, value in pairs
    )
    return glue + "{" + glue + body + glue + "}" + tail


glue = st.sampled_from(["", " ", "\n", "\r\n", "\t"])
tail = st.sampled_from(["", "\n", "garbage", "{}", "]", '{"ServerURL":"x"}', "\0"])
any_pairs = st.lists(st.tuples(field_name, json_value), max_size=6)
credential_pairs = st.lists(
    st.tuples(st.sampled_from(FIELDS).flatmap(any_casing), hostile_text), min_size=2, max_size=5
)
json_credentials = st.builds(
    to_bytes, st.builds(json_object, st.one_of(any_pairs, credential_pairs), st.booleans(), glue, tail), encoding
)
wrong_json = st.builds(lambda value: json.dumps(value).encode(), json_value)

server_input = st.one_of(hostile_bytes, st.binary(max_size=300), json_credentials, huge)
store_input = st.one_of(json_credentials, json_credentials, wrong_json, st.binary(max_size=300), hostile_bytes, huge)
any_input = st.one_of(st.binary(max_size=300), hostile_bytes, json_credentials)
argument = st.one_of(hostile_text, st.sampled_from(["get", "store", "erase", "list", "version", "-v", "--help", ""]))


# --- the worlds --------------------------------------------------------------------------------


class Fuzzed(NamedTuple):
    """A store's world and what it held before the fuzzing: the known credentials' server URL,
    their `get` output, and the files outside the store."""

    store: world.StoreWorld
    url: str
    output: bytes
    snapshot: dict


def touches_known(fuzzed: Fuzzed, server_url: str) -> bool:
    """Whether an erase of server_url may legitimately remove the known credentials."""
    if fuzzed.store.registry is None:
        return server_url == fuzzed.url
    from credctl.acr.login import find_registry

    try:
        registry = find_registry(server_url, fuzzed.store.env)
    except CredctlError:
        return False
    return (registry.region, registry.instance_name) == (ALIYUN_INSTANCE[2], ALIYUN_INSTANCE[1])


def call(store: str, args: list[str], stdin: bytes) -> tuple[int, bytes]:
    out = io.BytesIO()
    status = respond(open_store(store), program_name(store), args, io.BytesIO(stdin), out)
    return status, out.getvalue()


@pytest.fixture(params=STORE_NAMES)
def hostile(request, tmp_path: Path, monkeypatch) -> Fuzzed:
    store = world.store_world(request.param, request)
    cwd = tmp_path / "cwd"  # relative paths would land here, inside the watched tree
    cwd.mkdir()
    use_environment(monkeypatch, store.env)
    monkeypatch.chdir(cwd)
    known_url = store.registry or KNOWN_URL
    if store.registry is None:
        assert call(store.name, ["store"], encode_credentials(KNOWN_URL, KNOWN_USER, KNOWN_SECRET)) == (0, b"")
    status, output = call(store.name, ["get"], known_url.encode())
    assert status == 0, output
    if store.registry is None:
        assert output == encode_credentials(KNOWN_URL, KNOWN_USER, KNOWN_SECRET)
    known = Fuzzed(store, known_url, output, store.outside())
    yield known
    # Nothing stored before the fuzzing was lost or changed, and nothing escaped the store.
    assert call(store.name, ["get"], known_url.encode()) == (0, known.output)
    assert store.outside() == known.snapshot


def check(hostile: Fuzzed, capfd, args: list[str], stdin: bytes) -> tuple[int, bytes]:
    status, output = call(hostile.store.name, args, stdin)
    assert status in (0, 1), (status, output)
    assert output == b"" or (output.endswith(b"\n") and output.count(b"\n") == 1), output
    assert b"Traceback" not in output, output
    assert b"credctl bug" not in output, output  # an exception nobody expected
    action = args[0] if len(args) == 1 else None
    if status == 0 and action == "get":
        answer = json.loads(output)
        assert list(answer) == list(FIELDS), output
        assert all(isinstance(value, str) for value in answer.values()), output
    elif status == 0 and action == "list":
        listing = json.loads(output)
        assert isinstance(listing, dict) and all(isinstance(value, str) for value in listing.values()), output
    elif status == 0 and action in ("store", "erase"):
        assert output == b""
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", ""), captured
    assert hostile.store.outside() == hostile.snapshot, "a file changed outside the store and the cache"
    return status, output


# --- the properties ----------------------------------------------------------------------------


def test_get(hostile, capfd):
    @fuzz_settings(EXAMPLES["get"][hostile.store.name])
    @given(server_input)
    def fuzz(stdin: bytes) -> None:
        status, output = check(hostile, capfd, ["get"], stdin)
        if status == 0:
            assert json.loads(output)["ServerURL"] == read_server_url(io.BytesIO(stdin))

    fuzz()


def test_erase(hostile, capfd):
    @fuzz_settings(EXAMPLES["erase"][hostile.store.name])
    @given(server_input)
    def fuzz(stdin: bytes) -> None:
        try:
            server_url = read_server_url(io.BytesIO(stdin))
        except CredctlError:
            server_url = ""
        assume(not touches_known(hostile, server_url))
        check(hostile, capfd, ["erase"], stdin)

    fuzz()


def test_store(hostile, capfd):
    @fuzz_settings(EXAMPLES["store"][hostile.store.name])
    @given(store_input)
    def fuzz(stdin: bytes) -> None:
        try:
            server_url = parse_credentials(stdin)[0]
        except CredctlError:
            server_url = ""
        assume(server_url != hostile.url)
        status, _ = check(hostile, capfd, ["store"], stdin)
        if hostile.store.registry is not None:
            assert status == 1  # tokens are issued, never stored

    fuzz()


def test_list(hostile, capfd):
    @fuzz_settings(EXAMPLES["list"][hostile.store.name])
    @given(any_input)
    def fuzz(stdin: bytes) -> None:
        status, output = check(hostile, capfd, ["list"], stdin)
        assert status == 0, output
        expected = TEMP_USER if hostile.store.registry else KNOWN_USER
        assert json.loads(output).get(hostile.url) == expected, output

    fuzz()


def test_arguments(hostile, capfd):
    """Unknown actions, several arguments, none: a usage or unknown-action line, status 1."""

    @fuzz_settings(EXAMPLES["args"][hostile.store.name])
    @given(st.lists(argument, max_size=3), any_input)
    def fuzz(args: list[str], stdin: bytes) -> None:
        assume(not (len(args) == 1 and args[0] in ("get", "store", "erase", "list")))
        status, _ = check(hostile, capfd, args, stdin)
        if len(args) == 1 and args[0] in ("version", "-v", "--version", "--help", "-h"):
            assert status == 0
        else:
            assert status == 1

    fuzz()


# --- fixed nasties through the real console scripts ---------------------------------------------


def _creds(server: object, user: object, secret: object) -> bytes:
    return json.dumps({"ServerURL": server, "Username": user, "Secret": secret}).encode() + b"\n"


NASTIES = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "invalid utf-8": b"\xff\xfe\xc3\x28registry.example.com\xed\xa0\x80\xf4\x90\x80\x80\n",
    "2 MiB": b"a" * (2 << 20),
    "line over 64 KiB": _creds("long.example.com", "u" * (70 * 1024), "s"),
    "url over 64 KiB": b"h" * (70 * 1024) + b"\n",
    "wrong types": b'{"ServerURL": 1, "Username": ["a"], "Secret": {"x": null}}\n',
    "null and nested": b'{"serverurl": null, "USERNAME": {"a": [1, 2, {"b": true}]}, "secret": 1e999}\n',
    "array": b'[{"ServerURL": "a", "Username": "b", "Secret": "c"}]\n',
    "etc server url": _creds("../../etc/passwd", "root", "x"),
    "etc server url raw": b"../../etc/passwd\n",
    "absolute path url": _creds("/etc/shadow", "u", "x"),
    "dotdot username": _creds("dots.example.com", "..", "x"),
    "slash username": _creds("slash.example.com", "a/../../b", "x"),
    "control username": _creds("ctl.example.com", "a\nb\tc\u001b[31m\u0007\r", "x"),
    "nul username": _creds("nul.example.com", "a\0b", "x"),
    "nul url": b"nul\0.example.com\n",
    "shell url": _creds("$(touch pwned).example.com", "`touch pwned`", ";touch pwned"),
}
ACTIONS = ("store", "get", "erase", "list")


@pytest.fixture(params=STORE_NAMES)
def helper_world(request) -> world.StoreWorld:
    return world.store_world(request.param, request)


def test_nasties_through_the_console_scripts(helper_world, tmp_path):
    program, env = helper_world.program, helper_world.env
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    known_url = helper_world.registry or KNOWN_URL
    if helper_world.registry is None:
        stored = run([program, "store"], encode_credentials(KNOWN_URL, KNOWN_USER, KNOWN_SECRET), env, cwd)
        assert (stored.returncode, stored.stdout, stored.stderr) == (0, b"", b"")
    before = run([program, "get"], known_url.encode(), env, cwd)
    assert (before.returncode, before.stderr) == (0, b""), before.stdout

    cases = [(action, name, data) for action in ACTIONS for name, data in NASTIES.items()]
    # Two at a time: the machine has few cores, and the stores must cope with it anyway.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda case: run([program, case[0]], case[2], env, cwd), cases))
    for (action, name, _data), result in zip(cases, results, strict=True):
        what = f"{program} {action} <{name}>: {result.stdout[:300]!r} {result.stderr[:300]!r}"
        assert result.returncode in (0, 1), what
        assert result.stderr == b"", what
        assert b"Traceback" not in result.stdout and b"credctl bug" not in result.stdout, what
        assert result.stdout == b"" or (result.stdout.endswith(b"\n") and result.stdout.count(b"\n") == 1), what
        if action == "get" and result.returncode == 0:
            assert list(json.loads(result.stdout)) == list(FIELDS), what

    after = run([program, "get"], known_url.encode(), env, cwd)
    assert (after.returncode, after.stdout, after.stderr) == (0, before.stdout, b"")
    assert list(cwd.iterdir()) == []
    assert list(tmp_path.rglob("pwned*")) == []
    assert not Path("/etc/passwd.gpg").exists()
