"""`credctl migrate --from HELPER`: every login another helper holds, into credctl's store,
verified, never over another login, and out of the source only once the target gives it back.

Sources are real: Debian's Go docker-credential-secretservice and docker-credential-pass
(v0.6.4) storing into a real gnome-keyring on a private D-Bus and a real pass store, and a
docker-credential-desktop stand-in (a helper-protocol program written here, keeping its logins in
a JSON file, as Docker Desktop's helper keeps them in the OS keychain). Results are checked by
running each helper's own `get` and `list` afterwards.
"""

import json
import stat
from pathlib import Path

import pytest
import world

from credctl.protocol import encode_credentials

LOGINS = [
    ("https://index.docker.io/v1/", "hubuser", "dckr_pat_hub-secret"),
    ("registry.example.com", "alice", "pä$$wörd <&> ✓"),
    ("127.0.0.1:5000", "<token>", "eyJhbGciOi.identity-token"),
]
HUB_ACCESS = world.HUB + "access-token"

# A docker-credential-desktop stand-in: the protocol over a JSON file ($DESKTOP_STORE); a key
# listed in $DESKTOP_BROKEN fails its get, and DESKTOP_NO_LIST=1 makes list fail.
DESKTOP = r"""#!/usr/bin/env python3
import json, os, sys
path = os.environ["DESKTOP_STORE"]
logins = json.load(open(path)) if os.path.exists(path) else {}
action = sys.argv[1]
data = sys.stdin.read()
def save():
    json.dump(logins, open(path, "w"))
if action == "list":
    if os.environ.get("DESKTOP_NO_LIST") == "1":
        print("the keychain is locked"); sys.exit(1)
    print(json.dumps({key: value[0] for key, value in logins.items()}))
elif action == "get":
    key = data.strip()
    if key in os.environ.get("DESKTOP_BROKEN", "").split(","):
        print("error reading the keychain item"); sys.exit(1)
    if key not in logins:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps({"ServerURL": key, "Username": logins[key][0], "Secret": logins[key][1]}))
elif action == "store":
    given = json.loads(data); logins[given["ServerURL"]] = [given["Username"], given["Secret"]]; save()
elif action == "erase":
    logins.pop(data.strip(), None); save()
"""


@pytest.fixture
def env(tmp_path, pass_env, secret_service):
    """A person with a pass store (credsStore pass), a Secret Service on their session bus and
    the desktop stand-in on PATH."""
    bin_dir = tmp_path / "desktop-bin"
    bin_dir.mkdir()
    program = bin_dir / "docker-credential-desktop"
    program.write_text(DESKTOP)
    program.chmod(stat.S_IRWXU)
    person = world.cli_env(
        tmp_path,
        pass_env,
        DBUS_SESSION_BUS_ADDRESS=secret_service.env["DBUS_SESSION_BUS_ADDRESS"],
        DESKTOP_STORE=str(tmp_path / "desktop.json"),
    )
    person["PATH"] = f"{world.BIN}:{bin_dir}:/usr/bin:/bin"
    set_config(person, {"credsStore": "pass"})
    return person


def set_config(env: dict, config: dict) -> None:
    """Docker's config.json where docker looks by default (~/.docker), as docker writes it."""
    folder = Path(env["HOME"]) / ".docker"
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent="\t"))


def store(program: str, env: dict, url: str, user: str, secret: str) -> None:
    result = world.run_helper(program, "store", encode_credentials(url, user, secret), env)
    assert (result.returncode, result.stdout) == (0, b""), result.stdout


def get(program: str, env: dict, url: str) -> tuple[int, bytes]:
    result = world.run_helper(program, "get", url, env)
    return result.returncode, result.stdout


def listing(program: str, env: dict) -> dict:
    result = world.run_helper(program, "list", b"", env)
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout)


def migrate(env: dict, *args: str):
    return world.credctl(env, "migrate", *args)


def results(result) -> list[tuple[str, str, str]]:
    assert result.stdout, result.stderr
    return [(row["server"], row["username"], row["result"]) for row in json.loads(result.stdout)]


