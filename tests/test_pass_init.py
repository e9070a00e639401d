"""`credctl pass init` for real: real gpg and pass, the installed console script, throwaway homes.

Each run gets its own GNUPGHOME, HOME and store, no DISPLAY and no terminal unless a test
gives it a pseudo-terminal. NO_COLOR and COLUMNS keep rich's plain-text lines stable.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import world
from world import (
    ALICE,
    NEXT,
    NO_KEY,
    copy_key,
    credctl,
    gpg,
    need,
    on_terminal,
    protected_key,
    ready,
    run_helper,
    untrusted,
)

from credctl import __version__
from credctl.protocol import encode_credentials
from credctl.stores.passstore import FOLDER, folder_name

CREDCTL = str(world.BIN / "credctl")
TIMEOUT = 60  # seconds; a guard against hangs, not an expectation
BOB = "Bob Example <bob@example.invalid>"
ROW = re.compile(r"│\s*(\d+)\s*│\s*([0-9A-F]{40})\s*│")


# --- the world ---------------------------------------------------------------------------------


@pytest.fixture
def home():
    """An empty throwaway GNUPGHOME."""
    path = world.make_gnupg_home()
    yield path
    if not world.missing("gpgconf"):
        world.stop_agent(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(home: Path, tmp_path: Path) -> dict[str, str]:
    """What a person's shell would give credctl, minus a display and any pass settings."""
    return world.person_env(home, tmp_path)


def sign_only_key(home: Path, uid: str) -> str:
    gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
    return world.fingerprint(home, uid)


def secret_keys(home: Path) -> list[dict]:
    """The secret keys of home as gpg lists them: algorithm, curve, capabilities, uids, subkeys."""
    keys: list[dict] = []
    last: dict = {}
    for line in gpg(home, "--with-colons", "--list-secret-keys").splitlines():
        fields = line.split(":")
        if fields[0] in ("sec", "ssb"):
            last = {"algo": fields[3], "curve": fields[16], "cap": fields[11], "uids": [], "subkeys": []}
            (keys[-1]["subkeys"] if fields[0] == "ssb" else keys).append(last)
        elif fields[0] == "fpr":
            last["fingerprint"] = fields[9]
        elif fields[0] == "uid":
            keys[-1]["uids"].append(fields[9])
    return keys


def gpg_id(store: Path) -> str:
    return (store / ".gpg-id").read_text()


def normalised(text: str) -> str:
    """Rich wraps lines longer than COLUMNS; compare such messages word by word."""
    return " ".join(text.split())


def assert_round_trip(env: dict[str, str], store: Path) -> None:
    """docker-credential-pass can now store a credential into the store and get it back."""
    helper_env = {**env, "PASSWORD_STORE_DIR": str(store)}
    url, user, secret = "registry.example.com", "alice", "s3cr3t ✓"
    stored = run_helper(world.ours(), "store", encode_credentials(url, user, secret), helper_env)
    assert (stored.returncode, stored.stdout, stored.stderr) == (0, b"", b"")
    assert (store / FOLDER / folder_name(url) / f"{user}.gpg").is_file()
    got = run_helper(world.ours(), "get", url, helper_env)
    assert (got.returncode, got.stdout) == (0, encode_credentials(url, user, secret))


def elsewhere(store: Path) -> str:
    return f"Docker's helper finds this store only with PASSWORD_STORE_DIR={store} in its environment."


# --- a real terminal ---------------------------------------------------------------------------


def table_rows(text: str) -> dict[int, str]:
    """The key table's rows: number → fingerprint."""
    return {int(number): fpr for number, fpr in ROW.findall(text)}


# --- 1, 2: a named key and a generated one -----------------------------------------------------


def test_gpg_id_of_existing_key(home, env, tmp_path):
    need("gpg", "pass")
    fpr = world.generate_key(home, ALICE)
    store = tmp_path / "store"
    result = credctl({**env, "PASSWORD_STORE_DIR": str(store)}, "pass", "init", "--gpg-id", fpr)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [ready(store, ALICE), NEXT]
    assert gpg_id(store) == f"{fpr}\n"
    assert_round_trip(env, store)


