"""The CLI's layout: a command module (credctl/cli/*_cmd.py) never imports another one; what two
commands share lives in credctl.cli.common."""

import ast
from pathlib import Path

import credctl.cli

CLI = Path(credctl.cli.__file__).parent
COMMANDS = sorted(path.stem for path in CLI.glob("*_cmd.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module path imports, at any depth (a function-level import counts too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # from credctl.cli import x_cmd
    return names


def test_there_are_command_modules():
    assert {"map_cmd", "migrate_cmd", "setup_cmd", "verify_cmd"} <= set(COMMANDS)


def test_no_command_module_imports_another():
    offenders = {
        command: sorted(
            name for name in imported_modules(CLI / f"{command}.py") if name.rsplit(".", 1)[-1] in set(COMMANDS)
        )
        for command in COMMANDS
    }
    assert {command: names for command, names in offenders.items() if names} == {}


def test_common_imports_no_command_module():
    names = imported_modules(CLI / "common.py")
    assert not {name for name in names if name.rsplit(".", 1)[-1] in set(COMMANDS)}
