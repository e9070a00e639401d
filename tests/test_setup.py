"""`credctl setup` never logs anyone out, and its wizard, for real.

The installed console script in throwaway homes; logins go through credctl's own helpers into a
real pass store (real gpg) and a real gnome-keyring on a private D-Bus. The wizard runs on a
pseudo-terminal (test_pass_init.on_terminal), typing each answer once its prompt is shown.
"""

import json
import os
from pathlib import Path

import pytest
import world
from world import (
    HUB,
    assert_no_secret,
    b64,
    cli_env,
    credctl,
    layout,
    need,
    on_terminal,
    one_error_line,
    unchanged,
    write,
)

from credctl.protocol import encode_credentials
from credctl.stores.passstore import FOLDER, folder_name

PASS, SECRETSERVICE = world.ours("docker-credential-pass"), world.ours("docker-credential-secretservice")
STORE_PROMPT = "Store for Docker's credentials"
INIT_PROMPT = "Initialise the password store now?"
MAP_PROMPT = "Map a registry to another helper (REGISTRY=HELPER, empty to finish)"
NO_KEY_PROMPT = "No gpg key here can encrypt. Generate one now?"
FINISHED = "Docker now keeps credentials in docker-credential-pass. Check it all with `credctl verify`."


# --- helpers -----------------------------------------------------------------------------------


def helper_store(program: str, env: dict[str, str], registry: str, username: str, secret: str) -> None:
    result = world.run_helper(program, "store", encode_credentials(registry, username, secret), env)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def helper_get(program: str, env: dict[str, str], registry: str) -> tuple[str, str]:
    result = world.run_helper(program, "get", registry, env)
    assert result.returncode == 0, result.stdout
    answer = json.loads(result.stdout)
    return answer["Username"], answer["Secret"]


def helper_list(program: str, env: dict[str, str]) -> dict[str, str]:
    result = world.run_helper(program, "list", "unused", env)
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout)


def without_podman_tools(base: Path) -> str:
    """A PATH with credctl's programs and every program of /usr/bin but Podman, Skopeo and Buildah."""
    farm = base / "bin-without-podman"
    farm.mkdir()
    for name in os.listdir("/usr/bin"):
        if name not in ("podman", "skopeo", "buildah"):
            (farm / name).symlink_to(Path("/usr/bin") / name)
    return f"{world.BIN}:{farm}"


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def store_env(pass_env: dict[str, str], tmp_path: Path, podman_file: Path) -> dict[str, str]:
    """An initialised, empty pass store; no session bus."""
    return cli_env(tmp_path, pass_env, REGISTRY_AUTH_FILE=str(podman_file))


@pytest.fixture
def both_env(store_env: dict[str, str], tmp_path: Path):
    """store_env, plus an unlocked gnome-keyring on a private session bus (world.SecretService)."""
    need("dbus-daemon", "gnome-keyring-daemon")
    service = world.SecretService(tmp_path / "keyring")
    yield {**store_env, "DBUS_SESSION_BUS_ADDRESS": service.env["DBUS_SESSION_BUS_ADDRESS"]}
    service.stop()


@pytest.fixture
def fresh_gnupg():
    """An empty GNUPGHOME: no key at all, as on a fresh machine."""
    need("gpg", "gpgconf", "pass")
    home = world.make_gnupg_home()
    yield home
    world.stop_agent(home)


@pytest.fixture
def fresh_env(fresh_gnupg: Path, tmp_path: Path, podman_file: Path) -> dict[str, str]:
    """No gpg key, no pass store yet, no bus; a terminal of its own (TERM) for the wizard."""
    return cli_env(
        tmp_path,
        GNUPGHOME=str(fresh_gnupg),
        PASSWORD_STORE_DIR=str(tmp_path / "password-store"),
        REGISTRY_AUTH_FILE=str(podman_file),
        TERM="xterm",
    )


# --- plaintext logins: moved by default --------------------------------------------------------

