"""The Store contract, once for every store in credctl.stores.STORES, against the real backends of
each store's world (world.store_world): gpg and pass, gnome-keyring on a private D-Bus, keyring's
SecretService backend on it, ACR against the loopback fake Alibaba Cloud.

A login store keeps what it is given: add, get, list and delete; a second add replaces the first
login; what it does not have raises CredentialsNotFound with the text Docker recognises, and deleting
it is no error (containers/image's logout needs that: docs/helper-protocol.md); any
text comes back as it went in; a Docker Hub login stored under any of Docker Hub's names is found
under the others through the protocol's fallback. Through the store's own program, as Docker
runs it, the same answers come out byte for byte as Go's helpers print them.

The router (credsStore credctl), in front of pass by its default route, keeps logins through
that route and passes the login stores' contract unchanged.

A token store (ACR) stores nothing: add is refused with its one line, a host it does not serve
has no credentials, and list shows the registries it holds a fresh token for.
"""

import pytest
import world
from world import NOT_FOUND, TEMP_USER, outcome, run_helper, use_environment

from credctl.errors import CredentialsNotFound, StoreError
from credctl.names import DOCKER_HUB_KEYS
from credctl.protocol import encode_credentials, get_with_hub_fallback
from credctl.stores import LOGIN_STORES, ROUTERS, STORES, open_store

TOKEN_STORES = tuple(name for name, spec in STORES.items() if spec.tokens)
NOT_FOUND_TEXT = "credentials not found in native keychain"  # what Docker's client recognises
URL = "registry.example.com:5000"
TEXTS = [  # (server URL, username, secret): unicode, and what Go's JSON encoder escapes
    ("https://ünïcode.example/v2/", "jürgen", "pä$$wörd <&> ✓ 🐳"),
    (URL, "<token>", 'a<b>&c"d\\e\n\t\x01\x7f\u2028\u2029é/'),
    ("127.0.0.1:5000/some/path", "user@example.com", "quote\" back\\slash 'single' ü"),
]
LOOKALIKES = ("docker.io.evil.example", "https://docker.io/v2/", "quay.io")
ISSUED_NOT_STORED = (
    "ACR tokens are issued by Alibaba Cloud, not stored: docker-credential-acr-helper gets one from your "
    "Alibaba Cloud credentials on each pull; there is nothing to log in to (see `credctl acr add-profile`)"
)


def not_found(store, server_url: str, get=None) -> None:
    """get (store.get by default) has nothing for server_url, with Docker's exact text."""
    with pytest.raises(CredentialsNotFound) as caught:
        (get or store.get)(server_url)
    assert str(caught.value) == NOT_FOUND_TEXT


@pytest.fixture(params=(*LOGIN_STORES, *ROUTERS))  # the router keeps logins through its route
def login_world(request) -> world.StoreWorld:
    return world.store_world(request.param, request)


@pytest.fixture
def login_store(login_world, monkeypatch):
    """The login store itself, in this process, over its world's real backend."""
    use_environment(monkeypatch, login_world.env)
    return open_store(login_world.name)


# --- login stores, in process ------------------------------------------------------------------


def test_add_get_list_delete(login_store):
    assert login_store.list() == {}
    login_store.add(URL, "alice", "s3cr3t")
    assert login_store.get(URL) == ("alice", "s3cr3t")
    assert login_store.list() == {URL: "alice"}
    login_store.delete(URL)
    not_found(login_store, URL)
    assert login_store.list() == {}


def test_a_second_add_replaces_the_login(login_store):
    login_store.add(URL, "zed", "one")
    login_store.add(URL, "alice", "two")
    assert (login_store.get(URL), login_store.list()) == (("alice", "two"), {URL: "alice"})
    login_store.add(URL, "zed", "three")
    assert (login_store.get(URL), login_store.list()) == (("zed", "three"), {URL: "zed"})


def test_a_missing_login_is_not_found(login_store):
    login_store.add("other.example", "bob", "pw")
    not_found(login_store, URL)
    not_found(login_store, "other.example:443")  # no fuzzy matching on the store's side


def test_delete_of_a_missing_login_succeeds(login_store):
    # Every store, as Go's secretservice helper (not Go's pass helper): containers/image's logout
    # crashes on a helper's "not found" to erase (docs/helper-protocol.md, tests/test_erase_missing.py).
    login_store.add("other.example", "bob", "pw")
    for missing in (URL, "", "x" * 5000, *DOCKER_HUB_KEYS):
        login_store.delete(missing)
    assert login_store.list() == {"other.example": "bob"}