def test_generate_without_passphrase(home, env, tmp_path):
    need("gpg", "pass")
    store = tmp_path / "store"
    args = ["pass", "init", "--generate", "--name", "Gen Erated", "--email", "gen@example.invalid", "--no-passphrase"]
    result = credctl({**env, "PASSWORD_STORE_DIR": str(store)}, *args)
    assert result.returncode == 0, result.stderr

    [key] = secret_keys(home)
    assert key["uids"] == ["Gen Erated <gen@example.invalid>"]
    assert (key["algo"], key["curve"]) == ("22", "ed25519")  # EdDSA
    assert [(sub["algo"], sub["curve"], sub["cap"]) for sub in key["subkeys"]] == [("18", "cv25519", "e")]  # ECDH
    fpr = key["fingerprint"]
    assert gpg_id(store) == f"{fpr}\n"
    assert result.stdout.splitlines() == [
        f"✓ generated key {fpr} (Gen Erated <gen@example.invalid>)",
        ready(store, "Gen Erated <gen@example.invalid>"),
        NEXT,
    ]
    assert result.stderr == (
        "warning: the new key has no passphrase: anyone who can read your ~/.gnupg can decrypt your registry "
        "credentials (fine for a dedicated headless machine, not for a shared one)\n"
    )
    assert_round_trip(env, store)


# --- 3: --generate refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--generate", "--name", "N", "--email", "n@example.invalid"], "add --no-passphrase"),
        (["--generate", "--no-passphrase"], "--generate needs --name and --email when not run in a terminal"),
        (["--generate", "--name", "N", "--no-passphrase"], "--generate needs --name and --email"),
        (["--generate", "--gpg-id", "someone@example.invalid"], "use either --gpg-id or --generate, not both"),
    ],
    ids=["passphrase-without-terminal", "no-name-no-email", "no-email", "with-gpg-id"],
)
def test_generate_refused(home, env, args, reason):
    need("gpg", "pass")
    result = credctl(env, "pass", "init", *args)
    assert result.returncode == 2, result.stderr
    assert reason in normalised(result.stderr)
    assert secret_keys(home) == []
    assert not (Path(env["HOME"]) / ".password-store").exists()


# --- 4, 5: choosing a key without a terminal ---------------------------------------------------


def test_no_key_at_all(home, env):
    need("gpg", "pass")
    result = credctl(env, "pass", "init")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", NO_KEY)
    assert not (Path(env["HOME"]) / ".password-store").exists()


def test_sign_only_key_is_no_key(home, env):
    need("gpg", "pass")
    sign_only_key(home, "Signer <signer@example.invalid>")
    result = credctl(env, "pass", "init")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", NO_KEY)
    assert not (Path(env["HOME"]) / ".password-store").exists()


def test_the_one_usable_key_is_used(home, env):
    need("gpg", "pass")
    sign_only_key(home, "Signer <signer@example.invalid>")  # not a candidate: cannot encrypt
    fpr = world.generate_key(home, ALICE)
    result = credctl(env, "pass", "init")
    store = Path(env["HOME"]) / ".password-store"  # pass's default, so no PASSWORD_STORE_DIR advice
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [ready(store, ALICE), NEXT]
    assert gpg_id(store) == f"{fpr}\n"
    assert_round_trip(env, store)


def test_two_usable_keys_need_a_choice(home, env):
    need("gpg", "pass")
    fprs = {world.generate_key(home, ALICE), world.generate_key(home, BOB)}
    result = credctl(env, "pass", "init")
    assert result.returncode == 1
    assert (
        result.stderr
        == "error: several gpg keys can encrypt: choose one with `credctl pass init --gpg-id FINGERPRINT`\n"
    )
    rows = table_rows(result.stdout)
    assert sorted(rows) == [1, 2]
    assert set(rows.values()) == fprs
    assert "gpg keys that can encrypt" in result.stdout
    assert not (Path(env["HOME"]) / ".password-store").exists()


# --- 6: --gpg-id that cannot be used, or only half ---------------------------------------------


@pytest.mark.parametrize("ident", ["nobody@example.invalid", "0123456789ABCDEF0123456789ABCDEF01234567"])
def test_unknown_gpg_id(home, env, tmp_path, ident):
    need("gpg", "pass")
    world.generate_key(home, ALICE)
    store = tmp_path / "store"
    result = credctl(env, "pass", "init", "--gpg-id", ident, "--store-dir", str(store))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: gpg has no usable encryption key for {ident!r}: check `gpg --list-keys`, or use --generate\n"
    )
    assert not store.exists()


