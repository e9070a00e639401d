"""The admin CLI for people: `credctl COMMAND`.

The Typer app is in credctl/cli/app.py (one module per command, *_cmd.py). Building it costs
~150 ms, so `credctl list`, the command people and scripts run most, is answered without it
(credctl/cli/listing.py); every other command line goes to the app.
"""

import sys

QUICK = (["list"], ["list", "--json"])  # the command lines answered without the app


def run() -> int:
    """`credctl COMMAND`; returns the exit status (credctl.cli.app.run: what every error becomes)."""
    import os

    if sys.argv[1:] in QUICK and "_CREDCTL_COMPLETE" not in os.environ:
        from credctl.cli.listing import run_list

        return run_list(as_json=sys.argv[1:] == ["list", "--json"])
    from credctl.cli.app import run as run_app

    return run_app()