PLAINTEXT = layout(
    f"""
    {{
        "auths": {{
            "a.example": {{
                "auth": "{b64("alice:alice-pw-1")}"
            }},
            "{HUB}": {{
                "auth": "{b64("hubuser:")}",
                "identitytoken": "hub-token-2"
            }},
            "marker.example": {{}}
        }}
    }}
    """
)
PLAINTEXT_SECRETS = ["alice-pw-1", "hub-token-2", b64("alice:alice-pw-1")]


def test_setup_yes_moves_plaintext_logins_so_docker_still_has_them(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, PLAINTEXT)

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--yes")

    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[-3:] == [f"✓ moved 2 credential(s) out of {config}", f"✓ {config}: updated", FINISHED]
    assert config.read_bytes() == layout(
        f"""
        {{
            "auths": {{
                "a.example": {{}},
                "{HUB}": {{}},
                "marker.example": {{}}
            }},
            "credsStore": "pass"
        }}
        """
    )
    # What Docker now asks: credsStore's helper.
    assert helper_list(PASS, store_env) == {"a.example": "alice", HUB: "<token>"}
    assert helper_get(PASS, store_env, "a.example") == ("alice", "alice-pw-1")
    assert helper_get(PASS, store_env, HUB) == ("<token>", "hub-token-2")
    assert_no_secret(PLAINTEXT_SECRETS, config.read_text(), result.stdout)


def test_no_migrate_refuses_with_the_count_and_writes_nothing(store_env, config_dir, podman_file):
    config = config_dir / "config.json"
    write(config, PLAINTEXT)
    before = config.stat()

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--podman", "--no-migrate")

    assert result.returncode == 1
    assert one_error_line(result) == (
        f"error: 2 plaintext login(s) (a.example, {HUB}) would stop working once credsStore is set: "
        "let setup move them (drop --no-migrate) or remove them first\n"
    )
    unchanged(config, before, PLAINTEXT)
    assert not podman_file.exists()
    assert helper_list(PASS, store_env) == {}


def test_no_migrate_is_fine_when_nothing_would_be_stranded(store_env, config_dir):
    """A plaintext entry credHelpers serves is not affected by credsStore: nothing to refuse."""
    config = config_dir / "config.json"
    write(
        config,
        b'{"auths": {"m.example": {"auth": "'
        + b64("mo:pw-m").encode()
        + b'"}}, "credHelpers": {"m.example": "nosuch"}}',
    )

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--no-migrate")

    assert result.returncode == 0, result.stderr
    assert json.loads(config.read_text()) == {
        "auths": {"m.example": {"auth": b64("mo:pw-m")}},
        "credHelpers": {"m.example": "nosuch"},
        "credsStore": "pass",
    }


def test_dry_run_shows_what_would_move_and_stores_nothing(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, PLAINTEXT)
    before = config.stat()

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--dry-run")

    assert (result.returncode, result.stderr) == (0, "")
    unchanged(config, before, PLAINTEXT)
    assert helper_list(PASS, store_env) == {}
    out = result.stdout
    assert "Plaintext credentials to move" in out
    assert "│ a.example                   │ alice   │ docker-credential-pass │ planned │" in out
    assert f"--- {config}\n+++ {config} (after)\n" in out
    assert '-\t\t\t"auth": "***"\n'.expandtabs() in out
    assert '-\t\t\t"identitytoken": "***"\n'.expandtabs() in out
    assert '+\t"credsStore": "pass"\n'.expandtabs() in out
    assert out.splitlines()[-1] == "Dry run: nothing was written."
    assert_no_secret(PLAINTEXT_SECRETS, out)


# --- switching credsStore: the old store's logins move -----------------------------------------

SWITCH_CONFIG = layout(
    """
    {
        "auths": {
            "a.example": {},
            "b.example": {},
            "c.example": {}
        },
        "credsStore": "pass",
        "credHelpers": {
            "c.example": "pass"
        }
    }
    """
)


