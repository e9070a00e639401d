"""A helper, by the name credHelpers or a route gives it, as a Store credctl can ask.

The router (credctl.router) answers each registry through the helper its route names:

- credctl's login stores (pass, secretservice, keyring), by store name or by suffix: in-process;
- credctl's ACR helper (`acr`, `acr-helper`) and its profiles (`acr-helper-NAME`, recorded by
  `credctl acr add-profile`): in-process, with the profile's Alibaba Cloud identity;
- any other suffix (`ecr-login`, `gcloud`, a profile credctl has no record of): the program
  docker-credential-<suffix>, run as Docker runs it (credctl.client), with a bound on its answer.

Standard library only until a program has to run (then credctl.client).
"""

from __future__ import annotations

from credctl.names import PREFIX, helper_program
from credctl.posixfs import ENVIRON, is_process_environ
from credctl.stores import ACR_STORE, LOGIN_STORES, ROUTERS, STORES, canonical, open_store, suffix_of
from credctl.stores.base import Health, Store


def is_own(helper: str, environ=ENVIRON) -> bool:
    """Whether credctl answers for helper itself (a store, the router, ACR or an ACR profile
    environ records)."""
    name = canonical(helper)
    return name in LOGIN_STORES or name in ROUTERS or acr_environ(name, environ) is not None


def store_for(helper: str, environ=ENVIRON, timeout: float | None = None) -> Store:
    """The Store that answers for helper, working in environ; timeout bounds another program's
    answer (seconds; None: no bound)."""
    name = canonical(helper)
    if name in LOGIN_STORES or name in ROUTERS:
        return open_store(name, environ)
    found = acr_environ(name, environ)
    if found is not None:
        return open_store(ACR_STORE, found)
    return ProgramStore(name, environ, timeout)


def acr_environ(helper: str, environ=ENVIRON) -> dict[str, str] | None:
    """The environment credctl's ACR login runs with for helper (acr, acr-helper, or a recorded
    profile acr-helper-NAME), else None."""
    name = canonical(helper)
    if name != ACR_STORE and not name.startswith(STORES[ACR_STORE].suffix + "-"):
        return None  # not ACR's: credctl.acr is not even imported
    from credctl.acr.login import helper_environ

    return helper_environ(suffix_of(name), environ)


class ProgramStore(Store):
    """docker-credential-<suffix>, run for each action as Docker runs it; an answer that takes
    longer than timeout seconds stops it (credctl.errors.HelperFailed, exit status 124)."""

    def __init__(self, suffix: str, environ=ENVIRON, timeout: float | None = None) -> None:
        self.program, self.timeout = helper_program(suffix), timeout
        self.environ = None if is_process_environ(environ) else dict(environ)

    def add(self, server_url: str, username: str, secret: str) -> None:
        from credctl import client

        client.store(self.program, client.Credentials(server_url, username, secret), self.environ, self.timeout)

    def get(self, server_url: str) -> tuple[str, str]:
        from credctl import client

        found = client.get(self.program, server_url, self.environ, self.timeout)
        return found.username, found.secret

    def delete(self, server_url: str) -> None:
        from credctl import client

        client.erase(self.program, server_url, self.environ, self.timeout)

    def list(self) -> dict[str, str]:
        from credctl import client

        return client.list_credentials(self.program, self.environ, self.timeout)

    @staticmethod
    def refused(err: Exception) -> bool:
        """Whether err is the program's own refusal (it ran and answered with an error), not a
        program missing, one that cannot run, or one stopped for taking too long."""
        from credctl.client import CANNOT_RUN_STATUS, NOT_FOUND_STATUS, TIMEOUT_STATUS
        from credctl.errors import HelperFailed

        return isinstance(err, HelperFailed) and err.status not in (NOT_FOUND_STATUS, CANNOT_RUN_STATUS, TIMEOUT_STATUS)

    def health(self) -> Health:
        from credctl.programs import find_helper

        problem = find_helper(self.program[len(PREFIX) :]).problem
        return Health(problem is None, problem or f"{self.program} is on PATH")
