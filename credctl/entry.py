"""Console-script entry points.

Each docker-credential-* program goes straight to the protocol (standard library only);
the Typer CLI is imported only when `credctl` itself runs a command for a person.
"""

import sys


def _helper(store: str) -> int:
    from credctl.protocol import serve

    return serve(store, sys.argv[1:])


def pass_main() -> int:
    return _helper("pass")


def secretservice_main() -> int:
    return _helper("secretservice")


def keyring_main() -> int:
    return _helper("keyring")


def acr_main() -> int:
    return _helper("acr")


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["helper"]:
        # `credctl helper STORE ACTION`: the same protocol, hidden from --help, kept fast.
        from credctl.errors import CredctlError
        from credctl.protocol import serve

        if len(args) < 2:
            sys.stderr.write("Usage: credctl helper STORE <store|get|erase|list|version>\n")
            return 2
        try:
            return serve(args[1], args[2:])
        except CredctlError as err:
            sys.stderr.write(f"credctl helper: {err}\n")
            return 2
    from credctl.cli import run

    return run()