def secret_part_missing(fpr: str) -> str:
    return (
        f"warning: the secret part of {fpr} is not on this machine: credentials encrypted to it can be "
        "decrypted only where it is"
    )


def test_gpg_id_without_its_secret_key(gnupg_home, home, env, tmp_path):
    need("gpg", "pass")
    source, fpr = gnupg_home
    copy_key(source, home, fpr, trusted=True)
    store = tmp_path / "store"
    result = credctl({**env, "PASSWORD_STORE_DIR": str(store)}, "pass", "init", "--gpg-id", fpr)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [secret_part_missing(fpr)]
    assert result.stdout.splitlines() == [ready(store, "credctl test <credctl-test@example.invalid>"), NEXT]
    assert gpg_id(store) == f"{fpr}\n"
    # As warned: credentials go in, but only the machine with the secret key gets them out.
    helper_env = {**env, "PASSWORD_STORE_DIR": str(store)}
    stored = run_helper(world.ours(), "store", encode_credentials("h", "u", "s"), helper_env)
    assert (stored.returncode, stored.stdout) == (0, b"")
    assert run_helper(world.ours(), "get", "h", helper_env).returncode == 1
    elsewhere_env = {**helper_env, "GNUPGHOME": str(source)}
    assert run_helper(world.ours(), "get", "h", elsewhere_env).stdout == encode_credentials("h", "u", "s")


def test_untrusted_public_key(gnupg_home, home, env, tmp_path):
    """A key imported and never trusted: pass init takes it, then every store would fail."""
    need("gpg", "pass")
    source, fpr = gnupg_home
    copy_key(source, home, fpr)
    store = tmp_path / "store"
    helper_env = {**env, "PASSWORD_STORE_DIR": str(store)}
    result = credctl(helper_env, "pass", "init", "--gpg-id", fpr)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [secret_part_missing(fpr), untrusted(fpr)]
    assert gpg_id(store) == f"{fpr}\n"
    assert run_helper(world.ours(), "store", encode_credentials("h", "u", "s"), helper_env).returncode == 1


def test_imported_secret_key_needs_trust(gnupg_home, home, env):
    """The usual move to a new machine: import your secret key, then forget to trust it."""
    need("gpg", "pass")
    source, fpr = gnupg_home
    copy_key(source, home, fpr, secret=True)
    store = Path(env["HOME"]) / ".password-store"
    result = credctl(env, "pass", "init")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [untrusted(fpr)]
    assert gpg_id(store) == f"{fpr}\n"

    copy_key(source, home, fpr, trusted=True)
    result = credctl(env, "pass", "init")
    assert (result.returncode, result.stderr) == (0, "")
    assert_round_trip(env, store)


# --- 7: where the store goes -------------------------------------------------------------------


def test_relative_store_dir(home, env, tmp_path):
    need("gpg", "pass")
    fpr = world.generate_key(home, ALICE)
    result = credctl(env, "pass", "init", "--store-dir", "stores/docker", cwd=tmp_path)
    store = tmp_path.resolve() / "stores" / "docker"
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [ready(store, ALICE), elsewhere(store), NEXT]
    assert gpg_id(store) == f"{fpr}\n"
    assert not (Path(env["HOME"]) / ".password-store").exists()
    assert_round_trip(env, store)