@pytest.mark.parametrize("stored_as", DOCKER_HUB_KEYS)
def test_a_docker_hub_login_is_found_under_each_of_its_names(login_store, stored_as):
    login_store.add(stored_as, "alice", "hub-secret")
    for asked in DOCKER_HUB_KEYS:
        assert get_with_hub_fallback(login_store, asked) == ("alice", "hub-secret"), asked
        if asked != stored_as:
            not_found(login_store, asked)  # the fallback is the protocol's: the store keeps one key
    for asked in LOOKALIKES:
        not_found(login_store, asked, get=lambda url: get_with_hub_fallback(login_store, url))


def test_any_text_round_trips(login_store):
    for url, username, secret in TEXTS:
        login_store.add(url, username, secret)
    for url, username, secret in TEXTS:
        assert login_store.get(url) == (username, secret), url
    assert login_store.list() == {url: username for url, username, _ in TEXTS}


# --- login stores, through their programs as Docker runs them -----------------------------------


def test_the_helper_of_an_empty_store(login_world):
    assert outcome(login_world.program, "list", b"unused", login_world.env) == (0, b"{}\n", b"")
    assert outcome(login_world.program, "get", "missing.example", login_world.env) == (1, NOT_FOUND, b"")
    # Erasing nothing succeeds, as Go's secretservice helper answers.
    assert outcome(login_world.program, "erase", "missing.example", login_world.env) == (0, b"", b"")


def test_the_helper_answers_as_go_does(login_world):
    program, env = login_world.program, login_world.env
    url, username, secret = TEXTS[1]
    stored = run_helper(program, "store", encode_credentials(url, username, secret), env)
    assert (stored.returncode, stored.stdout, stored.stderr) == (0, b"", b"")
    got = run_helper(program, "get", url, env)
    assert (got.returncode, got.stdout, got.stderr) == (
        0,
        b'{"ServerURL":"registry.example.com:5000","Username":"\\u003ctoken\\u003e",'
        b'"Secret":"a\\u003cb\\u003e\\u0026c\\"d\\\\e\\n\\t\\u0001\x7f\\u2028\\u2029\xc3\xa9/"}\n',
        b"",
    )
    listed = run_helper(program, "list", b"", env)
    assert listed.stdout == b'{"registry.example.com:5000":"\\u003ctoken\\u003e"}\n'
    erased = run_helper(program, "erase", url, env)
    assert (erased.returncode, erased.stdout, erased.stderr) == (0, b"", b"")
    assert outcome(program, "get", url, env) == (1, NOT_FOUND, b"")


# --- token stores --------------------------------------------------------------------------------


@pytest.fixture(params=TOKEN_STORES)
def token_world(request, monkeypatch) -> world.StoreWorld:
    store = world.store_world(request.param, request)
    use_environment(monkeypatch, store.env)
    return store


def test_a_token_store_refuses_add(token_world):
    with pytest.raises(StoreError) as caught:
        open_store(token_world.name).add(token_world.registry, "alice", "s3cr3t")
    assert str(caught.value) == ISSUED_NOT_STORED
    stored = run_helper(token_world.program, "store", encode_credentials(URL, "alice", "s3cr3t"), token_world.env)
    assert (stored.returncode, stored.stdout, stored.stderr) == (1, ISSUED_NOT_STORED.encode() + b"\n", b"")


def test_a_token_store_has_nothing_for_other_hosts(token_world):
    store = open_store(token_world.name)
    for asked in (URL, *DOCKER_HUB_KEYS, *LOOKALIKES):
        not_found(store, asked, get=lambda url: get_with_hub_fallback(store, url))
    assert outcome(token_world.program, "get", URL, token_world.env) == (1, NOT_FOUND, b"")


def test_a_token_store_lists_the_tokens_it_holds(token_world, aliyun):
    store = open_store(token_world.name)
    assert store.list() == {}
    assert store.get(token_world.registry) == (TEMP_USER, aliyun.issued[-1].token)
    assert store.list() == {token_world.registry: TEMP_USER}
    store.delete(token_world.registry)
    assert store.list() == {}
    store.delete(token_world.registry)  # nothing cached: nothing to do
