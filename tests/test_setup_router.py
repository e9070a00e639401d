"""`credctl setup --router`: the router in front of Docker (credsStore `credctl`) and Podman
(credctl's drop-in), the store setup picked as its default route, credHelpers adopted only when
asked; then real clients through it: each docker CLI of the test world (`docker login`/`logout`
against the real registry) and podman in its default configuration (no REGISTRY_AUTH_FILE).

Everything runs as world.pass_person: a throwaway HOME with a real pass store in
~/.password-store (real gpg), credctl's programs first on PATH, nothing else configured.
"""

import json
from pathlib import Path

import pytest
import world

from credctl import podman

ROUTER = "docker-credential-credctl"
PASS = "docker-credential-pass"
NOT_FOUND = "credentials not found in native keychain"
DROPIN_ROUTER = podman.DROPIN_HEADER + 'credential-helpers = ["credctl", "containers-auth.json"]\n'
SETTINGS_PASS = b'{\n  "route_default": "pass"\n}\n'
FINISHED = (
    "Docker now asks docker-credential-credctl (the router); its default route is pass. Add routes with "
    "`credctl route add`; check it all with `credctl verify`."
)


@pytest.fixture
def person(tmp_path):
    world.need("pass", "gpg")
    someone = world.pass_person(tmp_path / "p")
    yield someone
    world.stop_person_agent(someone)


def docker_config(person) -> Path:
    return person.home / ".docker" / "config.json"


def settings(person) -> Path:
    return person.home / ".config" / "credctl" / "settings.json"


def dropin(person) -> Path:
    return person.dropin_folder / podman.DROPIN_NAME


def podman_auth(person) -> Path:
    return person.home / ".config" / "containers" / "auth.json"


def write_config(person, text: bytes) -> None:
    path = docker_config(person)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    world.write(path, text)


def get(person, program: str, server: str) -> tuple[int, str]:
    result = person.run(program, "get", stdin=server)
    return result.returncode, result.stdout.strip()


def setup_router(person, *args: str):
    return person.run("credctl", "setup", "--router", "--store", "pass", "--yes", *args)


# --- what setup --router writes --------------------------------------------------------------------

PLAINTEXT = world.layout(
    f"""
    {{
        "auths": {{
            "a.example": {{
                "auth": "{world.b64("alice:alice-pw-1")}"
            }}
        }},
        "credHelpers": {{
            "mapped.example": "ecr-login"
        }}
    }}
    """
)


def test_setup_router_fronts_docker_and_podman_with_the_store_as_default_route(person):
    write_config(person, PLAINTEXT)

    result = setup_router(person, "--podman")

    assert result.returncode == 0, result.stderr
    config = docker_config(person)
    assert result.stdout.startswith(
        "Plaintext credentials to move\n"
        "┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┓\n"
        "┃ registry  ┃ user  ┃ into                      ┃ result  ┃\n"
        "┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━┩\n"
        "│ a.example │ alice │ docker-credential-credctl │ planned │\n"
        "└───────────┴───────┴───────────────────────────┴─────────┘\n"
        "Migration\n"
        "┏━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┓\n"
        "┃ registry  ┃ user  ┃ into                      ┃ result ┃\n"
        "┡━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━┩\n"
        "│ a.example │ alice │ docker-credential-credctl │ moved  │\n"
        "└───────────┴───────┴───────────────────────────┴────────┘\n"
    ), result.stdout
    assert len(result.stdout.splitlines()) == 19
    assert result.stdout.splitlines()[-7:] == [
        f"✓ moved 1 credential(s) out of {config}",
        f"✓ {config}: updated",
        f"✓ {settings(person)}: default route → pass",
        f"✓ {dropin(person)}: updated: podman, buildah and skopeo log in through {ROUTER}",
        f"✓ {podman_auth(person)}: updated",
        f"credHelpers in {config} still win over the router for mapped.example: "
        "`credctl setup --router --adopt-credhelpers` moves them into routes",
        FINISHED,
    ]
    assert config.read_bytes() == world.layout(
        """
        {
            "auths": {
                "a.example": {}
            },
            "credHelpers": {
                "mapped.example": "ecr-login"
            },
            "credsStore": "credctl"
        }
        """
    )
    assert settings(person).read_bytes() == SETTINGS_PASS
    assert dropin(person).read_text() == DROPIN_ROUTER
    assert json.loads(podman_auth(person).read_text()) == {"credHelpers": {"mapped.example": "ecr-login"}}
    # the moved login went through the router into its default route: pass holds it
    answer = '{"ServerURL":"a.example","Username":"alice","Secret":"alice-pw-1"}'
    assert get(person, ROUTER, "a.example") == (0, answer)
    assert get(person, PASS, "a.example") == (0, answer)
    world.assert_no_secret(["alice-pw-1"], config.read_text(), result.stdout, result.stderr)
    listed = person.run("credctl", "route", "list")
    assert listed.stdout == (
        "Routes, in precedence order\n"
        "┏━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━┓\n"
        "┃ pattern     ┃ helper ┃ kind     ┃\n"
        "┡━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━┩\n"
        "│ ACR domains │ acr    │ built in │\n"
        "│ *           │ pass   │ default  │\n"
        "└─────────────┴────────┴──────────┘\n"
    )