def fill_pass(env: dict[str, str]) -> None:
    helper_store(PASS, env, "a.example", "alice", "pw-a")
    helper_store(PASS, env, "b.example", "bob", "pw-b")
    helper_store(PASS, env, "c.example", "carol", "pw-c")  # credHelpers sends it to pass


def test_switching_moves_the_old_stores_logins_verified_and_erases_them(both_env, config_dir):
    config = config_dir / "config.json"
    write(config, SWITCH_CONFIG)
    fill_pass(both_env)

    args = ("setup", "--store", "secretservice", "--no-podman", "--yes")
    result = credctl(both_env, "--config", str(config_dir), *args)

    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "c.example: credHelpers still sends them to docker-credential-pass, which keeps them: nothing is lost"
    )
    assert lines[-3:] == [
        f"✓ {config}: updated",
        "✓ moved 2 login(s) from docker-credential-pass into docker-credential-secretservice",
        "Docker now keeps credentials in docker-credential-secretservice. Check it all with `credctl verify`.",
    ]
    assert json.loads(config.read_text())["credsStore"] == "secretservice"
    assert helper_list(SECRETSERVICE, both_env) == {"a.example": "alice", "b.example": "bob"}
    assert helper_get(SECRETSERVICE, both_env, "a.example") == ("alice", "pw-a")
    assert helper_get(SECRETSERVICE, both_env, "b.example") == ("bob", "pw-b")
    assert helper_list(PASS, both_env) == {"c.example": "carol"}
    assert_no_secret(["pw-a", "pw-b", "pw-c"], result.stdout)


