"""`credctl backup FILE` and `credctl restore FILE`, as a person moves to a new machine.

Two fresh worlds: A, whose logins are in a real pass store (credsStore pass), and B, a new
machine with a real gnome-keyring on a private D-Bus (credsStore secretservice). A's backup,
made with a passphrase, is restored in B, and each login is read there by our
docker-credential-secretservice and by Debian's Go one. In one world, a backup to the pass key is
restored into an emptied store. Every file is checked for secrets; the passphrase only ever goes
to stdin.
"""

import json
import subprocess
from pathlib import Path

import pytest
import world

from credctl.protocol import encode_credentials

LOGINS = [
    ("https://index.docker.io/v1/", "hubuser", "dckr_pat_hub-secret"),
    ("registry.example.com", "alice", "pä$$wörd <&> ✓"),
    ("127.0.0.1:5000", "<token>", "eyJhbGciOi.identity-token"),
]
PASSPHRASE = "correct horse battery staple"


def set_config(env: dict, config: dict) -> None:
    """Docker's config.json where docker looks by default (~/.docker)."""
    folder = Path(env["HOME"]) / ".docker"
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent="\t"))


@pytest.fixture
def machine_a(tmp_path, pass_env):
    (tmp_path / "a").mkdir()
    env = world.cli_env(tmp_path / "a", pass_env)
    set_config(env, {"credsStore": "pass"})
    for url, user, secret in LOGINS:
        store(world.ours(), env, url, user, secret)
    return env


@pytest.fixture
def machine_b(tmp_path, secret_service):
    (tmp_path / "b").mkdir()
    env = world.cli_env(tmp_path / "b", DBUS_SESSION_BUS_ADDRESS=secret_service.env["DBUS_SESSION_BUS_ADDRESS"])
    set_config(env, {"credsStore": "secretservice"})
    return env


def store(program: str, env: dict, url: str, user: str, secret: str) -> None:
    result = world.run_helper(program, "store", encode_credentials(url, user, secret), env)
    assert (result.returncode, result.stdout) == (0, b""), result.stdout


def credctl(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [world.CREDCTL, *args], input=stdin, env=env, capture_output=True, encoding="utf-8", timeout=120, check=False
    )