ADOPT = world.layout(
    f"""
    {{
        "credHelpers": {{
            "reg.example:5000": "ecr-login",
            "{world.HUB}": "secretservice",
            "served.example": "credctl",
            "plain.example": ""
        }},
        "credsStore": "pass"
    }}
    """
)


def test_adopt_credhelpers_moves_them_into_routes_and_out_of_both_files(person):
    write_config(person, ADOPT)
    auth = podman_auth(person)
    auth.parent.mkdir(parents=True, exist_ok=True)
    # what an earlier `credctl setup --podman` wrote for the mapped registries, and one of the person's own
    world.write(
        auth,
        b'{\n\t"credHelpers": {\n\t\t"reg.example:5000": "ecr-login",\n\t\t"docker.io": "secretservice",\n'
        b'\t\t"own.example": "gcloud"\n\t}\n}',
    )

    result = setup_router(person, "--podman", "--adopt-credhelpers")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "warning: credHelpers entry plain.example stays: it sends the registry to plaintext auths\n"
    lines = result.stdout.splitlines()
    assert lines == [
        f"✓ {docker_config(person)}: updated",
        "✓ route reg.example:5000 → ecr-login (was a credHelpers entry)",
        "✓ route docker.io → secretservice (was a credHelpers entry)",
        f"✓ {settings(person)}: default route → pass",
        f"✓ {dropin(person)}: updated: podman, buildah and skopeo log in through {ROUTER}",
        f"✓ {auth}: updated",
        FINISHED,
    ]
    assert docker_config(person).read_bytes() == world.layout(
        """
        {
            "credHelpers": {
                "plain.example": ""
            },
            "credsStore": "credctl"
        }
        """
    )
    assert auth.read_bytes() == b'{\n\t"credHelpers": {\n\t\t"own.example": "gcloud"\n\t}\n}'
    assert settings(person).read_bytes() == (
        b"{\n"
        b'  "route_default": "pass",\n'
        b'  "routes": {\n'
        b'    "reg.example:5000": "ecr-login",\n'
        b'    "docker.io": "secretservice"\n'
        b"  }\n"
        b"}\n"
    )
    listed = person.run("credctl", "route", "list", "--json")
    assert json.loads(listed.stdout) == [
        {"pattern": "reg.example:5000", "helper": "ecr-login"},
        {"pattern": "docker.io", "helper": "secretservice"},
        {"pattern": "*", "helper": "pass"},
    ]


