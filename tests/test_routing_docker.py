"""Which helper the real docker CLIs run, next to what credctl says, for the routing rules that are
easy to get wrong (ConfigFile.helper_for is credctl's one answer).

docker runs recording helpers here (each logs "NAME ACTION SERVER"; get answers with what store
was given, else a login of its own):
`docker manifest inspect` asks the helper for the registry before it contacts it (127.0.0.x:9,
where nothing listens), and `docker logout` with no registry erases Docker Hub's login. No
daemon, no network.
"""

import json
import subprocess
from pathlib import Path

import world
from world import HUB

NOBODY = "127.0.0.1:9"  # loopback, nothing listening: docker fails after asking its helper
OTHER = "127.0.0.2:9"
RECORDER = """#!/bin/sh
read -r server
echo "{name} $1 $server" >> {log}
case "$1" in
  list) cat {listing} ;;
  store) printf '%s' "$server" > {listing}.stored ;;
  get) cat {listing}.stored 2>/dev/null ||
    {{ grep -qF "\\"$server\\"" {listing} &&
      printf '{{"ServerURL":"%s","Username":"{name}-user","Secret":"{name}-secret"}}\\n' "$server"; }} ||
    {{ echo "credentials not found in native keychain"; exit 1; }} ;;
esac
"""


class Wiring:
    """A user whose docker config.json is `data`, with recording helpers a, b and c on PATH.

    Each helper's `get` answers what it was last stored, else a made-up login for a server its
    listing names, else that it has none (so migrate finds nothing to keep)."""

    def __init__(self, tmp_path: Path, data: dict, listings: dict[str, dict[str, str]] | None = None) -> None:
        self.log = tmp_path / "helpers.log"
        self.config = tmp_path / "docker" / "config.json"
        self.config.parent.mkdir()
        self.config.write_text(json.dumps(data, indent="\t"))
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name in ("a", "b", "c"):
            listing = tmp_path / f"{name}.list.json"
            listing.write_text(json.dumps((listings or {}).get(name, {})))
            helper = bin_dir / f"docker-credential-{name}"
            helper.write_text(RECORDER.format(name=name, log=self.log, listing=listing))
            helper.chmod(0o755)
        home = tmp_path / "home"
        home.mkdir()
        self.env = {
            "PATH": f"{bin_dir}:{world.BIN}:/usr/bin:/bin",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "DOCKER_CONFIG": str(self.config.parent),
            "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock",
            "REGISTRY_AUTH_FILE": str(tmp_path / "no-podman" / "auth.json"),
            "NO_COLOR": "1",
            "COLUMNS": "300",
        }

    def docker_runs(self, docker_cli: str, *args: str) -> list[str]:
        """The helper calls `docker ARGS` makes (its own outcome does not matter here)."""
        self.log.unlink(missing_ok=True)
        subprocess.run([docker_cli, *args], env=self.env, capture_output=True, timeout=60, check=False)
        return self.log.read_text().splitlines() if self.log.exists() else []

    def credctl(self, *args: str):
        return world.credctl(self.env, *args)

    def verify_row(self, check: str, registry: str) -> dict:
        result = self.credctl("verify", registry, "--json")
        return next(row for row in json.loads(result.stdout) if (row["check"], row["target"]) == (check, registry))

    def list_rows(self) -> list[dict]:
        result = self.credctl("list", "--json")
        assert result.returncode == 0, result.stderr
        return [
            {key: row[key] for key in ("registry", "via", "helper", "username", "note")}
            for row in json.loads(result.stdout)
        ]


def test_an_empty_credhelpers_entry_keeps_docker_in_the_file(docker_cli, tmp_path):
    """verify, list and k8s pull-secret counted an empty entry as 'use credsStore'."""
    wiring = Wiring(tmp_path, {"credsStore": "a", "credHelpers": {NOBODY: ""}})

    assert wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{NOBODY}/x/y:1") == []

    assert wiring.verify_row("registry", NOBODY) == {
        "check": "registry",
        "target": NOBODY,
        "status": "warning",
        "detail": "no helper serves it: docker would save a login in plaintext here",
    }
    assert wiring.list_rows() == [
        {
            "registry": NOBODY,
            "via": "credHelpers",
            "helper": "",
            "username": "",
            "note": "empty: docker reads this registry's login from auths",
        }
    ]
    secret = wiring.credctl("k8s", "pull-secret", NOBODY, "--name", "pull")
    assert (secret.returncode, secret.stdout) == (1, "")
    assert (
        secret.stderr == f"error: credctl has no login for {NOBODY}: log in with `credctl login {NOBODY}` "
        "(it says where the login would go)\n"
    )


def test_migrate_maps_a_login_docker_would_still_read_from_the_file(docker_cli, tmp_path):
    """migrate moved it into credsStore and left the empty entry: docker then found no login."""
    wiring = Wiring(tmp_path, {"credsStore": "a", "credHelpers": {NOBODY: ""}, "auths": {NOBODY: {"auth": "dTpwdw=="}}})

    assert wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{NOBODY}/x/y:1") == []
    migrate = wiring.credctl("migrate", "--yes")
    assert migrate.returncode == 0, migrate.stderr
    assert json.loads(wiring.config.read_text()) == {
        "credsStore": "a",
        "credHelpers": {NOBODY: "a"},
        "auths": {NOBODY: {}},
    }
    after = wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{NOBODY}/x/y:1")
    assert after == [f"a get {NOBODY}"] * 2


