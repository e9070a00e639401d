"""The config-editing safety rules (DESIGN "Docker / Podman config editing rules").

Mostly through the installed `credctl map` as a real subprocess in throwaway homes, with the
module itself where a rule is clearer there (keys, plaintext decoding, locations). Every
assertion on a file is on its exact bytes.
"""

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from world import CREDCTL, HUB, LOCK, b64, cli_env, credctl, layout, one_error_line, write

from credctl.dockerconfig import (
    ConfigFile,
    docker_config_path,
    edit,
    plaintext_credentials,
    podman_auth_path,
)
from credctl.errors import ConfigError
from credctl.gojson import Number
from credctl.names import helper_key

TIMEOUT = 60  # seconds; a guard against hangs, not an expectation


# --- shared with test_cli_config.py ------------------------------------------------------------


# --- local fixtures ----------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


# --- keep everything credctl does not change ---------------------------------------------------

EVERYTHING = """
{
    "auths": {
        "reg.example": {
            "auth": "dXNlcjpwYXNz",
            "weird": {
                "nested": [
                    1,
                    "two",
                    null,
                    true,
                    -3.5
                ]
            },
            "email": "u@example.invalid"
        },
        "marker.example": {}
    },
    "zzz": "keep me",
    "credHelpers": {
        "a.example": "pass"
    },
    "currentContext": "default",
    "proxies": {
        "default": {
            "httpProxy": "http://proxy.invalid:3128"
        }
    },
    "emptyList": [],
    "emptyObject": {},
    "aaa": 12
}
"""
EVERYTHING_MAPPED = EVERYTHING.replace('"a.example": "pass"', '"a.example": "pass",\n        "b.example": "pass"')


@pytest.mark.parametrize(
    ("indent", "newline"),
    [("\t", False), ("\t", True), ("  ", False), ("  ", True), ("    ", True)],
    ids=["tab", "tab+newline", "2-space", "2-space+newline", "4-space+newline"],
)
def test_an_edit_keeps_unknown_keys_order_indentation_and_final_newline(env, config_dir, indent, newline):
    config = config_dir / "config.json"
    write(config, layout(EVERYTHING, indent, newline))

    result = credctl(env, "--config", str(config_dir), "map", "b.example", "pass")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"✓ b.example → docker-credential-pass in {config}\n"
    assert config.read_bytes() == layout(EVERYTHING_MAPPED, indent, newline)


def test_a_new_key_goes_at_the_end_of_the_file(env, config_dir):
    config = config_dir / "config.json"
    write(config, layout('{\n    "zzz": 1,\n    "auths": {}\n}', newline=True))

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    expected = """
        {
            "zzz": 1,
            "auths": {},
            "credHelpers": {
                "reg.example": "pass"
            }
        }
    """
    assert config.read_bytes() == layout(expected, newline=True)


def test_html_characters_come_out_as_go_writes_them(env, config_dir):
    config = config_dir / "config.json"
    # Written raw (as another tool may); Go's encoder escapes <, >, & and U+2028/9, not é. What
    # credctl does not change stays as written (zzz); the section it edits is written as Go would.
    raw = """
        {
            "zzz": "a<b>&c é \u2028",
            "credHelpers": {
                "<&> é \u2028": "pass"
            }
        }
    """
    config.write_bytes(layout(raw))
    assert "\u2028".encode() in config.read_bytes()

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    expected = """
        {
            "zzz": "a<b>&c é \u2028",
            "credHelpers": {
                "\\u003c\\u0026\\u003e é \\u2028": "pass",
                "reg.example": "pass"
            }
        }
    """
    assert config.read_bytes() == layout(expected)


def test_a_no_op_edit_does_not_rewrite_the_file(env, config_dir):
    config = config_dir / "config.json"
    original = b'{"credHelpers":{"x.example":"pass"},"zzz":[1,2]}'  # compact: any rewrite would show
    write(config, original, 0o644)
    before = config.stat()

    mapped = credctl(env, "--config", str(config_dir), "map", "x.example", "docker-credential-pass")
    unmapped = credctl(env, "--config", str(config_dir), "unmap", "y.example")

    assert (mapped.returncode, mapped.stderr) == (0, "")
    assert mapped.stdout == f"x.example → docker-credential-pass in {config} (already so)\n"
    assert (unmapped.returncode, unmapped.stderr) == (0, "")
    assert unmapped.stdout == f"y.example was not mapped in {config}: nothing to do\n"
    after = config.stat()
    assert config.read_bytes() == original
    assert (after.st_ino, after.st_mtime_ns, stat.S_IMODE(after.st_mode)) == (before.st_ino, before.st_mtime_ns, 0o644)


# --- symlinks, modes, new files ----------------------------------------------------------------