def test_switching_from_any_helper_and_from_one_that_shares_the_store(store_env, config_dir, tmp_path):
    """credsStore "gopass": Debian's Go pass helper under another name, on the same pass store as
    credctl's. Its login moves into credctl's pass, and the erase from gopass does not lose it."""
    need(world.GO_PASS)
    bin_dir = tmp_path / "other-helpers"
    bin_dir.mkdir()
    (bin_dir / "docker-credential-gopass").symlink_to(world.GO_PASS)
    env = {**store_env, "PATH": f"{store_env['PATH']}:{bin_dir}"}
    helper_store(str(bin_dir / "docker-credential-gopass"), env, "go.example", "gordon", "pw-go")
    config = config_dir / "config.json"
    write(config, b'{\n\t"credsStore": "gopass"\n}\n')

    result = credctl(env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--yes")

    assert (result.returncode, result.stderr) == (0, "")
    assert "✓ moved 1 login(s) from docker-credential-gopass into docker-credential-pass" in result.stdout.splitlines()
    assert config.read_bytes() == b'{\n\t"credsStore": "pass"\n}\n'
    assert helper_get(PASS, env, "go.example") == ("gordon", "pw-go")


def test_a_login_that_cannot_be_copied_keeps_everything_in_the_old_store(both_env, config_dir):
    """a.example's file in pass is not gpg: its copy fails, so nothing leaves pass, credsStore stays."""
    config = config_dir / "config.json"
    write(config, SWITCH_CONFIG)
    fill_pass(both_env)
    broken = Path(both_env["PASSWORD_STORE_DIR"]) / FOLDER / folder_name("a.example") / "alice.gpg"
    broken.write_bytes(b"not an OpenPGP message\n")
    before = config.stat()

    result = credctl(both_env, "--config", str(config_dir), "setup", "--store", "secretservice", "--yes")

    assert result.returncode == 1
    assert one_error_line(result) == (
        "error: 1 of 2 login(s) could not be copied out of docker-credential-pass (a.example): "
        "they all stay there and credsStore stays pass; see the table above\n"
    )
    unchanged(config, before, SWITCH_CONFIG)
    assert helper_list(PASS, both_env) == {"a.example": "alice", "b.example": "bob", "c.example": "carol"}
    assert helper_get(PASS, both_env, "b.example") == ("bob", "pw-b")


def test_a_dry_run_switch_shows_the_logins_that_would_move(both_env, config_dir):
    config = config_dir / "config.json"
    write(config, SWITCH_CONFIG)
    fill_pass(both_env)
    before = config.stat()

    args = ("setup", "--store", "secretservice", "--no-podman", "--dry-run")
    result = credctl(both_env, "--config", str(config_dir), *args)

    assert (result.returncode, result.stderr) == (0, "")
    out = result.stdout
    assert "Logins in docker-credential-pass to move" in out
    assert "│ b.example │ bob   │ docker-credential-secretservice │ planned │" in out
    assert '-\t"credsStore": "pass",\n+\t"credsStore": "secretservice",\n'.expandtabs() in out
    assert out.splitlines()[-1] == "Dry run: nothing was written."
    unchanged(config, before, SWITCH_CONFIG)
    assert helper_list(SECRETSERVICE, both_env) == {}
    assert helper_list(PASS, both_env) == {"a.example": "alice", "b.example": "bob", "c.example": "carol"}


def test_no_migrate_refuses_to_strand_the_old_stores_logins(both_env, config_dir):
    config = config_dir / "config.json"
    write(config, SWITCH_CONFIG)
    fill_pass(both_env)
    before = config.stat()

    args = ("setup", "--store", "secretservice", "--no-migrate", "--no-podman")
    result = credctl(both_env, "--config", str(config_dir), *args)

    assert result.returncode == 1
    assert one_error_line(result) == (
        "error: 2 login(s) in docker-credential-pass (a.example, b.example) would stop working once credsStore is "
        "secretservice: let setup move them (drop --no-migrate) or keep --store pass\n"
    )
    unchanged(config, before, SWITCH_CONFIG)
    assert helper_list(SECRETSERVICE, both_env) == {}
    assert helper_list(PASS, both_env) == {"a.example": "alice", "b.example": "bob", "c.example": "carol"}


def test_wizard_asks_before_moving_the_old_stores_logins(both_env, config_dir):
    config = config_dir / "config.json"
    write(config, SWITCH_CONFIG)
    fill_pass(both_env)
    env = {**both_env, "TERM": "xterm"}
    answers = [
        (f"{STORE_PROMPT} [pass]: ", "secretservice"),
        (f"{MAP_PROMPT}: ", ""),
        ("Move them into docker-credential-secretservice? [Y/n]: ", "n"),
    ]

    status, shown = on_terminal(env, ["--config", str(config_dir), "setup", "--no-podman"], answers)

    assert status == 1, shown
    assert shown.endswith(
        "error: 2 login(s) in docker-credential-pass (a.example, b.example) would stop working once credsStore is "
        "secretservice: let setup move them (answer yes) or keep --store pass\n"
    )
    assert config.read_bytes() == SWITCH_CONFIG
    assert helper_list(PASS, both_env) == {"a.example": "alice", "b.example": "bob", "c.example": "carol"}


def test_an_old_store_that_cannot_list_its_logins_stops_setup(store_env, config_dir):
    """credsStore is secretservice, but there is no session bus here: what it holds is unknown."""
    config = config_dir / "config.json"
    content = b'{\n\t"credsStore": "secretservice"\n}\n'
    write(config, content)
    before = config.stat()

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--yes")

    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("error: cannot list the logins in docker-credential-secretservice (docker-credential-")
    assert line.endswith(
        "): switching credsStore away from it would strand whatever it holds; run setup where "
        f"docker-credential-secretservice works, or remove credsStore from {config} first\n"
    )
    unchanged(config, before, content)


def test_an_old_helper_that_is_not_installed_strands_nothing(store_env, config_dir):
    """Docker Desktop's "desktop" left behind: Docker could not run it, so switching loses nothing."""
    config = config_dir / "config.json"
    write(config, b'{\n\t"credsStore": "desktop"\n}\n')

    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--no-podman", "--yes")

    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: docker-credential-desktop is not installed: Docker could not reach what it held, "
        "so switching strands nothing\n"
    )
    assert config.read_bytes() == b'{\n\t"credsStore": "pass"\n}\n'


