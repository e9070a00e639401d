"""`credctl route add|remove|default|list|test`, the installed console script in a throwaway home:
each command's exact output, the settings.json it leaves (bytes), the patterns it refuses.

The rules themselves (precedence, globs, Docker Hub's keys) are credctl.routes's; these tests hold
the commands to them as a person sees them. Glob cases are the kubelet's own matchImages cases
(kubernetes/kubernetes pkg/credentialprovider/keyring_test.go TestURLsMatch, the host-only rows;
tests/test_kubelet_rules.py has the whole table).
"""

import json
import os
from pathlib import Path

import pytest
import world
from test_kubelet_rules import URLS_MATCH
from world import cli_env, credctl, usage_error

NOT_ROUTED = (
    "Docker does not ask the router yet (credsStore is not credctl): `credctl setup --router` puts it in front\n"
)
NO_DEFAULT = "no default route: a host no rule matches gets no login (`credctl route default HELPER` sets one)\n"
NO_ROUTE = (
    "no route serves it: Docker gets no login for it "
    "(`credctl route add PATTERN HELPER` or `credctl route default HELPER`)"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A person's shell whose Docker config (~/.docker/config.json) names the router."""
    env = cli_env(tmp_path)
    docker = Path(env["HOME"]) / ".docker"
    docker.mkdir()
    (docker / "config.json").write_text('{\n\t"credsStore": "credctl"\n}')
    return env


def settings_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "credctl" / "settings.json"


def route(env: dict[str, str], *args: str):
    return credctl(env, "route", *args)


def ok(result, stdout: str, stderr: str = "") -> None:
    assert (result.returncode, result.stdout, result.stderr) == (0, stdout, stderr)


# --- add, default, list, remove ----------------------------------------------------------------


def test_routes_are_added_listed_in_precedence_order_and_removed(env):
    ok(route(env, "add", "*.Example.com", "pass"), "✓ route *.example.com → pass\n")
    ok(route(env, "add", "reg.example.com", "secretservice"), "✓ route reg.example.com → secretservice\n")
    ok(route(env, "add", "reg.example.com:5000", "keyring"), "✓ route reg.example.com:5000 → keyring\n")
    ok(
        route(env, "add", "*-registry*.*.cr.aliyuncs.com", "acr-helper"),
        "✓ route *-registry*.*.cr.aliyuncs.com → acr\n",
    )
    ok(route(env, "add", "https://index.docker.io/v1/", "pass"), "✓ route docker.io → pass\n")
    ok(route(env, "add", "docker.io", "pass"), "route docker.io → pass (already so)\n")
    ok(route(env, "add", "registry-1.docker.io", "keyring"), "✓ route docker.io → keyring (was pass)\n")
    ok(route(env, "default", "pass"), "✓ default route → pass\n")
    ok(route(env, "default", "secretservice"), "✓ default route → secretservice (was pass)\n")

    assert settings_file(env).read_bytes() == (
        b"{\n"
        b'  "route_default": "secretservice",\n'
        b'  "routes": {\n'
        b'    "*.example.com": "pass",\n'
        b'    "reg.example.com": "secretservice",\n'
        b'    "reg.example.com:5000": "keyring",\n'
        b'    "*-registry*.*.cr.aliyuncs.com": "acr",\n'
        b'    "docker.io": "keyring"\n'
        b"  }\n"
        b"}\n"
    )
    assert os.stat(settings_file(env)).st_mode & 0o777 == 0o600

    ok(
        route(env, "list"),
        "Routes, in precedence order\n"
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓\n"
        "┃ pattern                       ┃ helper        ┃ kind      ┃\n"
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩\n"
        "│ reg.example.com:5000          │ keyring       │ host:port │\n"
        "│ docker.io                     │ keyring       │ host      │\n"
        "│ reg.example.com               │ secretservice │ host      │\n"
        "│ *-registry*.*.cr.aliyuncs.com │ acr           │ glob      │\n"
        "│ *.example.com                 │ pass          │ glob      │\n"
        "│ ACR domains                   │ acr           │ built in  │\n"
        "│ *                             │ secretservice │ default   │\n"
        "└───────────────────────────────┴───────────────┴───────────┘\n",
    )
    listed = route(env, "list", "--json")
    ok(listed, listed.stdout)
    assert json.loads(listed.stdout) == [
        {"pattern": "reg.example.com:5000", "helper": "keyring"},
        {"pattern": "docker.io", "helper": "keyring"},
        {"pattern": "reg.example.com", "helper": "secretservice"},
        {"pattern": "*-registry*.*.cr.aliyuncs.com", "helper": "acr"},
        {"pattern": "*.example.com", "helper": "pass"},
        {"pattern": "*", "helper": "secretservice"},
    ]
    assert listed.stdout == json.dumps(json.loads(listed.stdout), indent=2) + "\n"

    ok(route(env, "remove", "REG.example.com:5000"), "✓ removed route reg.example.com:5000\n")
    ok(route(env, "remove", "reg.example.com:5000"), "no route for reg.example.com:5000: nothing removed\n")
    ok(route(env, "remove", "index.docker.io"), "✓ removed route docker.io\n")
    ok(route(env, "remove", "*"), "removed the default route\n")
    ok(route(env, "remove", "*"), "no default route to remove\n")
    assert json.loads(route(env, "list", "--json").stdout) == [
        {"pattern": "reg.example.com", "helper": "secretservice"},
        {"pattern": "*-registry*.*.cr.aliyuncs.com", "helper": "acr"},
        {"pattern": "*.example.com", "helper": "pass"},
    ]
    for pattern in ("reg.example.com", "*-registry*.*.cr.aliyuncs.com", "*.example.com"):
        assert route(env, "remove", pattern).returncode == 0
    assert settings_file(env).read_bytes() == b"{}\n"


def test_list_with_no_routes_shows_the_built_in_rule_and_no_default(env):
    ok(
        route(env, "list"),
        "Routes, in precedence order\n"
        "┏━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━┓\n"
        "┃ pattern     ┃ helper ┃ kind     ┃\n"
        "┡━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━┩\n"
        "│ ACR domains │ acr    │ built in │\n"
        "└─────────────┴────────┴──────────┘\n" + NO_DEFAULT,
    )
    ok(route(env, "list", "--json"), "[]\n")
    assert not settings_file(env).exists()  # reading writes nothing


def test_the_default_alone_is_the_json_lists_one_row(env):
    ok(route(env, "default", "pass"), "✓ default route → pass\n")
    ok(route(env, "list", "--json"), '[\n  {\n    "pattern": "*",\n    "helper": "pass"\n  }\n]\n')


def test_commands_say_when_docker_does_not_ask_the_router(tmp_path):
    env = cli_env(tmp_path)  # no config.json at all: docker asks no router
    ok(route(env, "add", "reg.example.com", "pass"), "✓ route reg.example.com → pass\n" + NOT_ROUTED)
    ok(route(env, "default", "pass"), "✓ default route → pass\n" + NOT_ROUTED)
    ok(
        route(env, "test", "reg.example.com"),
        "reg.example.com → pass (docker-credential-pass, in-process): the rule for host reg.example.com (any port)\n"
        + NOT_ROUTED,
    )


# --- helpers: credctl's own, on PATH, or neither (a warning) -------------------------------------


def test_a_helper_not_on_path_is_added_with_a_warning(env):
    result = route(env, "add", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr-login")
    assert result.returncode == 0
    assert result.stdout == "✓ route 123456789012.dkr.ecr.eu-west-1.amazonaws.com → ecr-login\n"
    assert result.stderr == (
        "warning: docker-credential-ecr-login is not on PATH (this process's PATH, which a "
        "Docker started from here inherits): install it, or change the config to a helper you have\n"
    )
    assert json.loads(settings_file(env).read_text())["routes"] == {
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"
    }


def test_a_helper_on_path_and_credctls_own_add_without_a_word(env, tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "docker-credential-mine"
    program.write_text("#!/bin/sh\nexit 1\n")
    program.chmod(0o755)
    env = world.on_path(env, folder)
    ok(route(env, "add", "*.dkr.ecr.*.amazonaws.com", "mine"), "✓ route *.dkr.ecr.*.amazonaws.com → mine\n")
    for helper, stored in (("pass", "pass"), ("secretservice", "secretservice"), ("keyring", "keyring")):
        ok(route(env, "add", f"{helper}.example", helper), f"✓ route {helper}.example → {stored}\n")
    ok(route(env, "add", "acr.example", "acr-helper"), "✓ route acr.example → acr\n")
    ok(route(env, "default", "pass"), "✓ default route → pass\n")


@pytest.mark.parametrize(
    ("helper", "message"),
    [
        ("credctl", "a route to credctl would send the router to itself: give the store or helper that should answer"),
        (
            "./evil.sh",
            "'./evil.sh' is not a helper name: give a credctl store (pass, secretservice, keyring, acr) or another "
            "helper's suffix (ecr-login for docker-credential-ecr-login)",
        ),
        (
            "",
            "'' is not a helper name: give a credctl store (pass, secretservice, keyring, acr) or another "
            "helper's suffix (ecr-login for docker-credential-ecr-login)",
        ),
    ],
)
def test_a_helper_no_route_can_name_is_refused(env, helper, message):
    assert usage_error(route(env, "add", "reg.example.com", helper), "route add") == message
    assert usage_error(route(env, "default", helper), "route default") == message
    assert not settings_file(env).exists()


# --- patterns: validated, one line, exit 2, nothing stored ---------------------------------------

HINT = "give a host, host:port or a glob such as *.example.com"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", f"the pattern is empty: {HINT}"),
        ("*", "`*` alone is the default route: set it with `credctl route default HELPER`"),
        (
            "reg.example.com/team",
            "'reg.example.com/team' names a repository, but routes serve whole registries: give reg.example.com",
        ),
        # the kubelet's TestURLsMatch rows with a path: a kubelet pattern may have one, a route cannot
        (
            "*.kubernetes.io/blah",
            "'*.kubernetes.io/blah' names a repository, but routes serve whole registries: give *.kubernetes.io",
        ),
        (
            "prefix.*.io:1111/foo",
            "'prefix.*.io:1111/foo' names a repository, but routes serve whole registries: give prefix.*.io:1111",
        ),
        (
            "ftp://reg.example.com",
            "'ftp://reg.example.com' is not a pattern: only an http:// or https:// URL can name a registry",
        ),
        ("reg example.com", "'reg example.com' is not a pattern: it contains a space or a control character"),
        ("reg.example.com:99999", "'reg.example.com:99999' is not a pattern: the port must be a number up to 65535"),
        ("reg.example.com:http", "'reg.example.com:http' is not a pattern: the port must be a number up to 65535"),
        ("reg..example.com", f"'reg..example.com' is not a pattern: a host name has no empty parts ({HINT})"),
        (
            "reg[0-9].example.com",
            "'reg[0-9].example.com' is not a pattern: a host name holds letters, digits, '-' and '_'; "
            "`*` (within one part) is the only wildcard",
        ),
        (
            "reg?.example.com",
            "'reg?.example.com' is not a pattern: a host name holds letters, digits, '-' and '_'; "
            "`*` (within one part) is the only wildcard",
        ),
    ],
)
def test_a_pattern_that_is_no_route_is_one_usage_line(env, pattern, message):
    assert usage_error(route(env, "add", pattern, "pass"), "route add") == message
    if pattern != "*":  # `remove *` is the default route's
        assert usage_error(route(env, "remove", pattern), "route remove") == message
    assert not settings_file(env).exists()


@pytest.mark.parametrize(
    ("pattern", "stored"),
    [
        # the kubelet's TestURLsMatch globs without a path, as the kubelet takes them
        ("*.kubernetes.io", "*.kubernetes.io"),
        ("prefix.*.io", "prefix.*.io"),
        ("prefix.kubernetes.*", "prefix.kubernetes.*"),
        ("*-good.kubernetes.io", "*-good.kubernetes.io"),
        ("*.*.kubernetes.io", "*.*.kubernetes.io"),
        ("*kubernetes.io", "*kubernetes.io"),
        ("*.docker.io:1111", "*.docker.io:1111"),
        # the ACR globs, URLs with an API path, Docker Hub by its keys, an IP address
        ("*.cr.aliyuncs.com", "*.cr.aliyuncs.com"),
        ("*-registry*.*.cr.aliyuncs.com", "*-registry*.*.cr.aliyuncs.com"),
        ("https://Reg.Example.com/v2/", "reg.example.com"),
        ("http://localhost:5000", "localhost:5000"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_patterns_are_stored_as_routes_match_them(env, pattern, stored):
    ok(route(env, "add", pattern, "pass"), f"✓ route {stored} → pass\n")
    assert json.loads(settings_file(env).read_text()) == {"routes": {stored: "pass"}}


# --- test HOST ------------------------------------------------------------------------------------


# TestURLsMatch's glob rows without a path (tests/test_kubelet_rules.py holds them as data), and
# two of its port rows with their paths dropped: a route pattern names a whole registry.
GLOB_CASES = [
    *((glob, host, matches) for glob, host, matches in URLS_MATCH if "*" in glob and "/" not in glob + host),
    ("*.kubernetes.io:1111", "prefix.kubernetes.io:1111", True),
    ("*.kubernetes.io:1234", "prefix.kubernetes.io:1111", False),
]


@pytest.mark.parametrize(("glob", "host", "matches"), GLOB_CASES)
def test_test_says_which_route_serves_a_host_and_why(env, glob, host, matches):
    assert route(env, "add", glob, "pass").returncode == 0
    result = route(env, "test", host)
    if matches:
        ok(result, f"{host} → pass (docker-credential-pass, in-process): the glob rule {glob}\n")
    else:
        assert (result.returncode, result.stdout, result.stderr) == (1, f"{host}: {NO_ROUTE}\n", "")
    assert route(env, "default", "secretservice").returncode == 0
    if not matches:
        ok(
            route(env, "test", host),
            f"{host} → secretservice (docker-credential-secretservice, in-process): "
            "the default route: no rule matches\n",
        )


def test_test_goes_by_precedence_and_names_each_kind(env, tmp_path):
    for pattern, helper in (
        ("reg.example.com:5000", "keyring"),
        ("reg.example.com", "secretservice"),
        ("*.example.com", "pass"),
        ("*.*.example.com", "acr-helper-team1"),
    ):
        assert route(env, "add", pattern, helper).returncode == 0
    assert route(env, "default", "pass").returncode == 0
    answers = {
        "reg.example.com:5000": "reg.example.com:5000 → keyring (docker-credential-keyring, in-process): "
        "the rule for exactly reg.example.com:5000",
        "https://reg.example.com:5001/v2/": "reg.example.com:5001 → secretservice (docker-credential-secretservice, "
        "in-process): the rule for host reg.example.com (any port)",
        "other.example.com": "other.example.com → pass (docker-credential-pass, in-process): "
        "the glob rule *.example.com",
        "a.b.example.com": "a.b.example.com → acr-helper-team1 (docker-credential-acr-helper-team1, "
        "run by the router): the glob rule *.*.example.com",
        "registry.cn-hangzhou.aliyuncs.com": "registry.cn-hangzhou.aliyuncs.com → acr (docker-credential-acr-helper, "
        "in-process): an Alibaba Cloud Container Registry domain: ACR serves it unless a rule says otherwise",
        "https://index.docker.io/v1/": "docker.io → pass (docker-credential-pass, in-process): the default route: "
        "no rule matches",
    }
    for host, answer in answers.items():
        result = route(env, "test", host)
        assert (result.returncode, result.stdout) == (0, answer + "\n"), host
    # a profile credctl has no record of is another program, and that one is not on PATH
    assert "docker-credential-acr-helper-team1 is not on PATH" in route(env, "test", "a.b.example.com").stderr


def test_test_says_when_a_credhelpers_entry_wins_over_the_router(env):
    config = Path(env["HOME"]) / ".docker" / "config.json"
    config.write_text('{"credsStore": "credctl", "credHelpers": {"reg.example.com": "secretservice"}}')
    assert route(env, "default", "pass").returncode == 0
    ok(
        route(env, "test", "reg.example.com"),
        "reg.example.com → pass (docker-credential-pass, in-process): the default route: no rule matches\n"
        "but Docker asks docker-credential-secretservice for it: its credHelpers entry reg.example.com wins over "
        "the router\n",
    )


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("", "the registry name is empty: give a host or host:port, e.g. registry.example.com or localhost:5000"),
        (
            "reg.example.com/team",
            "'reg.example.com/team' names a repository, but credHelpers map whole registries: give reg.example.com",
        ),
    ],
)
def test_test_refuses_what_names_no_registry(env, host, message):
    assert usage_error(route(env, "test", host), "route test") == message


def test_a_hand_written_rule_no_command_would_take_can_still_be_removed(env):
    """settings.json edited by hand with a key `route add` refuses (a repository path): the
    router never matches it, and `route remove` takes it exactly as written."""
    path = settings_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"routes": {"reg.example.com/team": "pass", "reg.example.com": "keyring"}}\n')

    ok(route(env, "remove", "reg.example.com/team"), "✓ removed route reg.example.com/team\n")

    assert json.loads(path.read_text()) == {"routes": {"reg.example.com": "keyring"}}
