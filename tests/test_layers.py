"""The package's layers, as docs/design.md draws them, read from the source (ast): which module
may import which. A function-level import counts as much as one at the top."""

import ast
from pathlib import Path

from world import ROOT

PACKAGE = ROOT / "credctl"  # the checkout's sources, whichever copy of credctl is installed
CLI = PACKAGE / "cli"
COMMANDS = frozenset(path.stem for path in CLI.glob("*_cmd.py"))
PEOPLE_LIBRARIES = ("typer", "rich", "click")  # the admin CLI's, never below it


def imports_of(path: Path) -> set[str]:
    """Every module a source file imports, and each imported name as module.name (from credctl.cli
    import x_cmd imports credctl.cli.x_cmd); relative imports resolved against path's package."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        package += ".__init__"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def offenders(paths, wrong) -> dict[str, list[str]]:
    """{file: the imports of it that wrong(name) refuses}, for the files that have any."""
    found = {str(path.relative_to(PACKAGE)): sorted(filter(wrong, imports_of(path))) for path in paths}
    return {path: names for path, names in found.items() if names}


def test_the_layers_are_there():
    assert {"map_cmd", "migrate_cmd", "setup_cmd", "verify_cmd"} <= COMMANDS
    assert (PACKAGE / "acr" / "login.py").is_file() and (CLI / "common.py").is_file()


def test_no_command_module_imports_another():
    def other_command(name: str) -> bool:
        return name.rsplit(".", 1)[-1] in COMMANDS

    modules = [CLI / f"{command}.py" for command in sorted(COMMANDS)] + [CLI / "common.py"]
    assert offenders(modules, other_command) == {}


def test_nothing_in_credctl_acr_imports_credctl_stores():
    assert offenders(sorted((PACKAGE / "acr").rglob("*.py")), lambda name: name.startswith("credctl.stores")) == {}


def test_only_the_store_table_names_the_acr_store_module():
    """The kubelet lookup and the library ask credctl.acr.login; the adapter is Docker's alone
    (credctl.stores names it by string, in its StoreSpec)."""
    assert offenders(sorted(PACKAGE.rglob("*.py")), lambda name: name.startswith("credctl.stores.acr")) == {}


def test_nothing_below_the_cli_imports_its_libraries():
    below = [path for path in sorted(PACKAGE.rglob("*.py")) if CLI not in path.parents]
    assert offenders(below, lambda name: name.split(".")[0] in PEOPLE_LIBRARIES) == {}


def drawn_layers() -> list[list[str]]:
    """docs/design.md's layer map, top first: each line's files (x.py) and folders (x/)."""
    text = (ROOT / "docs" / "design.md").read_text()
    block = text.split("## Layers", 1)[1].split("```\n", 2)[1]
    return [[word for word in line.split() if word.endswith((".py", "/"))] for line in block.splitlines()]


def layer_of(module: str, layers: list[list[str]]) -> int:
    """The index (0 = top) of the map's line that holds a credctl module; the package itself is
    a foundation (credctl.__version__)."""
    parts = module.split(".")[1:]
    candidates = [f"{parts[0]}/", f"{parts[0]}.py"] if parts else []
    for index, line in enumerate(layers):
        if any(candidate in line for candidate in candidates):
            return index
    return len(layers) - 1 if not parts else -1


def test_every_module_is_on_the_map():
    layers = drawn_layers()
    modules = {
        path.relative_to(PACKAGE).parts[0] for path in PACKAGE.glob("*") if path.suffix == ".py" or path.is_dir()
    }
    drawn = {word.rstrip("/") for line in layers for word in line}
    assert sorted(modules - {"__init__.py", "__pycache__"} - drawn) == []


def test_imports_run_downwards_only():
    """A module imports only modules on its own line of the map or below it (a lazy import counts)."""
    layers = drawn_layers()
    upward = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        own = layer_of(".".join(("credctl", *path.relative_to(PACKAGE).with_suffix("").parts)), layers)
        for name in imports_of(path):
            if name.startswith("credctl.") or name == "credctl":
                target = layer_of(name, layers)
                if 0 <= target < own:
                    upward.setdefault(str(path.relative_to(PACKAGE)), []).append(name)
    assert upward == {}
