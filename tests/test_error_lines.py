"""The one line a user sees for whatever ended a run: errors.one_line and errors.exit_status, as
the docker-credential-* helpers (stdout), the kubelet plugin (stderr) and the CLI (stderr,
`error: ...`) print it; and usage errors in the one shape click gives its own.

The helpers' lines are in test_protocol_memory.py; these tests drive the kubelet plugin and the
CLI in-process with a failure injected, then the real `credctl` for the usage errors.
"""

import errno
import io

import pytest
import world

import credctl.cli.app
import credctl.kubelet
from credctl.errors import (
    CredctlError,
    CredentialsNotFound,
    StoreError,
    StoreUnavailable,
    UnknownStore,
    UsageError,
    exit_status,
    one_line,
)

SECRET = "s3cr3t-never-shown"
BUG = "unexpected {}; please report this as a credctl bug"


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (CredentialsNotFound(), "credentials not found in native keychain"),
        (StoreError("the store failed: try again"), "the store failed: try again"),
        (UsageError("--format must be yaml or json"), "--format must be yaml or json"),
        (UsageError("choose one of a, b", option="--to"), "Invalid value for --to: choose one of a, b"),
        (KeyboardInterrupt(), "W: interrupted"),
        (OSError(errno.ENOSPC, "No space left on device", "/d/f"), "W: No space left on device (/d/f)"),
        (OSError(errno.EIO, "Input/output error"), "W: Input/output error"),
        (OSError(SECRET), "W: OSError"),
        (BrokenPipeError(SECRET), "W: BrokenPipeError"),
        (ValueError(SECRET), "W: " + BUG.format("ValueError")),
        (RecursionError(SECRET), "W: " + BUG.format("RecursionError")),
    ],
    ids=repr,
)
def test_one_line(error, line):
    assert one_line(error, "W") == line
    assert one_line(error) == line.removeprefix("W: ")


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/d/f"),
            "/d/f: No space left on device: free some space there (or raise the quota), then run the command again",
        ),
        (
            OSError(errno.EDQUOT, "Disk quota exceeded", "/d/f"),
            "/d/f: Disk quota exceeded: free some space there (or raise the quota), then run the command again",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/d/f"),
            "/d/f: Read-only file system: that file system is mounted read-only: remount it read-write or point "
            "credctl elsewhere",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/d/f"),
            "/d/f: Permission denied: check who owns it and its permissions (credctl writes as the user who runs it)",
        ),
        (
            PermissionError(errno.EPERM, "Operation not permitted"),
            "Operation not permitted: check who owns it and its permissions (credctl writes as the user who runs it)",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory", "/d"),
            "/d: Is a directory: check that path, then try again",
        ),
        (OSError(SECRET), "OSError: check that path, then try again"),
        (StoreError("as it is"), "as it is"),
    ],
    ids=repr,
)
def test_one_line_with_advice(error, line):
    assert one_line(error, advice=True) == line


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UsageError("x"), 2),
        (UsageError("x", option="--to"), 2),
        (CredctlError("x"), 1),
        (StoreUnavailable("x"), 1),
        (UnknownStore("x", ("pass",)), 1),
        (OSError("x"), 1),
        (KeyboardInterrupt(), 1),
        (ValueError("x"), 1),
    ],
    ids=repr,
)
def test_exit_status(error, status):
    assert exit_status(error) == status


# -- the kubelet plugin: `credctl-kubelet-provider: LINE` on stderr --------------------------------

REQUEST = b'{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"h/a"}'


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (StoreError("the store failed:\n try again"), "the store failed: try again"),
        (OSError(errno.ENOSPC, "No space left on device", "/d/f"), "No space left on device (/d/f)"),
        (OSError(SECRET), "OSError"),
        (KeyboardInterrupt(), "interrupted"),
        (TypeError(SECRET), BUG.format("TypeError")),
    ],
    ids=repr,
)
def test_the_kubelet_plugin_prints_one_line(monkeypatch, error, line):
    def answer(request, environ):
        raise error

    monkeypatch.setattr(credctl.kubelet, "answer", answer)
    stdout, stderr = io.BytesIO(), io.StringIO()
    assert credctl.kubelet.run([], io.BytesIO(REQUEST), stdout, stderr, {}) == 1
    assert (stdout.getvalue(), stderr.getvalue()) == (b"", f"credctl-kubelet-provider: {line}\n")


