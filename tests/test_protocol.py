"""The helper protocol, byte for byte as docker-credential-helpers v0.9 prints it.

Every case runs our real docker-credential-pass over a real pass store and compares the exact
stdout bytes and exit status (reference: docker-credential-helpers.md §1).
"""

import pytest
from world import NOT_FOUND, run_helper

from credctl import __version__
from credctl.gojson import json_string
from credctl.helperinput import join_lines
from credctl.protocol import encode_credentials, encode_listing

USAGE = b"Usage: docker-credential-pass <store|get|erase|list|version>\n"


def store(program, env, url, user, secret):
    body = encode_credentials(url, user, secret)
    result = run_helper(program, "store", body, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


# -- arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "stdout"),
    [
        ([], 1, USAGE),
        (["get", "extra"], 1, USAGE),
        (["--help"], 0, USAGE),
        (["-h"], 0, USAGE),
        (["version"], 0, f"docker-credential-pass (credctl) {__version__}\n".encode()),
        (["--version"], 0, f"docker-credential-pass (credctl) {__version__}\n".encode()),
        (["-v"], 0, f"docker-credential-pass (credctl) {__version__}\n".encode()),
        (["bogus"], 1, b"docker-credential-pass: unknown action: bogus\n"),
        (["GET"], 1, b"docker-credential-pass: unknown action: GET\n"),
    ],
)
def test_arguments(ours, pass_env, args, status, stdout):
    import subprocess

    result = subprocess.run([ours, *args], input=b"", capture_output=True, env=pass_env)
    assert (result.returncode, result.stdout, result.stderr) == (status, stdout, b"")


# -- get / erase input -----------------------------------------------------------------


@pytest.mark.parametrize("action", ["get", "erase"])
@pytest.mark.parametrize("stdin", [b"", b"\n", b"  \t\r\n", "\u00a0\u3000".encode()])
def test_missing_server_url(ours, pass_env, action, stdin):
    result = run_helper(ours, action, stdin, pass_env)
    assert (result.returncode, result.stdout, result.stderr) == (1, b"no credentials server URL\n", b"")


def test_get_trims_and_joins_lines_as_go(ours, pass_env):
    store(ours, pass_env, "https://index.docker.io/v1/", "alice", "s3cr3t")
    expected = b'{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"s3cr3t"}\n'
    for stdin in [
        b"https://index.docker.io/v1/",
        b" https://index.docker.io/v1/\n",
        b"https://index.docker.io\n/v1/\r\n",
    ]:
        result = run_helper(ours, "get", stdin, pass_env)
        assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")


def test_go_trims_trailing_newlines_of_the_secret(ours, pass_env):
    store(ours, pass_env, "h.example", "u", "abc\n\r\n")
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"u","Secret":"abc"}\n'
    )


# -- store input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stdin", "stdout"),
    [
        (b"", b"no credentials on stdin: expected a JSON object with ServerURL, Username and Secret\n"),
        (b"  \n", b"no credentials on stdin: expected a JSON object with ServerURL, Username and Secret\n"),
        (b"null", b"no credentials server URL\n"),
        (b"{}", b"no credentials server URL\n"),
        (b'{"ServerURL":"x"}', b"no credentials username\n"),
        (b'{"ServerURL":"x","Username":null}', b"no credentials username\n"),
        (b"notjson", b"credentials on stdin: not valid JSON: Expecting value (character 0)\n"),
        (b"[]", b"credentials on stdin: expected a JSON object, not an array\n"),
        (b'"str"', b"credentials on stdin: expected a JSON object, not a string\n"),
        (b'{"ServerURL":"x","Username":5}', b"credentials on stdin: Username must be a string, not a number\n"),
        (b'{"ServerURL":true}', b"credentials on stdin: ServerURL must be a string, not a boolean\n"),
        (b'{"ServerURL":"x","Secret":{}}', b"credentials on stdin: Secret must be a string, not an object\n"),
    ],
)
def test_store_rejects(ours, pass_env, stdin, stdout):
    result = run_helper(ours, "store", stdin, pass_env)
    assert (result.returncode, result.stdout, result.stderr) == (1, stdout, b"")
    assert run_helper(ours, "list", b"", pass_env).stdout == b"{}\n"


def test_store_keys_are_case_insensitive_and_unknown_keys_ignored(ours, pass_env):
    body = b'{"serverurl":"h.example","USERNAME":"bob","secret":"pw","Extra":1} trailing garbage'
    result = run_helper(ours, "store", body, pass_env)
    assert (result.returncode, result.stdout) == (0, b"")
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"bob","Secret":"pw"}\n'
    )