def test_the_go_secretservice_helpers_logins_move_into_pass(env, go_secretservice):
    for login in LOGINS:
        store(go_secretservice, env, *login)
    done = migrate(env, "--from", "secretservice", "--to", "pass", "--remove-source", "--json")
    assert done.returncode == 0, done.stderr
    assert results(done) == sorted((url, user, "moved") for url, user, _ in LOGINS)
    rows = json.loads(done.stdout)
    assert {(row["from"], row["to"], row["held_by"], row["bookkeeping"]) for row in rows} == {
        ("docker-credential-secretservice", "pass", "", False)
    }
    for url, user, secret in LOGINS:
        assert get(world.ours(), env, url) == (0, encode_credentials(url, user, secret))
        assert get(world.GO_PASS, env, url) == (0, encode_credentials(url, user, secret))  # the Go pass reads it too
    assert listing(go_secretservice, env) == {}
    for output in (done.stdout, done.stderr):
        assert not any(secret in output for _, _, secret in LOGINS)


def test_the_go_pass_helpers_logins_copy_into_the_secret_service(env, go_pass, go_secretservice):
    for login in LOGINS:
        store(go_pass, env, *login)
    done = migrate(env, "--from", "pass", "--to", "secretservice")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "✓ copied 3 login(s) from docker-credential-pass into secretservice"
    for url, user, secret in LOGINS:
        assert get(go_secretservice, env, url) == (0, encode_credentials(url, user, secret))
        assert get(go_pass, env, url) == (0, encode_credentials(url, user, secret))  # copied, not moved


def test_anyones_helper_program_is_a_source(env):
    for login in LOGINS:
        store("docker-credential-desktop", env, *login)
    store("docker-credential-desktop", env, HUB_ACCESS, "hubuser", "eyJ.access.token")
    done = migrate(env, "--from", "desktop", "--remove-source")  # --to: the credsStore, pass
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "✓ moved 3 login(s) from docker-credential-desktop into pass (and Docker Hub's 1 bookkeeping entries)"
    )
    assert "https://index.docker.io/v1/access-token (Docker Hub bookkeeping)" in done.stdout
    for url, user, secret in [*LOGINS, (HUB_ACCESS, "hubuser", "eyJ.access.token")]:
        assert get(world.ours(), env, url) == (0, encode_credentials(url, user, secret))
    assert listing("docker-credential-desktop", env) == {}


def test_a_login_the_target_holds_is_kept_and_the_same_one_is_already_there(env):
    url, user, secret = LOGINS[1]
    store("docker-credential-desktop", env, url, user, secret)
    store("docker-credential-desktop", env, "same.example", "bob", "pw")
    store(world.ours(), env, url, "someone-else", "their-password")
    store(world.ours(), env, "same.example", "bob", "pw")
    done = migrate(env, "--from", "desktop", "--remove-source", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {
            "server": url,
            "username": user,
            "from": "docker-credential-desktop",
            "to": "pass",
            "result": "kept target's",
            "held_by": "someone-else",
            "bookkeeping": False,
        },
        {
            "server": "same.example",
            "username": "bob",
            "from": "docker-credential-desktop",
            "to": "pass",
            "result": "moved",
            "held_by": "",
            "bookkeeping": False,
        },
    ]
    assert get(world.ours(), env, url) == (0, encode_credentials(url, "someone-else", "their-password"))
    assert listing("docker-credential-desktop", env) == {url: user}  # not removed: the target kept its own
    text = migrate(env, "--from", "desktop")
    assert text.returncode == 0
    assert f"\n{url}: pass holds another login for it (user someone-else): kept it\n" in text.stdout


def test_one_login_that_cannot_be_read_fails_alone(env):
    store("docker-credential-desktop", env, "good.example", "a", "pw-a")
    store("docker-credential-desktop", env, "broken.example", "b", "pw-b")
    env = {**env, "DESKTOP_BROKEN": "broken.example"}
    done = migrate(env, "--from", "desktop", "--remove-source", "--json")
    assert done.returncode == 1
    assert results(done) == [
        (
            "broken.example",
            "b",
            "failed: cannot read it from the source: docker-credential-desktop get failed (exit status 1): "
            "error reading the keychain item",
        ),
        ("good.example", "a", "moved"),
    ]
    assert done.stderr == "error: 1 of 2 login(s) failed: see the JSON above\n"
    assert listing("docker-credential-desktop", env) == {"broken.example": "b"}


def test_a_source_that_cannot_list_moves_nothing(env):
    store("docker-credential-desktop", env, "good.example", "a", "pw-a")
    done = migrate({**env, "DESKTOP_NO_LIST": "1"}, "--from", "desktop")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: docker-credential-desktop list failed (exit status 1): the keychain is locked; nothing migrated\n"
    )
    assert listing(world.ours(), env) == {}
    missing = migrate(env, "--from", "osxkeychain")
    assert missing.returncode == 1
    assert missing.stderr == (
        "error: docker-credential-osxkeychain list failed (exit status 127): docker-credential-osxkeychain not "
        "found on PATH; nothing migrated\n"
    )