def no_secret_in(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for _, _, secret in LOGINS:
            assert secret.encode() not in data
        assert PASSPHRASE.encode() not in data


def test_a_passphrase_backup_moves_every_login_to_a_new_machines_secret_service(
    machine_a, machine_b, tmp_path, go_secretservice
):
    file = tmp_path / "logins.gpg"
    made = credctl(machine_a, "backup", str(file), "--passphrase", stdin=PASSPHRASE + "\n")
    assert (made.returncode, made.stderr) == (0, ""), made.stdout
    assert made.stdout == f"✓ wrote 3 login(s) of pass to {file} (mode 0600), encrypted with a passphrase\n"
    assert file.stat().st_mode & 0o777 == 0o600
    no_secret_in(file.read_bytes(), made.stdout)
    assert file.read_bytes()[0] == 0x8C  # an OpenPGP message opening with a passphrase packet

    restored = credctl(
        machine_b, "restore", str(file), "--to", "secretservice", "--passphrase", "--json", stdin=PASSPHRASE + "\n"
    )
    assert restored.returncode == 0, restored.stderr
    assert [
        (row["server"], row["username"], row["from"], row["to"], row["result"]) for row in json.loads(restored.stdout)
    ] == [(url, user, "backup (pass)", "secretservice", "copied") for url, user, _ in sorted(LOGINS)]
    for url, user, secret in LOGINS:
        for program in (world.ours("docker-credential-secretservice"), go_secretservice):
            got = world.run_helper(program, "get", url, machine_b)
            assert (got.returncode, got.stdout) == (0, encode_credentials(url, user, secret)), program
    no_secret_in(restored.stdout, restored.stderr)


def test_a_backup_to_the_pass_key_restores_into_an_emptied_store(machine_a, tmp_path):
    file = tmp_path / "logins.gpg"
    made = credctl(machine_a, "backup", str(file))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(
        f"✓ wrote 3 login(s) of pass to {file} (mode 0600), encrypted with the pass store's key ("
    )
    assert (file.read_bytes()[0] >> 2) & 0xF == 1  # an OpenPGP message opening with a public-key packet
    for url, _, _ in LOGINS:
        assert world.run_helper(world.ours(), "erase", url, machine_a).returncode == 0
    restored = credctl(machine_a, "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[-1] == f"✓ restored 3 of 3 login(s) from {file}"
    for url, user, secret in LOGINS:
        got = world.run_helper(world.ours(), "get", url, machine_a)
        assert (got.returncode, got.stdout) == (0, encode_credentials(url, user, secret))


def test_restore_keeps_a_login_the_store_holds_unless_overwrite(machine_a, tmp_path):
    file = tmp_path / "logins.gpg"
    assert credctl(machine_a, "backup", str(file)).returncode == 0
    store(world.ours(), machine_a, "registry.example.com", "bob", "newer-password")
    kept = credctl(machine_a, "restore", str(file), "--json")
    assert kept.returncode == 0, kept.stderr
    assert [(row["server"], row["result"], row["held_by"]) for row in json.loads(kept.stdout)] == [
        ("127.0.0.1:5000", "already there", ""),
        ("https://index.docker.io/v1/", "already there", ""),
        ("registry.example.com", "kept target's", "bob"),
    ]
    got = world.run_helper(world.ours(), "get", "registry.example.com", machine_a)
    assert got.stdout == encode_credentials("registry.example.com", "bob", "newer-password")
    text = credctl(machine_a, "restore", str(file))
    assert "registry.example.com: pass holds another login for it (user bob): kept it\n" in text.stdout
    replaced = credctl(machine_a, "restore", str(file), "--overwrite", "--json")
    assert [row["result"] for row in json.loads(replaced.stdout)] == ["already there", "already there", "copied"]
    got = world.run_helper(world.ours(), "get", "registry.example.com", machine_a)
    assert got.stdout == encode_credentials("registry.example.com", "alice", "pä$$wörd <&> ✓")


def test_a_wrong_passphrase_or_a_file_that_is_no_backup_restores_nothing(machine_a, machine_b, tmp_path):
    file = tmp_path / "logins.gpg"
    assert credctl(machine_a, "backup", str(file), "--passphrase", stdin=PASSPHRASE + "\n").returncode == 0
    wrong = credctl(machine_b, "restore", str(file), "--passphrase", stdin="not it\n")
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr == f"error: cannot decrypt {file}: wrong passphrase; nothing restored\n"
    forgot = credctl(machine_b, "restore", str(file))
    assert world.usage_error(forgot, "restore") == f"{file} is encrypted with a passphrase: add --passphrase"
    plain = tmp_path / "plain.json"
    plain.write_text('{"credctl-backup": 1, "logins": []}')
    refused = credctl(machine_b, "restore", str(plain))
    assert (refused.returncode, refused.stderr) == (
        1,
        f"error: {plain} is not a credctl backup: not a gpg-encrypted file\n",
    )
    other = tmp_path / "other.gpg"
    made = subprocess.run(
        ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--symmetric"],
        input=b"x\n" + json.dumps({"something": "else"}).encode(),
        capture_output=True,
        env=machine_a,
        check=True,
    )
    other.write_bytes(made.stdout)
    not_ours = credctl(machine_b, "restore", str(other), "--passphrase", stdin="x\n")
    assert (not_ours.returncode, not_ours.stderr) == (1, f"error: {other} is not a credctl backup of format 1\n")
    listed = world.run_helper(world.ours("docker-credential-secretservice"), "list", b"", machine_b)
    assert json.loads(listed.stdout) == {}


def test_an_existing_file_is_kept_unless_force(machine_a, tmp_path):
    file = tmp_path / "logins.gpg"
    file.write_bytes(b"an older backup")
    refused = credctl(machine_a, "backup", str(file))
    assert (refused.returncode, refused.stderr) == (
        1,
        f"error: {file} exists: choose another name, or replace it with --force\n",
    )
    assert file.read_bytes() == b"an older backup"
    assert credctl(machine_a, "backup", str(file), "--force").returncode == 0
    assert file.read_bytes() != b"an older backup"


def test_a_store_that_cannot_be_read_writes_no_backup(machine_a, tmp_path):
    set_config(machine_a, {"credsStore": "pass", "credHelpers": {"ss.example": "secretservice"}})
    no_bus = {**machine_a, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}
    file = tmp_path / "logins.gpg"
    result = credctl(no_bus, "backup", str(file))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: cannot read the secretservice store: ")
    assert result.stderr.endswith("; no backup written\n")
    assert not file.exists()


def test_no_pass_store_needs_a_passphrase(machine_b, tmp_path):
    result = credctl(machine_b, "backup", str(tmp_path / "f.gpg"))
    assert (result.returncode, result.stderr) == (
        1,
        "error: there is no pass store to encrypt the backup to: use --passphrase\n",
    )


def test_on_a_terminal_the_passphrase_is_asked_twice_without_echo(machine_a, machine_b, tmp_path):
    file = tmp_path / "logins.gpg"
    status, shown = world.on_terminal(
        machine_a,
        ["backup", str(file), "--passphrase"],
        [("Backup passphrase: ", PASSPHRASE), ("Repeat for confirmation: ", PASSPHRASE)],
    )
    assert status == 0, shown
    assert PASSPHRASE not in shown
    status, shown = world.on_terminal(
        machine_b,
        ["restore", str(file), "--to", "secretservice", "--passphrase"],
        [("Backup passphrase: ", PASSPHRASE)],
    )
    assert status == 0, shown
    assert shown.splitlines()[-1] == f"✓ restored 3 of 3 login(s) from {file}"
    no_secret_in(shown)