MAPPED = layout('{\n    "credHelpers": {\n        "reg.example": "pass"\n    }\n}')


def test_a_symlinked_config_stays_a_symlink_and_its_target_is_rewritten(env, tmp_path, config_dir):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "docker-config.json"
    write(target, b'{\n\t"auths": {}\n}\n', 0o644)
    link = config_dir / "config.json"
    link.symlink_to("../dotfiles/docker-config.json")  # relative, as dotfile managers make them

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "../dotfiles/docker-config.json"
    assert target.read_bytes() == b'{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"reg.example": "pass"\n\t}\n}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    # The temporary file and the lock live beside the target; nothing is left beside the link.
    assert sorted(os.listdir(config_dir)) == ["config.json"]
    assert sorted(os.listdir(dotfiles)) == [".docker-config.json.credctl-lock", "docker-config.json"]


def test_a_dangling_symlink_gets_its_target_created(env, tmp_path, config_dir):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    link = config_dir / "config.json"
    link.symlink_to(dotfiles / "config.json")

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(dotfiles / "config.json")
    assert (dotfiles / "config.json").read_bytes() == MAPPED
    assert stat.S_IMODE((dotfiles / "config.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o444])
def test_the_file_mode_is_kept(env, config_dir, mode):
    config = config_dir / "config.json"
    write(config, b"{}", mode)

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == MAPPED
    assert stat.S_IMODE(config.stat().st_mode) == mode


def test_a_new_file_is_0600_in_a_new_0700_folder(env, tmp_path):
    directory = tmp_path / "new" / "docker"

    result = credctl(env, "--config", str(directory), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    assert (directory / "config.json").read_bytes() == MAPPED
    assert stat.S_IMODE((directory / "config.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert sorted(os.listdir(directory)) == [LOCK, "config.json"]


def test_an_empty_file_is_filled_like_a_new_one(env, config_dir):
    config = config_dir / "config.json"
    write(config, b"", 0o640)

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == MAPPED
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


# --- a malformed file is never written ---------------------------------------------------------

MALFORMED = {
    "bad-json": (b'{"auths": {,}}', "is not valid JSON"),
    "array": (b'[{"credHelpers": {}}]', "must hold a JSON object"),
    "credHelpers-not-an-object": (b'{"credHelpers": ["pass"]}', "'credHelpers' must be an object"),
    "credHelpers-value-not-a-string": (b'{"credHelpers": {"a.example": 1}}', "credHelpers['a.example'] must be"),
    "credsStore-a-number": (b'{\n\t"credsStore": 5\n}', "'credsStore' must be a string"),
    "auths-a-string": (b'{"auths": "x"}', "'auths' must be an object"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_config_is_never_written(env, config_dir, name):
    content, reason = MALFORMED[name]
    config = config_dir / "config.json"
    write(config, content, 0o644)
    before = config.stat()

    result = credctl(env, "--config", str(config_dir), "map", "reg.example", "pass")

    assert result.returncode == 1
    line = one_error_line(result)
    assert str(config) in line and reason in line
    assert result.stdout == ""
    after = config.stat()
    assert config.read_bytes() == content
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(os.listdir(config_dir)) == [LOCK, "config.json"]


@pytest.mark.parametrize(
    "command",
    [
        ["unmap", "reg.example"],
        ["migrate", "--to", "pass"],
        ["list"],
        ["list", "--json"],
        ["map", "docker.io", "pass", "--podman"],
    ],
    ids=" ".join,
)
def test_every_config_command_refuses_a_malformed_file(env, config_dir, tmp_path, command):
    config = config_dir / "config.json"
    content = b'{"auths": {"reg.example": {"auth": "dTpw"}},'  # cut short
    write(config, content)

    result = credctl(env, "--config", str(config_dir), *command)

    assert result.returncode == 1
    assert str(config) in one_error_line(result)
    assert config.read_bytes() == content
    assert not (tmp_path / "xdg-config" / "containers" / "auth.json").exists()


def test_a_malformed_podman_file_is_never_written(env, config_dir, tmp_path):
    podman = tmp_path / "podman-auth.json"
    write(podman, b'{"credHelpers": "pass"}')
    env["REGISTRY_AUTH_FILE"] = str(podman)

    result = credctl(env, "--config", str(config_dir), "map", "docker.io", "pass", "--podman")

    assert result.returncode == 1
    assert str(podman) in one_error_line(result)
    assert podman.read_bytes() == b'{"credHelpers": "pass"}'


# --- concurrency -------------------------------------------------------------------------------


def test_parallel_maps_lose_nothing_and_leave_no_temporary_files(env, config_dir):
    config = config_dir / "config.json"
    write(config, b'{\n\t"zzz": true\n}')
    processes = [
        subprocess.Popen(
            [CREDCTL, "--config", str(config_dir), "map", f"reg{n}.example", "pass"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr

    data = json.loads(config.read_bytes())
    assert data == {"zzz": True, "credHelpers": {f"reg{n}.example": "pass" for n in range(8)}}
    assert list(data) == ["zzz", "credHelpers"]
    assert sorted(os.listdir(config_dir)) == [LOCK, "config.json"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


# --- Go reads keys case-insensitively ----------------------------------------------------------


def test_an_entry_goes_into_the_files_own_spelling_of_credhelpers(env, config_dir):
    config = config_dir / "config.json"
    write(config, b'{\n\t"CredHelpers": {\n\t\t"a.example": "pass"\n\t}\n}')

    result = credctl(env, "--config", str(config_dir), "map", "b.example", "pass")

    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == b'{\n\t"CredHelpers": {\n\t\t"a.example": "pass",\n\t\t"b.example": "pass"\n\t}\n}'


def test_unmap_finds_an_entry_under_any_spelling(env, config_dir):
    config = config_dir / "config.json"
    write(config, b'{\n\t"CREDHELPERS": {\n\t\t"a.example": "pass"\n\t},\n\t"auths": {}\n}')

    result = credctl(env, "--config", str(config_dir), "unmap", "a.example")

    assert result.returncode == 0, result.stderr
    assert config.read_bytes() == b'{\n\t"auths": {}\n}'


def test_set_renames_a_key_to_its_canonical_spelling_in_place(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"a": 1, "CREDSSTORE": "old", "z": 2}')

    config = ConfigFile.read(str(path))
    assert config.get("credsStore") == "old"
    config.set("credsStore", "pass")

    assert list(config.data.items()) == [("a", Number("1")), ("credsStore", "pass"), ("z", Number("2"))]
    assert config.changed


def test_duplicate_auths_objects_are_merged_as_go_does(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"auths": {"a.example": {}}, "credsStore": "x", "auths": {"b.example": {}}, "credsStore": "y"}')

    config = ConfigFile.read(str(path))

    assert config.data == {"auths": {"a.example": {}, "b.example": {}}, "credsStore": "y"}


def test_edit_returns_the_text_before_and_after(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b'{\n  "auths": {}\n}\n')

    before, after = edit(str(path), lambda config: config.set("credsStore", "pass"))

    assert before == '{\n  "auths": {}\n}\n'
    assert after == '{\n  "auths": {},\n  "credsStore": "pass"\n}\n'
    assert path.read_bytes() == after.encode()


# --- registry keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "docker", "podman"),
    [
        ("docker.io", HUB, "docker.io"),
        ("index.docker.io", HUB, "docker.io"),
        (HUB, HUB, "docker.io"),
        ("https://index.docker.io/v1", HUB, "docker.io"),
        # docker/cli and containers/image key Hub's API host apart (tests/test_key_rules.py)
        ("registry-1.docker.io", "registry-1.docker.io", "registry-1.docker.io"),
        ("docker.io/library/alpine", HUB, "docker.io"),
        ("https://127.0.0.1:5000/v2/", "127.0.0.1:5000", "127.0.0.1:5000"),
        ("127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1:5000"),
        ("http://reg.example/v1/", "reg.example", "reg.example"),
        ("reg.example/team/app", "reg.example", "reg.example"),
        ("  localhost:5000  ", "localhost:5000", "localhost:5000"),
    ],
)
def test_helper_key(registry, docker, podman):
    assert helper_key(registry) == docker
    assert helper_key(registry, podman=True) == podman


def test_helper_key_through_map(env, config_dir, tmp_path):
    podman = tmp_path / "podman.json"
    env["REGISTRY_AUTH_FILE"] = str(podman)

    for registry in ("docker.io", "https://127.0.0.1:5000/v2/"):
        result = credctl(env, "--config", str(config_dir), "map", registry, "pass", "--podman")
        assert result.returncode == 0, result.stderr

    assert (config_dir / "config.json").read_bytes() == layout(
        """
        {
            "credHelpers": {
                "https://index.docker.io/v1/": "pass",
                "127.0.0.1:5000": "pass"
            }
        }
        """
    )
    assert podman.read_bytes() == layout(
        """
        {
            "credHelpers": {
                "docker.io": "pass",
                "127.0.0.1:5000": "pass"
            }
        }
        """
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"auth": b64("alice:s3cret")}, ("alice", "s3cret")),
        ({"auth": b64("alice:pa:ss:word")}, ("alice", "pa:ss:word")),  # split at the first colon
        ({"auth": b64("alice:pw\x00\x00")}, ("alice", "pw")),  # Go trims NULs
        ({"auth": b64("alice:")}, ("alice", "")),
        ({"auth": b64("u:"), "identitytoken": "tok-1"}, ("<token>", "tok-1")),
        ({"identitytoken": "tok-2"}, ("<token>", "tok-2")),
        ({"username": "bob", "password": "pw"}, ("bob", "pw")),
        ({"auth": "", "email": "x@example.invalid"}, None),
        ({}, None),
        ("not an object", None),
        (None, None),
    ],
)
def test_plaintext_credentials(entry, expected):
    assert plaintext_credentials(entry) == expected


@pytest.mark.parametrize(
    "auth",
    [
        "YTpiYw",  # a:bc without its padding: Go's StdEncoding rejects it
        "!!!!",
        "YQ==",  # "a": no colon
        "OmI=",  # ":b": no username
    ],
)
def test_plaintext_credentials_refuses_what_docker_refuses(auth):
    with pytest.raises(ConfigError):
        plaintext_credentials({"auth": auth})


# --- where the files are -----------------------------------------------------------------------


def test_config_flag_beats_docker_config_which_beats_home(env, tmp_path):
    home_config = tmp_path / "home" / ".docker" / "config.json"
    env_config = tmp_path / "from-env" / "config.json"
    flag_config = tmp_path / "from-flag" / "config.json"

    def mapped(registry: str) -> bytes:
        return layout(f'{{\n    "credHelpers": {{\n        "{registry}": "pass"\n    }}\n}}')

    assert credctl(env, "map", "one.example", "pass").returncode == 0
    assert home_config.read_bytes() == mapped("one.example")
    assert not env_config.exists()

    env["DOCKER_CONFIG"] = str(env_config.parent)
    assert credctl(env, "map", "two.example", "pass").returncode == 0
    assert env_config.read_bytes() == mapped("two.example")
    assert home_config.read_bytes() == mapped("one.example")

    assert credctl(env, "--config", str(flag_config.parent), "map", "three.example", "pass").returncode == 0
    assert flag_config.read_bytes() == mapped("three.example")
    assert env_config.read_bytes() == mapped("two.example")

    # A relative --config is relative to the working directory, as for docker.
    assert credctl(env, "--config", "rel", "map", "four.example", "pass", cwd=tmp_path).returncode == 0
    assert (tmp_path / "rel" / "config.json").read_bytes() == mapped("four.example")


def test_docker_config_path(tmp_path):
    home = {"HOME": str(tmp_path / "h")}
    assert docker_config_path(None, home) == str(tmp_path / "h" / ".docker" / "config.json")
    assert docker_config_path(None, {**home, "DOCKER_CONFIG": ""}) == str(tmp_path / "h" / ".docker" / "config.json")
    assert docker_config_path(None, {"DOCKER_CONFIG": "/etc/dc"}) == "/etc/dc/config.json"
    assert docker_config_path("/opt/flag", {"DOCKER_CONFIG": "/etc/dc"}) == "/opt/flag/config.json"
    assert docker_config_path("~/x", home) == str(tmp_path / "h" / "x" / "config.json")


def test_podman_file_is_registry_auth_file_else_xdg_config_home(env, config_dir, tmp_path):
    xdg_file = tmp_path / "xdg-config" / "containers" / "auth.json"
    explicit = tmp_path / "elsewhere" / "auth.json"
    mapped = layout('{\n    "credHelpers": {\n        "docker.io": "pass"\n    }\n}')

    with_variable = {**env, "REGISTRY_AUTH_FILE": str(explicit)}
    assert credctl(with_variable, "--config", str(config_dir), "map", "docker.io", "pass", "--podman").returncode == 0
    assert explicit.read_bytes() == mapped
    assert not xdg_file.exists()

    assert credctl(env, "--config", str(config_dir), "map", "docker.io", "pass", "--podman").returncode == 0
    assert xdg_file.read_bytes() == mapped
    assert stat.S_IMODE(xdg_file.stat().st_mode) == 0o600
    # Not $XDG_RUNTIME_DIR/containers/auth.json: that is a tmpfs, gone at the next boot.
    assert not (tmp_path / "run" / "containers").exists()


def test_podman_auth_path(tmp_path):
    home = {"HOME": str(tmp_path / "h")}
    assert podman_auth_path(home) == str(tmp_path / "h" / ".config" / "containers" / "auth.json")
    assert podman_auth_path({"XDG_CONFIG_HOME": "/xdg"}) == "/xdg/containers/auth.json"
    assert podman_auth_path({"XDG_CONFIG_HOME": "/xdg", "REGISTRY_AUTH_FILE": "/ra/auth.json"}) == "/ra/auth.json"
    assert podman_auth_path({**home, "REGISTRY_AUTH_FILE": "~/a.json"}) == str(tmp_path / "h" / "a.json")