# --- the wizard --------------------------------------------------------------------------------


def test_wizard_asks_again_after_a_store_typo_and_a_bad_map(store_env, config_dir, podman_file, tmp_path):
    env = {**store_env, "TERM": "xterm", "PATH": without_podman_tools(tmp_path)}
    answers = [
        (STORE_PROMPT, "pas"),
        (STORE_PROMPT, "pass"),
        (MAP_PROMPT, "nonsense"),
        (MAP_PROMPT, "bad.example=not a helper"),  # common.helper_problem says why, then asked again
        (MAP_PROMPT, "bad example=pass"),  # common.registry_problem likewise
        (MAP_PROMPT, "acr.example=nosuch"),
        (MAP_PROMPT, ""),
    ]

    status, shown = on_terminal(env, ["--config", str(config_dir), "setup"], answers)

    assert status == 0, shown
    assert "warning: 'pas' is not a store: choose one of pass, secretservice, keyring\n" in shown
    assert "warning: 'nonsense' is not REGISTRY=HELPER: e.g. registry.example.com=pass\n" in shown
    assert "'not a helper' is not a helper name" in shown
    assert "warning: 'bad example' is not a registry name: it contains a space or a control character\n" in shown
    missing = (
        "warning: docker-credential-nosuch is not on PATH (this process's PATH, which a Docker started from here "
        "inherits): install it, or change the config to a helper you have\n"
    )
    # Right after the answer, before the next question; and only then.
    assert shown.count(missing) == 1
    assert shown.index(missing) < shown.rindex(MAP_PROMPT)
    assert "Podman" not in shown  # none of its tools here
    assert shown.endswith(FINISHED + "\n")
    assert json.loads((config_dir / "config.json").read_text()) == {
        "credsStore": "pass",
        "credHelpers": {"acr.example": "nosuch"},
    }
    assert not podman_file.exists()


def test_wizard_asks_the_podman_question_where_skopeo_is(store_env, config_dir, podman_file, tmp_path):
    need("skopeo")
    env = {**store_env, "TERM": "xterm"}  # PATH has /usr/bin, where skopeo is
    dropin = tmp_path / "home" / ".config" / "containers" / "registries.conf.d" / "90-credctl.conf"
    question = f"Also set up Podman/Skopeo/Buildah ({dropin})? [Y/n]"
    answers = [(STORE_PROMPT, "pass"), (MAP_PROMPT, ""), (question, "n")]

    status, shown = on_terminal(env, ["--config", str(config_dir), "setup"], answers)

    assert status == 0, shown
    assert not podman_file.exists() and not dropin.exists()
    assert json.loads((config_dir / "config.json").read_text()) == {"credsStore": "pass"}


def test_podman_flag_answers_the_podman_question(store_env, config_dir, podman_file, tmp_path):
    need("skopeo")
    env = {**store_env, "TERM": "xterm"}
    helper_store(PASS, env, "p.example", "pat", "pw-p")
    answers = [(STORE_PROMPT, "pass"), (MAP_PROMPT, "")]

    status, shown = on_terminal(env, ["--config", str(config_dir), "setup", "--podman"], answers)

    assert status == 0, shown
    assert "Also set up Podman" not in shown
    dropin = tmp_path / "home" / ".config" / "containers" / "registries.conf.d" / "90-credctl.conf"
    assert 'credential-helpers = ["pass", "containers-auth.json"]\n' in dropin.read_text()
    assert not podman_file.exists()  # p.example goes to the store: the drop-in routes it, no entry needed


