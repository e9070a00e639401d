"""credctl.client against real helpers: ours, Debian's Go docker-credential-pass v0.6.4, and
small shell scripts written into tmp_path (real programs that answer as a broken helper would).

Nothing is mocked (reference: docker-credential-helpers.md §2.2).
"""

import os
import time
from pathlib import Path

import pytest
import world

from credctl import client
from credctl.client import Credentials
from credctl.errors import CredentialsNotFound, HelperFailed, MissingServerURL, MissingUsername
from credctl.protocol import encode_credentials

URL = "https://registry.example.com/v1/"
SECRET = "pä$$wörd<&>"
ESCAPED_SECRET = "pä$$wörd\\u003c\\u0026\\u003e"  # SECRET as Go's json.Encoder writes it


def make_program(directory: Path, name: str, body: str) -> str:
    """An executable shell script: a real program, written for one test."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def fake(tmp_path: Path):
    """docker-credential-fake on PATH: records argv, stdin and $FAKE_VAR, answers FAKE_REPLY/FAKE_STATUS.

    Returns (env, read) where read(name) gives a recorded file's bytes.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "record"
    make_program(
        bin_dir,
        "docker-credential-fake",
        'printf "%s\\n" "$0" "$@" > "$FAKE_RECORD.argv"\n'
        'cat > "$FAKE_RECORD.stdin"\n'
        'printf "%s" "$FAKE_VAR" > "$FAKE_RECORD.var"\n'
        'printf "%s" "$FAKE_REPLY"\n'
        'exit "${FAKE_STATUS:-0}"\n',
    )
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}", "FAKE_RECORD": str(record)}

    def read(name: str) -> bytes:
        return Path(f"{record}.{name}").read_bytes()

    return env, read


def assert_secret_hidden(error: BaseException, secret: str = SECRET) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert secret not in text
        assert ESCAPED_SECRET not in text


# -- Credentials ---------------------------------------------------------------------


def test_credentials_repr_hides_the_secret():
    creds = Credentials(URL, "<token>", SECRET)
    assert repr(creds) == f"Credentials(server_url='{URL}', username='<token>', secret='***')"
    assert str(creds) == repr(creds)
    assert SECRET not in repr(creds)
    assert repr(Credentials(URL, "", "")) == f"Credentials(server_url='{URL}', username='', secret='')"
    assert creds.secret == SECRET
    with pytest.raises(AttributeError):
        creds.secret = "other"  # type: ignore[misc]


# -- against our helper --------------------------------------------------------------


def test_store_get_round_trip(ours, pass_env):
    client.store(ours, Credentials(URL, "<token>", SECRET), pass_env)
    got = client.get(ours, URL, pass_env)
    assert got == Credentials(URL, "<token>", SECRET)
    assert (got.server_url, got.username, got.secret) == (URL, "<token>", SECRET)


def test_store_replaces_the_entry(ours, pass_env):
    client.store(ours, Credentials(URL, "alice", "first"), pass_env)
    client.store(ours, Credentials(URL, "alice", "second"), pass_env)
    assert client.get(ours, URL, pass_env) == Credentials(URL, "alice", "second")


def test_list_returns_the_map(ours, pass_env):
    assert client.list_credentials(ours, pass_env) == {}
    client.store(ours, Credentials(URL, "<token>", SECRET), pass_env)
    client.store(ours, Credentials("registry.example.com:5000", "bob", "s3cr3t"), pass_env)
    assert client.list_credentials(ours, pass_env) == {URL: "<token>", "registry.example.com:5000": "bob"}


def test_erase_then_get_is_not_found(ours, pass_env):
    client.store(ours, Credentials(URL, "<token>", SECRET), pass_env)
    assert client.erase(ours, URL, pass_env) is None
    with pytest.raises(CredentialsNotFound) as caught:
        client.get(ours, URL, pass_env)
    assert type(caught.value) is CredentialsNotFound
    assert str(caught.value) == "credentials not found in native keychain"
    assert client.list_credentials(ours, pass_env) == {}


def test_erase_of_a_missing_entry_succeeds(ours, pass_env):
    assert client.erase(ours, URL, pass_env) is None  # credctl's helpers: nothing there is success


def test_get_of_an_empty_url_is_missing_server_url(ours, pass_env):
    with pytest.raises(MissingServerURL) as caught:
        client.get(ours, "", pass_env)
    assert type(caught.value) is MissingServerURL
    assert str(caught.value) == "no credentials server URL"


