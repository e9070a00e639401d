"""Issue 15 item 3: every JSON document credctl reads gives one clear line on content Python's json
reads badly (never a traceback or an "unexpected ...; please report this" line), and a rewritten
config keeps every value credctl does not edit byte for byte, readable by skopeo and docker.

The rule lives in credctl.gojson.parse; these run the installed console scripts on each input.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import world
from world import LOCK, cli_env, credctl, layout, one_error_line

NEVER = "fix or remove it; credctl never overwrites a file it cannot read"
DEEP = b"[" * 100_000 + b"]" * 100_000
LONG = b"1" * 5000  # more digits than Python's int-str limit (4300)

# (content, the reason credctl gives): documents no config file may hold.
UNREADABLE = {
    "NaN": (b'{"x": NaN, "credsStore": "pass"}', "NaN is not a JSON value"),
    "Infinity": (b'{"x": Infinity}', "Infinity is not a JSON value"),
    "-Infinity": (b'{"x": [-Infinity]}', "-Infinity is not a JSON value"),
    "lone surrogate": (b'{"x": "\\ud800"}', "a \\u escape is half of a surrogate pair, which is not text"),
    "byte order mark": (b'\xef\xbb\xbf{"auths": {}}', "it starts with a byte order mark, which JSON does not allow"),
    "not UTF-8": (b'{"x": "\xff"}', "byte 8 is not UTF-8 text"),
    "too deep": (b'{"x": ' + DEEP + b"}", "it is nested too deeply"),
    "syntax": (b'{"x": 1,}', "Expecting property name enclosed in double quotes at line 1 column 9"),
}
# (content, the line after the file name): JSON, but not a config file docker can use.
WRONG_TYPES = {
    "array": (b"[]", " must hold a JSON object: fix or remove it"),
    "auths array": (b'{"auths": []}', ": 'auths' must be an object: fix it, credctl will not guess"),
    "Auths array": (b'{"Auths": []}', ": 'Auths' must be an object: fix it, credctl will not guess"),
    "helper number": (b'{"credHelpers": {"h": 5}}', ": credHelpers['h'] must be a string: fix it"),
    "credhelpers number": (b'{"credhelpers": {"h": 5}}', ": credhelpers['h'] must be a string: fix it"),
    "auths entry number": (b'{"auths": {"r.example": 5}}', ": auths['r.example'] must be an object: fix it"),
    "credsStore object": (b'{"CredsStore": {}}', ": 'CredsStore' must be a string: fix it, credctl will not guess"),
}
COMMANDS = {
    "map": ("map", "r.example", "pass"),
    "unmap": ("unmap", "r.example"),
    "list": ("list",),
    "migrate": ("migrate", "--to", "pass", "--dry-run"),
}


def docker_folder(tmp_path: Path, content: bytes) -> Path:
    folder = tmp_path / "docker"
    folder.mkdir()
    world.write(folder / "config.json", content)
    return folder


def assert_left_alone(folder: Path, content: bytes) -> None:
    assert (folder / "config.json").read_bytes() == content
    assert sorted(os.listdir(folder)) in (["config.json"], sorted(["config.json", LOCK]))


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_config_that_is_not_json_is_one_line_and_left_alone(tmp_path, case, command):
    content, reason = UNREADABLE[case]
    folder = docker_folder(tmp_path, content)

    result = credctl(cli_env(tmp_path), "--config", str(folder), *COMMANDS[command])

    assert result.returncode == 1
    path = folder / "config.json"
    assert one_error_line(result) == f"error: {path} is not valid JSON ({reason}): {NEVER}\n"
    assert result.stdout == ""
    assert_left_alone(folder, content)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_a_config_with_wrong_types_is_one_line_and_left_alone(tmp_path, case, command):
    content, line = WRONG_TYPES[case]
    folder = docker_folder(tmp_path, content)

    result = credctl(cli_env(tmp_path), "--config", str(folder), *COMMANDS[command])

    assert result.returncode == 1
    assert one_error_line(result) == f"error: {folder / 'config.json'}{line}\n"
    assert_left_alone(folder, content)


@pytest.mark.parametrize("case", ["NaN", "too deep", "byte order mark"])
def test_a_podman_auth_file_that_is_not_json_is_one_line(tmp_path, case):
    """setup edits Podman's auth file for a registry another helper than the store serves (the
    drop-in routes the rest): a file that does not parse is then one line, and left alone."""
    content, reason = UNREADABLE[case]
    auth = tmp_path / "auth.json"
    world.write(auth, content)
    env = cli_env(tmp_path, REGISTRY_AUTH_FILE=str(auth))
    setup = ["setup", "--store", "pass", "--podman", "--map", "other.example=secretservice", "--dry-run"]

    result = credctl(env, "--config", str(docker_folder(tmp_path, b"{}")), *setup)

    assert result.returncode == 1
    assert one_error_line(result) == f"error: {auth} is not valid JSON ({reason}): {NEVER}\n"
    assert auth.read_bytes() == content


# --- values credctl does not edit: byte for byte -----------------------------------------------

ODD = r"""
    {
        "big": 1e400,
        "numbers": [1.0, 1E2, -0, 12345678901234567890123, 1e-400, 0.10e+1],
        "long": LONG,
        "odd": {"escaped": "\u00e9\/\ud83d\ude00\u003c", "empty": {}, "none": null,"t":true},
        "auths": {
            "plain.example": {
                "auth": "dTpw",
                "n": 1.50
            }
        },
        "credsStore": "pass",
        "credHelpers": {
            "keep.example": "pass"
        }
    }