def test_without_adopt_credhelpers_they_stay_and_a_line_says_they_win(person):
    text = world.layout('{\n    "credHelpers": {\n        "reg.example": "ecr-login"\n    }\n}')
    write_config(person, text)

    result = setup_router(person, "--no-podman")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"✓ {docker_config(person)}: updated",
        f"✓ {settings(person)}: default route → pass",
        f"credHelpers in {docker_config(person)} still win over the router for reg.example: "
        "`credctl setup --router --adopt-credhelpers` moves them into routes",
        FINISHED,
    ]
    assert json.loads(docker_config(person).read_text()) == {
        "credHelpers": {"reg.example": "ecr-login"},
        "credsStore": "credctl",
    }
    assert not dropin(person).exists()


def test_adopt_credhelpers_needs_router(person):
    result = person.run("credctl", "setup", "--store", "pass", "--yes", "--adopt-credhelpers")
    assert world.usage_error(result, "setup") == (
        "--adopt-credhelpers moves credHelpers into the router's routes: add --router"
    )


def test_dry_run_shows_the_routes_and_writes_nothing(person):
    write_config(person, b'{\n\t"credHelpers": {\n\t\t"reg.example": "ecr-login"\n\t}\n}')

    result = setup_router(person, "--no-podman", "--adopt-credhelpers", "--dry-run")

    assert result.returncode == 0, result.stderr
    config = docker_config(person)
    assert result.stdout == (
        f"{settings(person)}: route reg.example → ecr-login\n"
        f"{settings(person)}: default route → pass\n"
        f"--- {config}\n"
        f"+++ {config} (after)\n"
        + (
            "@@ -1,5 +1,3 @@\n"
            " {\n"
            '-\t"credHelpers": {\n'
            '-\t\t"reg.example": "ecr-login"\n'
            "-\t}\n"
            '+\t"credsStore": "credctl"\n'
            " }\n"
        ).expandtabs()
        + "\n"
        "Dry run: nothing was written.\n"
    )
    assert config.read_bytes() == b'{\n\t"credHelpers": {\n\t\t"reg.example": "ecr-login"\n\t}\n}'
    assert not settings(person).exists()


def test_a_failing_step_puts_the_routes_and_the_drop_in_back(person):
    """A plaintext login whose credHelpers helper is not installed cannot move: setup stops, and
    what it had written (the drop-in, the routes) is as it was, byte for byte."""
    text = (
        b'{"auths": {"m.example": {"auth": "' + world.b64("mo:pw-m").encode() + b'"}}, '
        b'"credHelpers": {"m.example": "nosuch"}}'
    )
    write_config(person, text)
    before_settings = b'{\n  "route_default": "secretservice",\n  "routes": {\n    "reg.example": "keyring"\n  }\n}\n'
    settings(person).parent.mkdir(parents=True)
    world.write(settings(person), before_settings)

    result = setup_router(person, "--podman")

    assert result.returncode == 1
    assert result.stderr.endswith(
        "error: 1 of 1 plaintext login(s) could not be moved through the router (m.example): "
        f"{docker_config(person)} and the routes stay as they were; see the table above\n"
    )
    assert docker_config(person).read_bytes() == text
    assert settings(person).read_bytes() == before_settings
    assert not dropin(person).exists()
    world.assert_no_secret(["pw-m"], result.stdout, result.stderr)


# --- real clients through the router ---------------------------------------------------------------


def test_docker_login_and_logout_go_through_the_routers_default_route(person, registry, docker_cli):
    assert setup_router(person, "--no-podman").returncode == 0

    login = person.run(
        docker_cli, "login", "-u", registry.user, "--password-stdin", registry.address, stdin=registry.password
    )

    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    assert "unencrypted" not in login.stdout + login.stderr
    assert json.loads(docker_config(person).read_text()) == {
        "auths": {registry.address: {}},
        "credsStore": "credctl",
    }
    stored = json.dumps(
        {"ServerURL": registry.address, "Username": registry.user, "Secret": registry.password}, separators=(",", ":")
    )
    assert get(person, PASS, registry.address) == (0, stored)  # the default route's store holds it
    assert get(person, ROUTER, registry.address) == (0, stored)
    tested = person.run("credctl", "route", "test", registry.address)
    assert tested.stdout == (
        f"{registry.address} → pass (docker-credential-pass, in-process): the default route: no rule matches\n"
    )

    logout = person.run(docker_cli, "logout", registry.address)

    assert logout.returncode == 0, logout.stderr
    assert f"Removing login credentials for {registry.address}" in logout.stdout
    assert get(person, PASS, registry.address) == (1, NOT_FOUND)
    assert get(person, ROUTER, registry.address) == (1, NOT_FOUND)