def test_store_with_an_empty_username_is_missing_username(ours, pass_env):
    with pytest.raises(MissingUsername) as caught:
        client.store(ours, Credentials(URL, "", SECRET), pass_env)
    assert type(caught.value) is MissingUsername
    assert str(caught.value) == "no credentials username"
    assert_secret_hidden(caught.value)
    assert client.list_credentials(ours, pass_env) == {}


def test_store_with_an_empty_server_url_is_missing_server_url(ours, pass_env):
    with pytest.raises(MissingServerURL) as caught:
        client.store(ours, Credentials("", "bob", SECRET), pass_env)
    assert str(caught.value) == "no credentials server URL"


def test_program_names(ours, pass_env):
    """A suffix and a full name are looked up on PATH; a path is run as given."""
    env = {**pass_env, "PATH": f"{world.BIN}{os.pathsep}{pass_env.get('PATH', os.defpath)}"}
    client.store("pass", Credentials(URL, "alice", "by-suffix"), env)
    assert client.get("docker-credential-pass", URL, env) == Credentials(URL, "alice", "by-suffix")
    assert client.get(ours, URL, env) == Credentials(URL, "alice", "by-suffix")
    assert client.program_path("pass") == "docker-credential-pass"
    assert client.program_path("docker-credential-pass") == "docker-credential-pass"
    assert client.program_path("./pass") == "./pass"


# -- what the client sends -----------------------------------------------------------


def test_store_sends_go_json_with_a_newline(fake):
    env, read = fake
    client.store("fake", Credentials(URL, "<token>", SECRET), env)
    assert read("stdin") == encode_credentials(URL, "<token>", SECRET)
    assert read("stdin") == (
        b'{"ServerURL":"https://registry.example.com/v1/","Username":"\\u003ctoken\\u003e",'
        + b'"Secret":"'
        + ESCAPED_SECRET.encode()
        + b'"}\n'
    )
    assert read("argv").decode().splitlines()[1:] == ["store"]


@pytest.mark.parametrize("action", ["get", "erase"])
def test_get_and_erase_send_the_bare_url(fake, action):
    env, read = fake
    env["FAKE_REPLY"] = '{"Username":"u","Secret":"s"}'
    getattr(client, action)("docker-credential-fake", "https://ü.example/v2/", env)
    assert read("stdin") == "https://ü.example/v2/".encode()  # no newline
    assert read("argv").decode().splitlines()[1:] == [action]


def test_list_sends_unused(fake):
    env, read = fake
    env["FAKE_REPLY"] = "{}"
    assert client.list_credentials("fake", env) == {}
    assert read("stdin") == b"unused"
    assert read("argv").decode().splitlines()[1:] == ["list"]


def test_env_adds_to_our_environment(fake):
    env, read = fake
    env["FAKE_VAR"] = "from the caller"
    env["FAKE_REPLY"] = "{}"
    client.list_credentials("fake", env)
    assert read("var") == b"from the caller"


# -- how the client reads the answer -------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"Username":"u","Secret":"s"}', Credentials(URL, "u", "s")),  # Go pre-fills ServerURL
        ('{"ServerURL":"other","Username":"u","Secret":"s"}', Credentials("other", "u", "s")),
        ('{"serverurl":"other","USERNAME":"u","secret":"s","Extra":1}', Credentials("other", "u", "s")),
        ('{"ServerURL":null,"Username":null,"Secret":null}', Credentials(URL, "", "")),
        ('{"Username":"a","Username":"b","Secret":"s"}', Credentials(URL, "b", "s")),
        ("{}", Credentials(URL, "", "")),
        ("null", Credentials(URL, "", "")),
        ('\n {"Username":"u","Secret":"\\u003c\\ud800"}\ntrailing', Credentials(URL, "u", "<\ufffd")),
    ],
)
def test_get_decodes_like_go(fake, reply, expected):
    env, _ = fake
    env["FAKE_REPLY"] = reply
    assert client.get("fake", URL, env) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "no JSON value"),
        (" \n", "no JSON value"),
        (
            '{"Username":"u","Secret":"hunter2',
            "not valid JSON: Unterminated string starting at (character 25)",
        ),
        ("[]", "expected a JSON object, not an array"),
        ('"text"', "expected a JSON object, not a string"),
        ('{"Username":7}', "Username must be a string, not a number"),
        ('{"Secret":{"a":"hunter2"}}', "Secret must be a string, not an object"),
        ('{"Secret":NaN}', "not valid JSON: NaN is not a JSON value"),
    ],
)
def test_get_rejects_unusable_output(fake, reply, reason):
    env, _ = fake
    env["FAKE_REPLY"] = reply
    with pytest.raises(HelperFailed) as caught:
        client.get("fake", URL, env)
    error = caught.value
    assert (error.program, error.action, error.status, error.output) == ("docker-credential-fake", "get", 0, reason)
    assert str(error) == f"docker-credential-fake get failed (exit status 0): {reason}"
    assert "hunter2" not in str(error)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"b":"bob","a":"alice"}', {"a": "alice", "b": "bob"}),
        ('{"a":"x","a":"y"}', {"a": "y"}),
        ('{"a":null}', {"a": ""}),
        ("null", {}),
        ("{}\n", {}),
    ],
)
def test_list_decodes_like_go(fake, reply, expected):
    env, _ = fake
    env["FAKE_REPLY"] = reply
    assert client.list_credentials("fake", env) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "no JSON value"),
        ('["a"]', "expected a JSON object, not an array"),
        ('{"a":1}', "a username must be a string, not a number"),
        ('{"a":["b"]}', "a username must be a string, not an array"),
        ("{", "not valid JSON: Expecting property name enclosed in double quotes (character 1)"),
    ],
)
def test_list_rejects_unusable_output(fake, reply, reason):
    env, _ = fake
    env["FAKE_REPLY"] = reply
    with pytest.raises(HelperFailed) as caught:
        client.list_credentials("fake", env)
    assert str(caught.value) == f"docker-credential-fake list failed (exit status 0): {reason}"