"""
HELPERS_BEFORE = '\t"credHelpers": {\n\t\t"keep.example": "pass"\n\t}'
HELPERS_AFTER = '\t"credHelpers": {\n\t\t"keep.example": "pass",\n\t\t"r.example": "secretservice"\n\t}'


def odd_config() -> bytes:
    return layout(ODD, newline=True).replace(b"LONG", LONG)


def test_map_and_unmap_keep_every_byte_outside_the_edited_section(tmp_path):
    folder = docker_folder(tmp_path, odd_config())
    path, env = folder / "config.json", cli_env(tmp_path)

    mapped = credctl(env, "--config", str(folder), "map", "r.example", "secretservice")

    assert mapped.returncode == 0, mapped.stderr
    expected = odd_config().decode().replace(HELPERS_BEFORE, HELPERS_AFTER)
    assert HELPERS_AFTER in expected and path.read_text() == expected

    unmapped = credctl(env, "--config", str(folder), "unmap", "r.example")

    assert unmapped.returncode == 0, unmapped.stderr
    assert path.read_bytes() == odd_config()


def test_a_number_too_large_for_a_float_is_never_written_as_infinity(tmp_path):
    folder = docker_folder(tmp_path, b'{"x": 1e400, "credsStore": "pass"}')

    result = credctl(cli_env(tmp_path), "--config", str(folder), "map", "r.example", "pass")

    assert result.returncode == 0, result.stderr
    assert (folder / "config.json").read_text() == (
        '{\n\t"x": 1e400,\n\t"credsStore": "pass",\n\t"credHelpers": {\n\t\t"r.example": "pass"\n\t}\n}'
    )


def test_skopeo_reads_the_rewritten_file(tmp_path):
    world.need("skopeo")
    folder = docker_folder(tmp_path, odd_config())
    result = credctl(cli_env(tmp_path), "--config", str(folder), "map", "r.example", "pass")
    assert result.returncode == 0, result.stderr

    login = subprocess.run(
        ["skopeo", "login", "--get-login", "--authfile", str(folder / "config.json"), "plain.example"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (login.returncode, login.stdout, login.stderr) == (0, "u\n", "")


def test_docker_reads_the_rewritten_file(tmp_path, docker_cli):
    folder = docker_folder(tmp_path, odd_config())
    result = credctl(cli_env(tmp_path), "--config", str(folder), "map", "r.example", "pass")
    assert result.returncode == 0, result.stderr

    def docker_warnings() -> str:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # context ls needs no daemon
        run = subprocess.run(
            [docker_cli, "--config", str(folder), "context", "ls"], env=env, capture_output=True, text=True, timeout=60
        )
        return run.stderr

    assert docker_warnings() == ""
    (folder / "config.json").write_text('{"x": Infinity}')  # what the file held before credctl kept numbers
    assert "Error loading config file" in docker_warnings()


# --- credctl's settings.json ---------------------------------------------------------------------


def add_profile(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    credentials = world.write_credentials(tmp_path / "alibaba.ini")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(mode=0o700, exist_ok=True)
    return credctl(env, "acr", "add-profile", "team", "--credentials-file", str(credentials), "--bin-dir", str(bin_dir))


def settings_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "xdg-config" / "credctl" / "settings.json"
    path.parent.mkdir(parents=True, mode=0o700)
    world.write(path, content)
    return path


def test_settings_keep_numbers_as_written(tmp_path):
    path = settings_file(tmp_path, b'{"big": 1e400, "exact": 1.50, "long": ' + LONG + b"}")

    result = add_profile(tmp_path, cli_env(tmp_path))

    assert result.returncode == 0, result.stderr
    text = path.read_text()
    assert '"big": 1e400,' in text and '"exact": 1.50,' in text and f'"long": {LONG.decode()}\n' in text
    assert '"registries": []' in text


@pytest.mark.parametrize("case", ["NaN", "too deep", "lone surrogate", "not UTF-8"])
def test_settings_that_are_not_json_are_one_line_and_left_alone(tmp_path, case):
    content, reason = UNREADABLE[case]
    path = settings_file(tmp_path, content)

    result = add_profile(tmp_path, cli_env(tmp_path))

    assert result.returncode == 1
    assert (
        one_error_line(result)
        == f"error: {path} is not valid JSON ({reason}): fix or remove it; credctl never overwrites it\n"
    )
    assert path.read_bytes() == content


def test_completion_of_profiles_completes_nothing_from_settings_that_are_not_json(tmp_path):
    settings_file(tmp_path, DEEP)
    env = {
        **cli_env(tmp_path),
        "_CREDCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "credctl acr remove-profile ",
        "COMP_CWORD": "3",
    }

    result = subprocess.run([world.CREDCTL], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "", "")


# --- helpers: input on stdin, and other helpers' output ---------------------------------------

HELPERS = (
    "docker-credential-pass",
    "docker-credential-secretservice",
    "docker-credential-keyring",
    "docker-credential-acr-helper",
)
BAD_STDIN = {
    "too deep": (DEEP, "credentials on stdin: not valid JSON: nested too deeply"),
    "NaN": (b'{"ServerURL": NaN}', "credentials on stdin: not valid JSON: NaN is not a JSON value"),
    "long integer": (b'{"ServerURL": ' + LONG + b"}", "credentials on stdin: ServerURL must be a string, not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_STDIN))
@pytest.mark.parametrize("program", HELPERS)
def test_helper_input_that_is_not_usable_json_is_one_line(tmp_path, program, case):
    data, line = BAD_STDIN[case]

    result = subprocess.run(
        [world.ours(program), "store"], input=data, env=cli_env(tmp_path), capture_output=True, timeout=60, check=False
    )

    assert (result.returncode, result.stdout.decode(), result.stderr) == (1, line + "\n", b"")


def test_another_helpers_output_that_is_not_json_is_one_row(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    hostile = bin_dir / "docker-credential-hostile"
    hostile.write_text("#!/bin/sh\npython3 -c 'print(\"[\" * 100000)'\n")
    hostile.chmod(0o755)
    folder = docker_folder(tmp_path, b'{"credsStore": "hostile"}')
    env = world.on_path(cli_env(tmp_path), bin_dir)

    result = credctl(env, "--config", str(folder), "list", "--json")

    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (
        row["note"]
        == "cannot list: docker-credential-hostile list failed (exit status 0): not valid JSON: nested too deeply"
    )


# --- the kubelet plugin's request ----------------------------------------------------------------

BAD_REQUESTS = {
    "too deep": (DEEP, "it is nested too deeply"),
    "NaN": (b'{"apiVersion": NaN}', "NaN is not a JSON value"),
    "byte order mark": (b"\xef\xbb\xbf{}", "it starts with a byte order mark, which JSON does not allow"),
    "not UTF-8": (b'{"image": "\xff"}', "byte 12 is not UTF-8 text"),
    "lone surrogate": (
        json.dumps(world.request("\ud800.example/app")).encode(),
        "a \\u escape is half of a surrogate pair, which is not text",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_a_kubelet_request_that_is_not_json_is_one_line(tmp_path, case):
    data, reason = BAD_REQUESTS[case]

    result = world.provide(cli_env(tmp_path), data)

    assert world.refused(result) == f"the request on stdin is not JSON ({reason}; expected a CredentialProviderRequest)"