def test_podman_login_and_logout_go_through_the_router_by_the_drop_in(person, registry):
    world.need("podman", "unshare")
    assert setup_router(person, "--podman").returncode == 0
    assert dropin(person).read_text() == DROPIN_ROUTER

    login = person.login("podman", registry.address, registry.user, registry.password)

    assert login.returncode == 0, login.stderr
    stored = json.dumps(
        {"ServerURL": registry.address, "Username": registry.user, "Secret": registry.password}, separators=(",", ":")
    )
    assert get(person, PASS, registry.address) == (0, stored)
    secrets = [registry.password, world.b64(f"{registry.user}:{registry.password}")]
    for path in (person.primary_auth_file, podman_auth(person), docker_config(person)):
        if path.exists():
            world.assert_no_secret(secrets, path.read_text())

    logout = person.run("podman", "logout", registry.address)

    assert (logout.returncode, logout.stdout) == (0, f"Removed login credentials for {registry.address}\n")
    assert get(person, PASS, registry.address) == (1, NOT_FOUND)


def test_setup_router_again_changes_nothing_and_says_so(person):
    assert setup_router(person, "--podman").returncode == 0
    files = [docker_config(person), settings(person), dropin(person)]
    before = [path.read_bytes() for path in files]

    again = setup_router(person, "--podman")

    assert (again.returncode, again.stderr) == (0, "")
    assert again.stdout.splitlines() == [
        f"✓ {docker_config(person)}: already set up",
        f"✓ {settings(person)}: default route → pass (already so)",
        f"✓ {dropin(person)}: already set up",
        FINISHED,
    ]
    assert [path.read_bytes() for path in files] == before
    assert docker_config(person).read_bytes() == b'{\n\t"credsStore": "credctl"\n}'


def test_setup_router_with_another_store_moves_the_default_routes_logins(person, tmp_path):
    """Run again with another store, the router's default route changes, and the logins the old
    default route's store held move through the router into the new one (none is stranded)."""
    world.need("dbus-daemon", "gnome-keyring-daemon")
    service = world.SecretService(tmp_path / "keyring")
    try:
        person.env["DBUS_SESSION_BUS_ADDRESS"] = service.env["DBUS_SESSION_BUS_ADDRESS"]
        assert setup_router(person, "--no-podman").returncode == 0
        stored = person.run(ROUTER, "store", stdin='{"ServerURL":"b.example","Username":"bob","Secret":"bob-pw-2"}')
        assert stored.returncode == 0, stored.stdout
        answer = '{"ServerURL":"b.example","Username":"bob","Secret":"bob-pw-2"}'
        assert get(person, PASS, "b.example") == (0, answer)

        switched = person.run("credctl", "setup", "--router", "--store", "secretservice", "--yes", "--no-podman")

        assert switched.returncode == 0, switched.stderr
        assert f"✓ moved 1 login(s) from {PASS} into {ROUTER}" in switched.stdout.splitlines()
        found = json.loads(settings(person).read_text())
        assert (found["route_default"], "routes" in found) == ("secretservice", False)
        assert get(person, "docker-credential-secretservice", "b.example") == (0, answer)
        assert get(person, ROUTER, "b.example") == (0, answer)
        assert get(person, PASS, "b.example") == (1, NOT_FOUND)
    finally:
        service.stop()