# -- failures ------------------------------------------------------------------------


def test_program_failed_with_other_text(tmp_path):
    program = make_program(tmp_path, "failing", "echo 'program failed' >&2\necho 'program failed'\nexit 1\n")
    for call in (
        lambda: client.get(program, URL),
        lambda: client.store(program, Credentials(URL, "bob", SECRET)),
        lambda: client.erase(program, URL),
        lambda: client.list_credentials(program),
    ):
        with pytest.raises(HelperFailed) as caught:
            call()
        error = caught.value
        assert (error.program, error.status, error.output) == (program, 1, "program failed")
        assert str(error) == f"{program} {error.action} failed (exit status 1): program failed"
        assert_secret_hidden(error)


@pytest.mark.parametrize(
    ("output", "error_type"),
    [
        ("  credentials not found in native keychain\r\n\n", CredentialsNotFound),
        ("\tno credentials server URL ", MissingServerURL),
        ("no credentials username\n", MissingUsername),
    ],
)
@pytest.mark.parametrize("action", ["get", "erase"])
def test_known_messages_are_trimmed_and_typed(tmp_path, output, error_type, action):
    program = make_program(tmp_path, "known", f"printf '{output}'\nexit 3\n")
    with pytest.raises(error_type) as caught:
        getattr(client, action)(program, URL)
    assert type(caught.value) is error_type
    assert str(caught.value) == output.strip()


def test_known_message_with_exit_status_zero_is_not_an_error(tmp_path):
    """Only a non-zero exit is a failure; then the output must be JSON."""
    program = make_program(tmp_path, "zero", "echo 'credentials not found in native keychain'\n")
    with pytest.raises(HelperFailed) as caught:
        client.get(program, URL)
    assert str(caught.value) == (f"{program} get failed (exit status 0): not valid JSON: Expecting value (character 0)")


def test_stderr_never_reaches_the_error(tmp_path):
    program = make_program(tmp_path, "noisy", "echo 'stderr text with hunter2' >&2\nexit 2\n")
    with pytest.raises(HelperFailed) as caught:
        client.list_credentials(program)
    assert (caught.value.status, caught.value.output) == (2, "")
    assert str(caught.value) == f"{program} list failed (exit status 2): (no output)"


def test_store_failure_echoing_the_input_hides_the_secret(tmp_path):
    """A helper that prints what it got on stdin must not leak the secret through our error."""
    program = make_program(tmp_path, "echoing", "cat\nprintf ' raw: %s' 'pä$$wörd<&>'\nexit 1\n")
    with pytest.raises(HelperFailed) as caught:
        client.store(program, Credentials(URL, "<token>", SECRET))
    expected = (
        '{"ServerURL":"https://registry.example.com/v1/","Username":"\\u003ctoken\\u003e","Secret":"***"}\n raw: ***'
    )
    assert caught.value.output == expected
    assert str(caught.value) == f"{program} store failed (exit status 1): {expected}"
    assert_secret_hidden(caught.value)


def test_program_killed_by_a_signal(tmp_path):
    program = make_program(tmp_path, "killed", "kill -9 $$\n")
    with pytest.raises(HelperFailed) as caught:
        client.list_credentials(program)
    assert (caught.value.status, caught.value.output) == (137, "killed by SIGKILL")


