"""The router in front of another program that keeps no logins: a cloud token helper such as
docker-credential-ecr-login answers `store` with an error (amazon-ecr-credential-helper's Add
returns "not implemented"). Through docker-credential-credctl, `docker login` on such a route
still works: the login goes to the default route's login store (real pass here), `get` gives
the program's token while it has one and the kept login when it has none or fails, `erase`
clears both, and the kubelet plugin follows the same rule.

The program is a small script written here (tokenonly): it keeps nothing, answers `get` from a
file the test writes, and records each action it was asked for.
"""

import json
from pathlib import Path

import pytest
import world
from world import docker_env

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
PATTERN = "*.dkr.ecr.*.amazonaws.com"
PROGRAM = "docker-credential-credctl"
NOT_FOUND = b"credentials not found in native keychain\n"

TOKEN_HELPER = """#!/bin/sh
# A token helper: keeps no logins; get answers from $TOKENONLY_DIR/answer, or fails as told.
printf '%s\\n' "$1" >> "$TOKENONLY_DIR/actions"
case "$1" in
  store) cat > /dev/null; echo "not implemented"; exit 1 ;;
  get)
    cat > /dev/null
    if [ -e "$TOKENONLY_DIR/broken" ]; then echo "token service unreachable"; exit 1; fi
    if [ -e "$TOKENONLY_DIR/answer" ]; then cat "$TOKENONLY_DIR/answer"; exit 0; fi
    echo "credentials not found in native keychain"; exit 1 ;;
  erase) cat > /dev/null; exit 0 ;;
  list) echo "{}"; exit 0 ;;
esac
exit 1
"""


@pytest.fixture
def routed(pass_env, tmp_path):
    """A Docker user with credsStore credctl, the default route pass and PATTERN → tokenonly."""
    bin_dir, state = tmp_path / "bin", tmp_path / "tokenonly"
    bin_dir.mkdir()
    state.mkdir()
    script = bin_dir / "docker-credential-tokenonly"
    script.write_text(TOKEN_HELPER)
    script.chmod(0o755)
    env = docker_env({**pass_env, "TOKENONLY_DIR": str(state)}, tmp_path, {"credsStore": "credctl"}, [str(bin_dir)])
    settings = Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"
    settings.parent.mkdir(parents=True)
    world.write(settings, json.dumps({"route_default": "pass", "routes": {PATTERN: "tokenonly"}}).encode())
    return env, state


def helper(env, action: str, data: str) -> tuple[int, bytes, bytes]:
    return world.outcome(world.installed(PROGRAM), action, data, env)


def login(user: str = "AWS", secret: str = "s3cret-login") -> str:
    return json.dumps({"ServerURL": HOST, "Username": user, "Secret": secret})


def entry(env) -> Path:
    return Path(env["PASSWORD_STORE_DIR"]) / "docker-credential-helpers" / world.b64(HOST) / "AWS.gpg"


FAILED_STORE = (
    f"credctl: route {PATTERN} → docker-credential-tokenonly: docker-credential-tokenonly store failed "
    "(exit status 1): not implemented; kept the login in docker-credential-pass instead\n"
)


def test_docker_login_on_a_token_route_keeps_the_login_in_the_default_store(routed):
    env, state = routed

    assert helper(env, "store", login()) == (0, b"", FAILED_STORE.encode())

    assert entry(env).is_file()  # in pass, under the Go helper's layout
    assert (state / "actions").read_text() == "store\n"


def test_get_prefers_the_programs_token_and_falls_back_to_the_kept_login(routed):
    env, state = routed
    helper(env, "store", login())
    token = {"ServerURL": HOST, "Username": "AWS", "Secret": "fresh-token"}
    (state / "answer").write_text(json.dumps(token) + "\n")

    assert helper(env, "get", HOST) == (0, world.answer(HOST, "fresh-token", "AWS"), b"")

    (state / "answer").unlink()  # the program has none: the kept login, silently
    assert helper(env, "get", HOST) == (0, world.answer(HOST, "s3cret-login", "AWS"), b"")

    (state / "broken").write_text("")  # the program fails: the kept login, with one line
    status, out, err = helper(env, "get", HOST)
    assert (status, out) == (0, world.answer(HOST, "s3cret-login", "AWS"))
    assert (
        err
        == (
            f"credctl: route {PATTERN} → docker-credential-tokenonly: docker-credential-tokenonly get failed "
            "(exit status 1): token service unreachable; using the login kept in docker-credential-pass\n"
        ).encode()
    )


def test_without_a_kept_login_the_programs_answer_stands(routed):
    env, state = routed

    assert helper(env, "get", HOST) == (1, NOT_FOUND, b"")

    (state / "broken").write_text("")
    assert helper(env, "get", HOST) == (
        1,
        f"route {PATTERN} → docker-credential-tokenonly: docker-credential-tokenonly get failed "
        "(exit status 1): token service unreachable\n".encode(),
        b"",
    )


def test_erase_clears_the_kept_login_and_asks_the_program(routed):
    env, state = routed
    helper(env, "store", login())

    assert helper(env, "erase", HOST) == (0, b"", b"")

    assert not entry(env).exists()
    assert (state / "actions").read_text() == "store\nerase\n"
    assert helper(env, "get", HOST) == (1, NOT_FOUND, b"")


def test_the_kubelet_plugin_follows_the_same_rule(routed):
    env, state = routed
    helper(env, "store", login())
    image = f"{HOST}/team/app:1"

    answer = world.answered(world.provide(env, world.request(image)))

    assert answer["auth"] == {HOST: {"username": "AWS", "password": "s3cret-login"}}
    token = {"ServerURL": HOST, "Username": "AWS", "Secret": "fresh-token"}
    (state / "answer").write_text(json.dumps(token) + "\n")
    answer = world.answered(world.provide(env, world.request(image)))
    assert answer["auth"] == {HOST: {"username": "AWS", "password": "fresh-token"}}