def test_the_kubelet_plugin_names_a_bad_request():
    stdout, stderr = io.BytesIO(), io.StringIO()
    assert credctl.kubelet.run([], io.BytesIO(b"[" + SECRET.encode()), stdout, stderr, {}) == 1
    assert stderr.getvalue() == (
        "credctl-kubelet-provider: the request on stdin is not JSON"
        " (Expecting value at line 1 column 2; expected a CredentialProviderRequest)\n"
    )


# -- the CLI: `error: LINE` on stderr, or a usage error in click's shape ------------------------------


@pytest.mark.parametrize(
    ("error", "status", "stderr"),
    [
        (StoreError("the store failed: try again"), 1, "error: the store failed: try again\n"),
        (
            OSError(errno.EROFS, "Read-only file system", "/d/config.json"),
            1,
            "error: /d/config.json: Read-only file system: that file system is mounted read-only: remount it "
            "read-write or point credctl elsewhere\n",
        ),
        (UsageError("--x needs --y"), 2, "Error: --x needs --y\n"),  # raised outside a command: no usage line
    ],
    ids=repr,
)
def test_the_cli_prints_one_line(monkeypatch, capsys, error, status, stderr):
    def app():
        raise error

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(credctl.cli.app, "app", app)
    assert credctl.cli.app.run() == status
    assert capsys.readouterr() == ("", stderr)


def test_the_cli_keeps_the_traceback_of_a_bug(monkeypatch):
    def app():
        raise ZeroDivisionError(SECRET)

    monkeypatch.setattr(credctl.cli.app, "app", app)
    with pytest.raises(ZeroDivisionError):
        credctl.cli.app.run()


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("errors")
    (base / "credentials.ini").write_text("[default]\n")
    (base / "credentials.ini").chmod(0o600)
    return world.without_bus(base, NO_COLOR="1", DOCKER_CONFIG=str(base / "docker"))


@pytest.mark.parametrize(
    ("args", "command", "message"),
    [
        # click's own, for comparison: the shape every usage error has
        (["map", "a.example"], "map", "Missing argument 'HELPER'."),
        (["map", "--bogus", "a", "b"], "map", "No such option: --bogus"),
        # credctl's own (errors.UsageError)
        (
            ["map", "--", "a.example", "bad name"],
            "map",
            "'bad name' is not a helper name: give the suffix of a docker-credential-* program, e.g. pass",
        ),
        (["unmap", "--", "a b"], "unmap", "'a b' is not a registry name: it contains a space or a control character"),
        (["migrate", "--to", "bogus"], "migrate", "Invalid value for --to: choose one of pass, secretservice, keyring"),
        (
            ["setup", "--store", "bogus", "--yes"],
            "setup",
            "Invalid value for --store: choose one of pass, secretservice, keyring",
        ),
        (
            ["setup", "--map", "a.example", "--yes"],
            "setup",
            "Invalid value for --map: 'a.example' is not REGISTRY=HELPER: e.g. registry.example.com=pass",
        ),
        (
            ["pass", "init", "--generate", "--gpg-id", "x"],
            "pass init",
            "Invalid value for --generate: use either --gpg-id or --generate, not both",
        ),
        (["kubelet", "config", "--format", "toml"], "kubelet config", "--format must be yaml or json, not 'toml'"),
        (
            ["k8s", "pull-secret", "r.example", "--name", "A_"],
            "k8s pull-secret",
            "--name 'A_' is not a Kubernetes name (lower-case letters, digits, '-' and '.')",
        ),
        (
            ["acr", "add-profile", "team1", "--credentials-file", "{home}/credentials.ini", "--registry", "r.example"],
            "acr add-profile",
            "r.example is not an ACR domain: add --region (and --instance-id, or let credctl find it)",
        ),
    ],
)
def test_every_usage_error_has_clicks_shape(env, args, command, message):
    result = world.credctl(env, *(arg.format(home=env["HOME"]) for arg in args))
    assert world.usage_error(result, command) == message
    assert result.stderr.splitlines()[0] == world.credctl(env, *command.split(), "-h").stdout.splitlines()[0]