def test_a_credhelpers_key_docker_never_looks_up(docker_cli, tmp_path):
    """docker looks credHelpers up by host[:port] exactly: a URL key is never used. migrate sent
    that registry's plaintext login to the URL key's helper, setup mirrored it into Podman's file."""
    wiring = Wiring(
        tmp_path,
        {
            "credsStore": "a",
            "credHelpers": {f"https://{OTHER}": "c"},
            "auths": {f"https://{OTHER}": {"auth": "dTpwdw=="}},
        },
    )

    assert (
        wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{OTHER}/x/y:1") == [f"a get {OTHER}"] * 2
    )

    dry_run = wiring.credctl("migrate", "--dry-run")
    assert dry_run.returncode == 0, dry_run.stderr
    assert f"https://{OTHER} │ u    │ docker-credential-a │ planned" in dry_run.stdout
    assert wiring.verify_row("registry", OTHER)["detail"] == (
        "served by docker-credential-a (credsStore); an old plaintext login for it is still in config.json auths "
        "(docker ignores it, others may not): move it with `credctl migrate`"
    )
    assert wiring.list_rows()[0] == {
        "registry": f"https://{OTHER}",
        "via": "credHelpers",
        "helper": "c",
        "username": "",
        "note": f"never used: docker looks up {OTHER}",
    }


def test_docker_hub_is_looked_up_under_its_v1_url_only(docker_cli, tmp_path):
    """list hid credsStore's Docker Hub login behind a credHelpers entry for index.docker.io."""
    wiring = Wiring(tmp_path, {"credsStore": "a", "credHelpers": {"index.docker.io": "b"}}, {"a": {HUB: "hubuser"}})

    assert wiring.docker_runs(docker_cli, "logout") == [f"a erase {HUB}"]

    assert wiring.list_rows() == [
        {
            "registry": "index.docker.io",
            "via": "credHelpers",
            "helper": "b",
            "username": "",
            "note": f"never used: docker looks up {HUB}",
        },
        {"registry": HUB, "via": "credsStore", "helper": "a", "username": "hubuser", "note": ""},
    ]
    assert wiring.verify_row("registry", HUB)["detail"] == "served by docker-credential-a (credsStore)"
    config = wiring.credctl("kubelet", "config", "--format", "json")
    assert "docker.io" not in json.loads(config.stdout)["providers"][0]["matchImages"]


def test_setup_gives_podman_the_helper_docker_runs(docker_cli, tmp_path, pass_env):
    """setup mirrors by its host into Podman's file every credHelpers entry docker uses that goes to
    another helper than the store (the store's registries are routed by credctl's drop-in); an
    entry docker never uses (https://OTHER: docker keys OTHER) is no exception to the store."""
    wiring = Wiring(tmp_path, {"credsStore": "pass", "credHelpers": {f"https://{OTHER}": "c", NOBODY: "b"}})
    podman = tmp_path / "podman" / "auth.json"
    env = {**pass_env, **wiring.env, "REGISTRY_AUTH_FILE": str(podman)}

    wiring.env["PATH"] = wiring.env["PATH"].replace(f"{world.BIN}:", "")  # docker runs no pass helper here
    assert wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{OTHER}/x/y:1") == []  # pass: absent
    assert (
        wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{NOBODY}/x/y:1")
        == [f"b get {NOBODY}"] * 2
    )

    result = world.credctl(env, "setup", "--store", "pass", "--podman", "--yes")
    assert result.returncode == 0, result.stderr
    assert json.loads(podman.read_text()) == {"credHelpers": {NOBODY: "b"}}


def test_migrate_stores_a_login_under_the_server_url_docker_asks_for(docker_cli, tmp_path):
    """An auths key an older docker wrote as a URL (https://host:port/v2/) is read by docker's file
    store for host:port; moved into a helper it must be stored as host:port, which docker asks for."""
    old_style = f"https://{NOBODY}/v2/"
    wiring = Wiring(tmp_path, {"credsStore": "a", "auths": {old_style: {"auth": "dTpwdw=="}}})

    migrate = wiring.credctl("migrate", "--yes")

    assert migrate.returncode == 0, migrate.stderr
    stored = (tmp_path / "a.list.json.stored").read_text()
    assert json.loads(stored) == {"ServerURL": NOBODY, "Username": "u", "Secret": "pw"}
    assert json.loads(wiring.config.read_text()) == {"credsStore": "a", "auths": {old_style: {}}}
    after = wiring.docker_runs(docker_cli, "manifest", "inspect", "--insecure", f"{NOBODY}/x/y:1")
    assert after and set(after) == {f"a get {NOBODY}"}


def test_of_two_auths_entries_for_one_registry_migrate_moves_the_one_docker_reads(tmp_path):
    """docker's file store takes the exact host:port entry before any URL spelling of it."""
    auths = {f"https://{NOBODY}/v2/": {"auth": "b2xkOm9sZC1wdw=="}, NOBODY: {"auth": "bmV3Om5ldy1wdw=="}}
    wiring = Wiring(tmp_path, {"credsStore": "a", "auths": auths})

    migrate = wiring.credctl("migrate", "--yes")

    assert migrate.returncode == 0, migrate.stderr
    assert f"https://{NOBODY}/v2/: left as it is; docker reads the login of {NOBODY} for {NOBODY}" in migrate.stderr
    stored = json.loads((tmp_path / "a.list.json.stored").read_text())
    assert stored == {"ServerURL": NOBODY, "Username": "new", "Secret": "new-pw"}
    assert json.loads(wiring.config.read_text())["auths"] == {
        f"https://{NOBODY}/v2/": auths[f"https://{NOBODY}/v2/"],
        NOBODY: {},
    }
