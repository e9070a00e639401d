"""Every store in credctl.stores.STORES is whole: a console script that serves it, a docs page,
its line in the generated docs and a test world. A store added to STORES alone fails here,
naming what it still lacks.
"""

import importlib
import tomllib

import pytest
import world

from credctl import __version__
from credctl.errors import UnknownStore
from credctl.stores import LOGIN_STORES, STORES, StoreSpec

SCRIPTS = tomllib.loads((world.ROOT / "pyproject.toml").read_text())["project"]["scripts"]
NAMES = tuple(STORES)


@pytest.mark.parametrize("name", NAMES)
def test_its_console_script_is_declared_and_serves_it(name):
    spec = STORES[name]
    target = SCRIPTS.get(spec.program)
    assert target is not None, f"pyproject.toml [project.scripts] has no {spec.program}"
    module, _, function = target.partition(":")
    assert module == "credctl.entry", target
    assert callable(getattr(importlib.import_module(module), function, None)), f"{target} does not exist"
    # The installed program serves this store: its version line names the store's own program.
    result = world.run_helper(world.installed(spec.program), "version")
    expected = f"{spec.program} (credctl) {__version__}\n".encode()
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")


@pytest.mark.parametrize("name", NAMES)
def test_its_docs_page_exists(name):
    spec = STORES[name]
    assert spec.docs == f"docs/stores/{name}.md"
    assert (world.ROOT / spec.docs).is_file(), f"{spec.docs} is missing"


@pytest.mark.parametrize("name", NAMES)
def test_its_summary_is_in_the_generated_docs(name):
    spec = STORES[name]
    row = f"| `{spec.program}` | `{name}` | {spec.summary} | [stores/{name}.md](stores/{name}.md) |"
    assert row in world.CLI_MD.read_text().splitlines(), f"docs/cli.md has no row for {name}: run scripts/gen_docs.py"
    assert f"Store \\fB{name}\\fR: " in world.MAN_PAGE.read_text(), f"man/credctl.1 has no line for {name}"


@pytest.mark.parametrize("name", NAMES)
def test_it_has_a_test_world(name):
    assert name in world.STORE_WORLDS, f"tests/world.py has no world for {name}: add one to STORE_WORLDS"


def test_the_test_worlds_are_the_stores():
    assert set(world.STORE_WORLDS) == set(STORES)


def test_a_store_world_of_an_unknown_store_is_refused(request):
    with pytest.raises(UnknownStore) as caught:
        world.store_world("nosuch", request)
    assert str(caught.value) == "unknown store 'nosuch': choose one of pass, secretservice, keyring, acr, credctl"


def test_a_store_without_a_world_is_named(request, monkeypatch):
    spec = StoreSpec("vault", "credctl.stores.vault", "VaultStore", "vault", login=True, summary="a vault")
    monkeypatch.setitem(STORES, "vault", spec)
    with pytest.raises(LookupError) as caught:
        world.store_world("vault", request)
    assert str(caught.value) == "tests/world.py has no world for the store 'vault': add one to STORE_WORLDS"


def test_the_login_stores_are_the_specs_that_keep_logins():
    assert LOGIN_STORES == ("pass", "secretservice", "keyring")
    assert [name for name, spec in STORES.items() if spec.tokens] == ["acr"]
    assert [name for name, spec in STORES.items() if spec.router] == ["credctl"]