def test_store_json_split_over_lines(ours, pass_env):
    body = b'{"ServerURL":"h.example",\r\n"Username":"bob",\n"Secret":"pw"}\n'
    assert run_helper(ours, "store", body, pass_env).returncode == 0
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"bob","Secret":"pw"}\n'
    )


def test_store_does_not_trim_the_server_url(ours, pass_env):
    store(ours, pass_env, " h.example", "bob", "pw")
    assert run_helper(ours, "list", b"", pass_env).stdout == b'{" h.example":"bob"}\n'


def test_empty_secret_is_allowed(ours, pass_env):
    store(ours, pass_env, "h.example", "bob", "")
    assert (
        run_helper(ours, "get", "h.example", pass_env).stdout
        == b'{"ServerURL":"h.example","Username":"bob","Secret":""}\n'
    )


# -- hostile input never gives a traceback -------------------------------------------------


@pytest.mark.parametrize("action", ["store", "get", "erase"])
@pytest.mark.parametrize(
    "stdin",
    [
        bytes(range(256)),
        b"\xff\xfe\x00garbage",
        b"x" * 70000,
        b"a\n" * 600000,
        b'{"ServerURL":"\\ud800","Username":"u"}',
    ],
    ids=["all-bytes", "binary", "long-line", "over-1MiB", "lone-surrogate"],
)
def test_hostile_stdin_gives_one_line(ours, pass_env, action, stdin):
    result = run_helper(ours, action, stdin, pass_env)
    assert result.returncode in (0, 1)
    assert result.stderr == b""
    assert result.stdout.count(b"\n") <= 1
    assert b"Traceback" not in result.stdout


def test_oversized_input_is_refused(ours, pass_env):
    result = run_helper(ours, "store", b" " * (1024 * 1024 + 1), pass_env)
    assert (result.returncode, result.stdout) == (1, b"input on stdin is larger than 1024 KiB\n")


def test_list_sorted_with_identity_token(ours, pass_env):
    store(ours, pass_env, "registry.example.com:5000", "<token>", "t")
    store(ours, pass_env, "https://index.docker.io/v1/", "alice", "s")
    result = run_helper(ours, "list", b"", pass_env)
    assert (
        result.stdout == b'{"https://index.docker.io/v1/":"alice","registry.example.com:5000":"\\u003ctoken\\u003e"}\n'
    )


# -- the encoder itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("plain", '"plain"'),
        ("<>&", '"\\u003c\\u003e\\u0026"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x1f", '"\\u0000\\u001f"'),
        ("\x7f", '"\x7f"'),
        ("jürgen", '"jürgen"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        (b"a\xffb".decode("utf-8", "surrogateescape"), '"a\\ufffdb"'),
        ('"\\/', '"\\"\\\\/"'),
    ],
)
def test_json_string_matches_go(text, encoded):
    assert json_string(text) == encoded


def test_listing_sorted_by_bytes():
    assert encode_listing({"b": "1", "a": "2", "é": "3", "Z": "4"}) == '{"Z":"4","a":"2","b":"1","é":"3"}\n'.encode()


@pytest.mark.parametrize(
    ("raw", "joined"),
    [(b"a\nb\n", b"ab"), (b"a\r\nb", b"ab"), (b"a\r\r\n", b"a\r"), (b"a\rb", b"a\rb"), (b"a\r", b"a")],
)
def test_join_lines_like_bufio_scanner(raw, joined):
    assert join_lines(raw) == joined


@pytest.mark.parametrize("asked", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_is_found_under_each_of_its_keys(ours, pass_env, asked):
    # docker login stores Docker Hub under its v1 URL; Podman and Skopeo ask for docker.io.
    store(ours, pass_env, "https://index.docker.io/v1/", "alice", "hub-secret")
    result = run_helper(ours, "get", asked, pass_env)
    expected = f'{{"ServerURL":"{asked}","Username":"alice","Secret":"hub-secret"}}\n'.encode()
    assert (result.returncode, result.stdout) == (0, expected)


def test_other_hosts_get_no_alias(ours, pass_env):
    store(ours, pass_env, "https://index.docker.io/v1/", "alice", "hub-secret")
    for asked in ("docker.io.evil.example", "https://docker.io/v2/", "quay.io"):
        assert run_helper(ours, "get", asked, pass_env).stdout == NOT_FOUND
