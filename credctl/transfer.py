"""One login copied into a store, verified, never over another: the rule `credctl migrate
--from` and `credctl restore` share.

copy_into stores a login only where the target holds no login for the registry (under any of
its keys: names.login_keys), or holds this very one; another login the target holds is kept
unless overwrite. What it stores it reads back and compares: only a login the target gives back
exactly counts as there (Item.there), and only such a login may leave its source.

Nothing here prints; commands show each Item's outcome.
"""

from __future__ import annotations

from credctl.errors import CredctlError, CredentialsNotFound
from credctl.names import login_keys
from credctl.stores.base import Store

# Item.outcome, besides PLANNED and "failed: why". COPIED and SAME are there: the target gives
# this login back.
PLANNED = "planned"
COPIED = "copied"  # stored into the target and read back equal
SAME = "already there"  # the target held this very login: nothing stored
KEPT = "kept target's"  # the target holds another login for the registry: left as it is
REMOVED = "moved"  # there, then erased from the source (--remove-source)


class Item:
    """One login on its way: the key it is stored under, username and secret (never shown),
    source and target (helper or store names, for people), outcome, and held_by (with KEPT: the
    username of the target's login)."""

    __slots__ = ("held_by", "key", "outcome", "secret", "source", "target", "username")

    def __init__(self, key: str, username: str, secret: str, source: str = "", target: str = "") -> None:
        self.key, self.username, self.secret = key, username, secret
        self.source, self.target = source, target
        self.outcome, self.held_by = PLANNED, ""

    @property
    def failed(self) -> bool:
        return self.outcome.startswith("failed")

    def as_json(self) -> dict[str, str]:
        """The item as --json gives it; never the secret."""
        return {
            "server": self.key,
            "username": self.username,
            "from": self.source,
            "to": self.target,
            "result": self.outcome,
            "held_by": self.held_by,
        }

    def __repr__(self) -> str:
        return f"Item({self.key!r}, {self.username!r}, '***', {self.outcome!r})"

    @property
    def there(self) -> bool:
        """Whether the target gives this login back (stored and verified, or held already)."""
        return self.outcome in (COPIED, SAME, REMOVED)

    def fail(self, err: Exception | str) -> None:
        self.outcome = f"failed: {err}"


def held(target: Store, key: str) -> tuple[str, str] | None:
    """The login target answers for key under any of its keys, None for none. An empty answer
    is none (Debian's Go docker-credential-pass answers a missing key with empty strings)."""
    for name in login_keys(key):
        try:
            found = target.get(name)
        except CredentialsNotFound:
            continue
        if found[0] or found[1]:
            return found
    return None


def copy_into(target: Store, item: Item, overwrite: bool = False) -> None:
    """item into target by the module's rule; item.outcome says what happened. A store that
    fails makes a failed outcome, never an exception."""
    try:
        found = held(target, item.key)
        if found == (item.username, item.secret):
            item.outcome = SAME
            return
        if found is not None and not overwrite:
            item.outcome, item.held_by = KEPT, found[0]
            return
        target.add(item.key, item.username, item.secret)
        back = target.get(item.key)
    except CredctlError as err:
        item.fail(err)
        return
    if back == (item.username, item.secret):
        item.outcome = COPIED
    else:
        item.fail("the store gave back another login than it was given; the source keeps it")


def remove_from(source: Store, target: Store, item: Item) -> None:
    """item out of source, once the target has it (item.there), and only where the target still
    gives it back afterwards: source and target may be one store under two names (the router's
    route back to the source), and then the erase took the only copy, which is put back and the
    item fails. A failure is item's outcome."""
    if not item.there:
        return
    try:
        source.delete(item.key)
    except CredctlError as err:
        item.fail(f"copied, but not removed from the source: {err}")
        return
    try:
        kept = held(target, item.key) == (item.username, item.secret)
        if not kept:
            source.add(item.key, item.username, item.secret)
    except CredctlError as err:
        item.fail(f"removed from the source, and the target no longer gives it back: {err}")
        return
    if kept:
        item.outcome = REMOVED
    else:
        item.fail("the source and the target are one store: left in it")