def test_podman_with_no_login_yet_gets_the_drop_in(store_env, config_dir, podman_file, tmp_path):
    """No login anywhere: the drop-in (Podman's credsStore) serves every registry to come, so there is
    nothing to name in Podman's auth file."""
    result = credctl(store_env, "--config", str(config_dir), "setup", "--store", "pass", "--podman", "--yes")

    assert (result.returncode, result.stderr) == (0, "")
    dropin = tmp_path / "home" / ".config" / "containers" / "registries.conf.d" / "90-credctl.conf"
    assert result.stdout.splitlines()[:2] == [
        f"✓ {config_dir / 'config.json'}: updated",
        f"✓ {dropin}: updated: podman, buildah and skopeo log in through docker-credential-pass",
    ]
    assert not podman_file.exists()


def test_wizard_asks_before_moving_plaintext_logins(store_env, config_dir):
    config = config_dir / "config.json"
    write(config, PLAINTEXT)
    env = {**store_env, "TERM": "xterm"}
    answers = [
        (STORE_PROMPT, "pass"),
        (MAP_PROMPT, ""),
        ("Move these plaintext logins into docker-credential-pass? [Y/n]", "n"),
    ]

    status, shown = on_terminal(env, ["--config", str(config_dir), "setup", "--no-podman"], answers)

    assert status == 1
    assert shown.endswith(
        f"error: 2 plaintext login(s) (a.example, {HUB}) would stop working once credsStore is set: "
        "let setup move them (answer yes) or remove them first\n"
    )
    assert config.read_bytes() == PLAINTEXT


# --- a fresh machine: pass not initialised -----------------------------------------------------

# The wizard on a fresh machine (no gpg key, no plaintext login, no Podman tool), each question
# as the terminal shows it when it waits for the answer typed here.
FRESH = [
    (f"{STORE_PROMPT} [pass]: ", "pass"),
    (f"{INIT_PROMPT} [Y/n]: ", "y"),
    (f"{NO_KEY_PROMPT} [Y/n]: ", "y"),
    ("Real name for the new key: ", "Fresh Person"),
    ("Email for the new key: ", "fresh@example.invalid"),
    ("Passphrase for the new key (empty for none): ", ""),
    ("Repeat for confirmation: ", ""),
    (f"{MAP_PROMPT}: ", ""),
]


def test_wizard_initialises_the_pass_store_on_a_fresh_machine(fresh_env, config_dir, podman_file, tmp_path):
    env = {**fresh_env, "PATH": without_podman_tools(tmp_path)}

    status, shown = on_terminal(env, ["--config", str(config_dir), "setup"], FRESH)

    assert status == 0, shown
    # Each asked once, in this order, and nothing else (no Podman question: no tool here).
    asked = [question for line in shown.splitlines() for question, _ in FRESH if line.startswith(question)]
    assert asked == [question for question, _ in FRESH]
    assert shown.count("? [Y/n]: ") == 2
    assert "Podman" not in shown
    store = Path(env["PASSWORD_STORE_DIR"])
    ready = f"✓ password store {store} is ready; credentials will be encrypted to Fresh Person <fresh@example.invalid>"
    assert ready in shown.splitlines()
    assert shown.endswith(FINISHED + "\n")
    assert (store / ".gpg-id").is_file()
    assert json.loads((config_dir / "config.json").read_text()) == {"credsStore": "pass"}
    assert not podman_file.exists()
    helper_store(PASS, env, "fresh.example", "fred", "pw-fresh")
    assert helper_get(PASS, env, "fresh.example") == ("fred", "pw-fresh")


HEADLESS = (
    "error: the password store {store} is not initialised: run `credctl pass init --generate --no-passphrase "
    "--name NAME --email EMAIL` (or `credctl pass init --gpg-id FINGERPRINT`), then `credctl setup` again\n"
)


@pytest.mark.parametrize("args", [["--store", "pass", "--yes"], ["--store", "pass"], []], ids=["yes", "store", "bare"])
def test_headless_setup_names_the_commands_that_initialise_pass(fresh_env, config_dir, args):
    result = credctl(fresh_env, "--config", str(config_dir), "setup", *args)

    assert result.returncode == 1
    assert one_error_line(result) == HEADLESS.format(store=fresh_env["PASSWORD_STORE_DIR"])
    assert not (config_dir / "config.json").exists()