def test_dry_run_stores_and_removes_nothing(env, tmp_path):
    store("docker-credential-desktop", env, "new.example", "a", "pw-a")
    store("docker-credential-desktop", env, "held.example", "b", "pw-b")
    store(world.ours(), env, "held.example", "c", "pw-c")
    before = (tmp_path / "desktop.json").read_bytes(), listing(world.ours(), env)
    done = migrate(env, "--from", "desktop", "--remove-source", "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    assert results(done) == [
        ("held.example", "b", "would keep the target's (user c)"),
        ("new.example", "a", "would be moved"),
    ]
    assert ((tmp_path / "desktop.json").read_bytes(), listing(world.ours(), env)) == before
    text = migrate(env, "--from", "desktop", "--dry-run")
    assert text.stdout.splitlines()[-1] == "Dry run: nothing was stored or removed."


def test_into_the_router_each_login_goes_where_its_route_says(env, go_secretservice):
    store("docker-credential-desktop", env, "ss.example", "a", "pw-a")
    store("docker-credential-desktop", env, "other.example", "b", "pw-b")
    assert world.credctl(env, "route", "add", "ss.example", "secretservice").returncode == 0
    assert world.credctl(env, "route", "default", "pass").returncode == 0
    set_config(env, {"credsStore": "credctl"})
    done = migrate(env, "--from", "desktop", "--json")  # --to: the credsStore, the router
    assert done.returncode == 0, done.stderr
    assert results(done) == [("other.example", "b", "copied"), ("ss.example", "a", "copied")]
    assert get(go_secretservice, env, "ss.example") == (0, encode_credentials("ss.example", "a", "pw-a"))
    assert get(world.ours(), env, "other.example") == (0, encode_credentials("other.example", "b", "pw-b"))
    assert get(world.ours(), env, "ss.example")[0] == 1  # not in pass


def test_source_and_target_one_store_loses_nothing(env):
    """--from pass --to credctl, whose default route is pass: every login is 'already there', and
    removing it from the source would take the only copy: it stays."""
    store(world.ours(), env, "only.example", "a", "pw-a")
    assert world.credctl(env, "route", "default", "pass").returncode == 0
    done = migrate(env, "--from", "pass", "--to", "credctl", "--remove-source", "--json")
    assert done.returncode == 1
    assert results(done) == [("only.example", "a", "failed: the source and the target are one store: left in it")]
    assert get(world.ours(), env, "only.example") == (0, encode_credentials("only.example", "a", "pw-a"))


def test_expires_is_kept_for_what_was_copied(env):
    store("docker-credential-desktop", env, "tok.example", "ci", "opaque")
    done = migrate(env, "--from", "desktop", "--expires", "2099-06-30")
    assert done.returncode == 0, done.stderr
    rows = json.loads(world.credctl(env, "list", "--json").stdout)
    (row,) = [row for row in rows if row["registry"] == "tok.example"]
    assert (row["expires"], row["expires_from"]) == ("2099-06-30T23:59:59Z", "given")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--remove-source"], "--remove-source works with --from HELPER only"),
        (["--json"], "--json works with --from HELPER only"),
        (["--expires", "90d"], "--expires works with --from HELPER only"),
        (
            ["--from", "desktop", "--prefer-plaintext"],
            "--prefer-plaintext is for plaintext logins: with --from, the target's are kept",
        ),
        (["--from", "pass", "--to", "pass"], "--from and --to name one store (pass): nothing to move"),
        (
            ["--from", "desktop", "--to", "desktop"],
            "Invalid value for --to: choose one of pass, secretservice, keyring, credctl",
        ),
        (
            ["--from", "../evil"],
            "'../evil' is not a helper name: give the suffix of a docker-credential-* program, e.g. pass",
        ),
        (
            ["--from", "desktop", "--expires", "soon"],
            "'soon' is not a date: write it as 2027-01-31, 2027-01-31T12:00:00Z or a time from now such as 90d",
        ),
    ],
)
def test_usage_errors(env, args, message):
    result = migrate(env, *args)
    assert world.usage_error(result, "migrate") == message


def test_no_credsstore_and_no_to_is_a_usage_error(env):
    set_config(env, {"credsStore": "desktop"})
    result = migrate(env, "--from", "desktop")
    assert world.usage_error(result, "migrate") == (
        "Docker's credsStore is 'desktop': choose where the logins go with --to (pass, secretservice, keyring, credctl)"
    )