@pytest.mark.parametrize("spelling", ["{store}", "{store}/"], ids=["plain", "trailing-slash"])
def test_store_dir_already_in_environment(home, env, tmp_path, spelling):
    need("gpg", "pass")
    world.generate_key(home, ALICE)
    store = tmp_path / "store"
    result = credctl(
        {**env, "PASSWORD_STORE_DIR": spelling.format(store=store)}, "pass", "init", "--store-dir", str(store)
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [ready(store, ALICE), NEXT]  # no advice to set what is set


# --- 8: on a terminal --------------------------------------------------------------------------


def test_choose_on_terminal(home, env):
    need("gpg", "pass")
    fprs = {world.generate_key(home, ALICE), world.generate_key(home, BOB)}
    status, shown = on_terminal(env, ["pass", "init"], [("Key to use [1]: ", "2")])
    assert status == 0, shown
    rows = table_rows(shown)
    assert sorted(rows) == [1, 2]
    assert set(rows.values()) == fprs
    store = Path(env["HOME"]) / ".password-store"
    assert gpg_id(store) == f"{rows[2]}\n"
    assert ready(store, ALICE if rows[2] == world.fingerprint(home, ALICE) else BOB) in shown
    assert_round_trip(env, store)


def test_choice_outside_table_asked_again(home, env):
    need("gpg", "pass")
    world.generate_key(home, ALICE)
    world.generate_key(home, BOB)
    status, shown = on_terminal(env, ["pass", "init"], [("Key to use [1]: ", "3"), ("Key to use [1]: ", "2")])
    assert status == 0, shown
    assert "warning: 3 is not a row of the table: choose 1 to 2" in shown
    assert gpg_id(Path(env["HOME"]) / ".password-store") == f"{table_rows(shown)[2]}\n"


def test_generate_on_terminal_with_passphrase(home, env):
    """No key: offered to generate one, asked for name, email and passphrase (not echoed)."""
    need("gpg", "pass")
    passphrase = "correct horse battery"
    status, shown = on_terminal(
        env,
        ["pass", "init"],
        [
            ("Generate one now? [Y/n]: ", "y"),
            ("Real name for the new key: ", "Term Inal"),
            ("Email for the new key: ", "term@example.invalid"),
            ("Passphrase for the new key (empty for none): ", passphrase),
            ("Repeat for confirmation: ", passphrase),
        ],
    )
    assert status == 0, shown
    assert passphrase not in shown
    assert "no passphrase" not in shown
    [key] = secret_keys(home)
    assert key["uids"] == ["Term Inal <term@example.invalid>"]
    store = Path(env["HOME"]) / ".password-store"
    assert gpg_id(store) == f"{key['fingerprint']}\n"
    assert "export GPG_TTY=$(tty)" in normalised(shown)

    # The key really is protected by exactly that passphrase.
    url = "registry.example.com"
    helper_env = {**env, "PASSWORD_STORE_DIR": str(store)}
    stored = run_helper(world.ours(), "store", encode_credentials(url, "u", "the-secret"), helper_env)
    assert stored.returncode == 0, stored.stdout
    world.stop_agent(home)  # forget any cached passphrase
    encrypted = str(store / FOLDER / folder_name(url) / "u.gpg")
    with pytest.raises(subprocess.CalledProcessError):
        gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--decrypt", encrypted, stdin="wrong")
    plain = gpg(home, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--decrypt", encrypted, stdin=passphrase)
    assert plain == "the-secret"


# --- 9: a passphrase nobody can be asked for ---------------------------------------------------


def test_passphrase_without_terminal_or_display(home, env, tmp_path):
    need("gpg", "pass")
    fpr = protected_key(home, ALICE, "hunter2")
    world.stop_agent(home)  # forget any cached passphrase
    store = tmp_path / "store"
    result = credctl({**env, "PASSWORD_STORE_DIR": str(store)}, "pass", "init", "--gpg-id", fpr)
    assert result.returncode == 0, result.stderr
    assert gpg_id(store) == f"{fpr}\n"
    assert result.stdout.splitlines() == [ready(store, ALICE), NEXT]
    assert normalised(result.stderr) == (
        "warning: this key has a passphrase and this session has no terminal or display for pinentry: "
        "Docker's helper calls will fail until gpg-agent has it cached (decrypt once in a terminal, "
        "or preset it with gpg-preset-passphrase), or re-run with "
        "`credctl pass init --generate --no-passphrase --name NAME --email EMAIL`"
    )


# --- 10: version and help ----------------------------------------------------------------------


def test_version():
    result = credctl({**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}, "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"credctl {__version__}\n", "")


def test_pass_init_help():
    result = credctl({**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}, "pass", "init", "--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert "--generate" in result.stdout
    assert "--gpg-id" in result.stdout


def test_a_gnupghome_that_does_not_exist_yet_is_made(tmp_path):
    """gpg makes its home when it is missing; so does credctl (python-gnupg alone refuses)."""
    need("gpg", "pass")
    home = tmp_path / "new-gnupg"
    env = {**os.environ, "HOME": str(tmp_path), "GNUPGHOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    result = credctl(env, "pass", "init")
    assert result.returncode == 1
    assert result.stderr == NO_KEY
    assert home.is_dir() and (home.stat().st_mode & 0o777) == 0o700
    world.stop_agent(home)