def test_program_not_found(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(HelperFailed) as caught:
        client.get("nope", URL, {"PATH": str(empty)})
    error = caught.value
    assert (error.program, error.action, error.status) == ("docker-credential-nope", "get", 127)
    assert str(error) == "docker-credential-nope get failed (exit status 127): docker-credential-nope not found on PATH"

    missing = str(tmp_path / "docker-credential-missing")
    with pytest.raises(HelperFailed) as caught:
        client.store(missing, Credentials(URL, "bob", SECRET))
    assert caught.value.status == 127
    assert str(caught.value) == f"{missing} store failed (exit status 127): {missing} not found"
    assert_secret_hidden(caught.value)


def test_program_not_executable(tmp_path):
    program = tmp_path / "docker-credential-plain"
    program.write_text("#!/bin/sh\necho '{}'\n")
    program.chmod(0o644)
    with pytest.raises(HelperFailed) as caught:
        client.list_credentials(str(program))
    assert caught.value.status == 126
    assert str(caught.value) == f"{program} list failed (exit status 126): {program}: cannot run it: Permission denied"
    # Not executable also means "not found" when looked up on PATH, as with a shell.
    with pytest.raises(HelperFailed) as caught:
        client.list_credentials("plain", {"PATH": str(tmp_path)})
    assert str(caught.value) == (
        "docker-credential-plain list failed (exit status 127): docker-credential-plain not found on PATH"
    )


def test_relative_path_entry_is_refused(tmp_path, monkeypatch):
    """Like Go's exec.LookPath (ErrDot): a helper found only through "." on PATH is not run."""
    make_program(tmp_path, "docker-credential-here", "echo '{}'\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HelperFailed) as caught:
        client.list_credentials("here", {"PATH": "."})
    assert str(caught.value) == (
        "docker-credential-here list failed (exit status 127): "
        "docker-credential-here found only in the current directory (./docker-credential-here)"
    )
    assert client.list_credentials("./docker-credential-here") == {}


@pytest.mark.parametrize("script", ["exec sleep 30\n", "sleep 30\n"], ids=["exec", "grandchild"])
def test_a_hanging_helper_times_out(tmp_path, script):
    """Also when a grandchild keeps the output pipes open after the helper is killed."""
    program = make_program(tmp_path, "hanging", script)
    started = time.monotonic()
    with pytest.raises(HelperFailed) as caught:
        client.get(program, URL, timeout=0.5)
    assert time.monotonic() - started < 10
    assert (caught.value.status, caught.value.output) == (124, "no answer within 0.5 s; stopped it")
    assert str(caught.value) == f"{program} get failed (exit status 124): no answer within 0.5 s; stopped it"


# -- with Debian's Go helper (v0.6.4) over the same store ----------------------------


def test_go_stores_ours_gets(ours, go_pass, pass_env):
    client.store(go_pass, Credentials(URL, "<token>", SECRET), pass_env)
    assert client.get(ours, URL, pass_env) == Credentials(URL, "<token>", SECRET)
    assert client.list_credentials(ours, pass_env) == {URL: "<token>"}
    client.erase(ours, URL, pass_env)
    assert client.list_credentials(go_pass, pass_env) == {}


def test_ours_stores_go_gets(ours, go_pass, pass_env):
    client.store(ours, Credentials(URL, "<token>", SECRET), pass_env)
    client.store(ours, Credentials("registry.example.com:5000", "bob", "s3cr3t"), pass_env)
    assert client.get(go_pass, URL, pass_env) == Credentials(URL, "<token>", SECRET)
    assert client.get(go_pass, "registry.example.com:5000", pass_env) == Credentials(
        "registry.example.com:5000", "bob", "s3cr3t"
    )
    assert client.list_credentials(go_pass, pass_env) == {URL: "<token>", "registry.example.com:5000": "bob"}
    client.erase(go_pass, URL, pass_env)
    with pytest.raises(CredentialsNotFound) as caught:
        client.get(ours, URL, pass_env)
    assert str(caught.value) == "credentials not found in native keychain"


def test_go_known_errors(go_pass, pass_env):
    with pytest.raises(MissingServerURL) as caught:
        client.get(go_pass, "", pass_env)
    assert str(caught.value) == "no credentials server URL"
    with pytest.raises(MissingUsername) as caught:
        client.store(go_pass, Credentials(URL, "", SECRET), pass_env)
    assert str(caught.value) == "no credentials username"
    assert_secret_hidden(caught.value)


def test_go_get_of_a_missing_entry_is_empty(go_pass, pass_env):
    """The v0.6.4 quirk: exit status 0 with empty Username and Secret, which the client passes on (as Go's)."""
    result = world.run_helper(go_pass, "get", URL, pass_env)
    assert result.returncode == 0
    assert client.get(go_pass, URL, pass_env) == Credentials(URL, "", "")
