"""Same stored data as Debian's Go docker-credential-pass (v0.6.4), in both directions."""

import pytest
from world import run_helper

from credctl.protocol import encode_credentials

CASES = [
    ("https://index.docker.io/v1/", "alice", "s3cr3t"),
    ("registry.example.com:5000", "<token>", "eyJhbGciOi.identity-token"),
    ("https://ünïcode.example/v2/", "jürgen", "pä$$wörd <&> ✓ 🐳"),
    ("127.0.0.1:5000/some/path", "user@example.com", 'quote" back\\slash'),
]


def store(program, env, url, user, secret):
    result = run_helper(program, "store", encode_credentials(url, user, secret), env)
    assert (result.returncode, result.stdout) == (0, b"")


@pytest.mark.parametrize(("url", "user", "secret"), CASES)
def test_stored_by_go_read_by_ours(ours, go_pass, pass_env, url, user, secret):
    store(go_pass, pass_env, url, user, secret)
    ours_get = run_helper(ours, "get", url, pass_env)
    assert (ours_get.returncode, ours_get.stdout) == (0, encode_credentials(url, user, secret))
    assert ours_get.stdout == run_helper(go_pass, "get", url, pass_env).stdout  # byte for byte


@pytest.mark.parametrize(("url", "user", "secret"), CASES)
def test_stored_by_ours_read_by_go(ours, go_pass, pass_env, url, user, secret):
    store(ours, pass_env, url, user, secret)
    go_get = run_helper(go_pass, "get", url, pass_env)
    assert (go_get.returncode, go_get.stdout) == (0, encode_credentials(url, user, secret))


def test_lists_agree(ours, go_pass, pass_env):
    for index, (url, user, secret) in enumerate(CASES):
        store(ours if index % 2 else go_pass, pass_env, url, user, secret)
    ours_list = run_helper(ours, "list", b"", pass_env)
    assert ours_list.returncode == 0
    assert ours_list.stdout == run_helper(go_pass, "list", b"", pass_env).stdout
    assert ours_list.stdout.count(b":") >= len(CASES)


def test_erased_by_ours_gone_for_go(ours, go_pass, pass_env):
    url, user, secret = CASES[1]
    store(go_pass, pass_env, url, user, secret)
    store(go_pass, pass_env, "other.example", "bob", "pw")
    assert run_helper(ours, "erase", url, pass_env).returncode == 0
    assert run_helper(go_pass, "list", b"", pass_env).stdout == b'{"other.example":"bob"}\n'
    # v0.6.4 answers a missing entry with empty credentials and exit 0 (fixed upstream in v0.7).
    go_get = run_helper(go_pass, "get", url, pass_env)
    assert go_get.stdout in (
        b"credentials not found in native keychain\n",
        f'{{"ServerURL":"{url}","Username":"","Secret":""}}\n'.encode(),
    )


def test_erased_by_go_gone_for_ours(ours, go_pass, pass_env):
    url, user, secret = CASES[0]
    store(ours, pass_env, url, user, secret)
    assert run_helper(go_pass, "erase", url, pass_env).returncode == 0
    result = run_helper(ours, "get", url, pass_env)
    assert (result.returncode, result.stdout) == (1, b"credentials not found in native keychain\n")
    assert run_helper(ours, "list", b"", pass_env).stdout == b"{}\n"
