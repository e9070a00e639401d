"""password-store (`pass`), sharing its files with Go's docker-credential-pass.

Layout, the same as the Go helper's in every version:
    $PASSWORD_STORE_DIR/docker-credential-helpers/<base64url(ServerURL), padded>/<Username>.gpg
with the Secret as the plaintext (no newline).

Writes go through `pass` itself, so per-folder .gpg-id files, git and signing keep working.
`get` decrypts with gpg directly, as `pass show` does: it is Docker's hot path and the bash
script costs more than the decryption. `list` only reads directory names, never decrypts.
Differences from Go (see docs/stores/pass.md): a `/` in a username is refused, `store` removes
the server's other usernames, and `list` skips folders it cannot decode instead of failing.
"""

from __future__ import annotations

import binascii
import os
import time

from credctl.errors import CredentialsNotFound, MissingServerURL, StoreError, StoreUnavailable, Stuck, UnsafePath
from credctl.paths import cache_dir, locked, read_file, write_atomically
from credctl.process import lock_timeout, prompt_timeout
from credctl.spawn import Finished, Running, on_path, start
from credctl.stores.base import Health, Store
from credctl.stores.passread import (
    FOLDER,
    MAX_NAME,
    first_entry,
    folder_name,
    gpg_files,
    gpg_program,
    pass_gpg_options,
    server_folder,
    start_decrypting,
    started,
    store_dir,
)

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Mapping

# Where `store` writes a new entry before renaming it into FOLDER: outside it, so neither Go's
# helper (whose list fails on a folder name that is not base64) nor our get and list ever see it.
TEMPORARY = ".credctl-tmp"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
INIT_HINT = "run `credctl pass init`"
# A new key made where nothing can ask for a passphrase (nor a name): everything given.
GENERATE_HINT = "credctl pass init --generate --no-passphrase --name NAME --email EMAIL"


def server_of(folder: str) -> str | None:
    """Decode a folder name strictly (padding required, URL-safe alphabet only), else None."""
    if not folder.isascii() or "+" in folder or "/" in folder:
        return None
    try:
        raw = binascii.a2b_base64(folder.encode("ascii").translate(_FROM_URLSAFE), strict_mode=True)
    except binascii.Error:
        return None
    return raw.decode("utf-8", "surrogateescape") if raw else None


class _ListCache:
    """Remembers each server folder's server URL and username, so `list` stats folders instead
    of reading them, and reads the store's folder list only when that folder changed.

    Reading 1,000 folders costs five system calls each, a stat one. An entry is trusted only
    while the folder's inode and ctime are unchanged (every change to a folder, and every utime
    on it, moves its ctime) and only once that ctime is older than the cache by a margin wider
    than any file-system clock tick, as git does for its index ("racy" entries are re-read).
    The same rule on docker-credential-helpers itself (its ctime moves when a server folder is
    added, removed or renamed) stands in for listing it, when the cache names every entry there.
    """

    _MAGIC = "credctl-pass-list-2"
    _RACY_NS = 2_000_000_000
    _UNKNOWN = "-"  # the folder list's stamp when the cache does not name every entry

    def __init__(self, root: str, environ: Mapping[str, str]) -> None:
        self.root, self.changed, self.complete = root, False, True
        self.path = os.path.join(cache_dir(environ), f"pass-list-{binascii.crc32(os.fsencode(root)):08x}")
        self.written, self.now = 0, time.time_ns()
        self.folders_stamp = self.cached_folders_stamp = self._UNKNOWN
        self.entries: dict[str, tuple[str, str, str]] = {}  # folder: (stamp, username, server URL)
        self.seen: dict[str, tuple[str, str, str]] = {}
        self.usable = True
        try:
            data = read_file(self.path, private=True)
            lines = data.decode("utf-8", "surrogateescape").removesuffix("\n").split("\n") if data else [""]
            header = lines[0].split("\t")
            if header[:2] == [self._MAGIC, self.root] and len(header) == 4:
                self.written, self.cached_folders_stamp = int(header[2]), header[3]
                for line in lines[1:]:
                    folder, stamp, username, server_url = line.split("\t")
                    self.entries[folder] = (stamp, username, server_url)
        except (OSError, ValueError):
            self.entries, self.cached_folders_stamp = {}, self._UNKNOWN
        except UnsafePath:
            # Another user controls the cache (a planted folder or file): neither read nor
            # written, `list` reads every folder instead.
            self.entries, self.usable, self.cached_folders_stamp = {}, False, self._UNKNOWN

    def listing(self, base: str) -> dict[str, str]:
        """server URL: username of every server folder in base (the store's FOLDER)."""
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return self._listing(base, fd)
        finally:
            os.close(fd)

    def _listing(self, base: str, fd: int) -> dict[str, str]:
        folders = os.fstat(fd)
        trusted_before = self.written - self._RACY_NS
        self.folders_stamp = f"{folders.st_ino}:{folders.st_ctime_ns}"
        if self.folders_stamp == self.cached_folders_stamp and folders.st_ctime_ns < trusted_before:
            names = list(self.entries)
        else:
            names = os.listdir(fd)
            self.changed = self.changed or folders.st_ctime_ns < self.now - self._RACY_NS
        found: dict[str, str] = {}
        for name in names:  # kept tight: it runs once per stored server
            try:
                status = os.stat(name, dir_fd=fd)
            except OSError:
                self.changed = True
                continue
            stamp = f"{status.st_ino}:{status.st_ctime_ns}"
            cached = self.entries.get(name)
            if cached is not None and cached[0] == stamp and status.st_ctime_ns < trusted_before:
                entry = cached
            else:
                entry = (stamp, *self._read(base, name, status.st_mode))
                # Rewrite when the entry changed, or when a rewrite now would let it be trusted.
                settled = status.st_ctime_ns < self.now - self._RACY_NS
                self.changed = self.changed or cached != entry or settled
            if entry[1] and entry[2]:
                found[entry[2]] = entry[1]
            if "\t" in name or "\n" in name or "\t" in entry[1] + entry[2] or "\n" in entry[1] + entry[2]:
                self.complete = False  # not a line of the cache: read again every time
            else:
                self.seen[name] = entry
        return found

    @staticmethod
    def _read(base: str, name: str, mode: int) -> tuple[str, str]:
        """(username, server URL) of one entry of base; '' for what is not a server folder."""
        server_url = server_of(name)
        if server_url is None or mode & 0o170000 != 0o040000:  # not a server's folder
            return "", ""
        files = gpg_files(os.listdir(base + os.sep + name))
        return (min(files)[:-4] if files else ""), server_url

    def save(self) -> None:
        folders_stamp = self.folders_stamp if self.complete else self._UNKNOWN
        unchanged = folders_stamp == self.cached_folders_stamp and len(self.seen) == len(self.entries)
        if not self.usable or (not self.changed and unchanged):
            return
        lines = [f"{self._MAGIC}\t{self.root}\t{self.now}\t{folders_stamp}"]
        lines += [f"{folder}\t{stamp}\t{username}\t{server}" for folder, (stamp, username, server) in self.seen.items()]
        try:
            write_atomically(self.path, ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"), private=True)
        except OSError:
            pass  # a cache that cannot be written is only slower


class _DirectInsert:
    """`pass insert -f -m` of one entry without pass's bash script and its dozen processes: the
    gpg command pass runs (its recipients, options and umask), written aside and renamed into
    place. Only where pass would do nothing more: no git work tree in the store (pass commits
    there), no PASSWORD_STORE_SIGNING_KEY (pass verifies .gpg-id's signature), and a .gpg-id
    read exactly as pass reads it. Anywhere else, store goes through pass itself (of: None)."""

    def __init__(self, store: PassStore, path: str, recipients: list[str], umask: int) -> None:
        self.store, self.path, self.recipients, self.umask = store, path, recipients, umask

    @classmethod
    def of(cls, store: PassStore, path: str) -> _DirectInsert | None:
        environ = store.environ
        if environ.get("PASSWORD_STORE_SIGNING_KEY") or environ.get("GIT_DIR") or environ.get("GIT_WORK_TREE"):
            return None
        # pass sets GIT_CEILING_DIRECTORIES to the store's parent: only a .git inside counts.
        folders = (path, os.path.dirname(path), store.root)
        if any(os.path.lexists(os.path.join(folder, ".git")) for folder in folders):
            return None
        recipients = _pass_recipients(environ, folders)
        umask = environ.get("PASSWORD_STORE_UMASK", "077")
        if not recipients or not umask.isdigit() or set(umask) - set("01234567"):
            return None
        return cls(store, path, recipients, int(umask, 8))

    def insert(self, username: str, temporary: str, secret: str) -> None:
        gpg = gpg_program(self.store.environ)
        argv = [gpg, "-e", *(arg for recipient in self.recipients for arg in ("-r", recipient)), "-o", "-"]
        argv += pass_gpg_options(self.store.environ)
        missing = self.store._gpg_missing()
        result = self.store._run(argv, secret.encode("utf-8"), missing)
        if result.status != 0 or not result.stdout:
            why = explain_gpg_failure(result.stderr, "the credentials")
            raise StoreError(f"pass insert failed: {self.store._recipient_problem(result.stderr) or why}")
        previous = os.umask(self.umask)  # what pass runs under: files 0600, folders 0700 by default
        try:
            self._place(username, temporary, result.stdout)
        finally:
            os.umask(previous)

    def _place(self, username: str, temporary: str, encrypted: bytes) -> None:
        aside = os.path.join(self.store.root, TEMPORARY, temporary)
        os.makedirs(aside)
        written = os.path.join(aside, "entry.gpg")
        fd = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with os.fdopen(fd, "wb") as out:
            out.write(encrypted)
        os.makedirs(self.path, exist_ok=True)
        if os.path.isdir(os.path.join(self.path, username)):
            _remove_tree(os.path.join(self.path, username))  # Go's "<username>/x" (get skips it)
        os.rename(written, os.path.join(self.path, username + ".gpg"))

    def remove(self, name: str) -> None:
        """pass rm -r -f of one entry of the folder: its .gpg file, else its sub-folder."""
        file = os.path.join(self.path, name + ".gpg")
        if os.path.isfile(file):
            os.remove(file)
        elif os.path.isdir(os.path.join(self.path, name)):
            _remove_tree(os.path.join(self.path, name))


def _pass_recipients(environ: Mapping[str, str], folders: tuple[str, ...]) -> list[str]:
    """The keys pass encrypts an entry in folders[0] to (set_gpg_recipients): PASSWORD_STORE_KEY's
    words, else the lines of the nearest .gpg-id, comments cut. [] where pass's own reading could
    differ (a last line without its newline, which bash's `read` drops): pass decides then."""
    if environ.get("PASSWORD_STORE_KEY"):
        return environ["PASSWORD_STORE_KEY"].split()
    for folder in folders:
        try:
            with open(os.path.join(folder, ".gpg-id"), "rb") as file:
                text = file.read().decode("utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError):
            return []
        if not text.endswith("\n"):
            return []
        lines = (line.strip(" \t").partition("#")[0] for line in text.split("\n")[:-1])
        return [line for line in lines if line]
    return []


def check_username(username: str) -> None:
    """Refuse names pass would turn into other paths (Go corrupts the store: docker/docker-credential-helpers#162)."""
    if "/" in username:
        raise StoreError("pass cannot store a username containing '/': it would become a sub-folder")
    if username in (".", "..") or "\0" in username:
        raise StoreError(f"pass cannot store the username {username!r}: it is not a valid file name")
    if username.startswith("."):  # a dot file: hidden from pass, and never read back by get or list
        raise StoreError(f"pass cannot store the username {username!r}: it must not start with '.'")
    if len(username.encode("utf-8")) + len(".gpg") > MAX_NAME:
        raise StoreError(f"pass cannot store a username longer than {MAX_NAME - 4} bytes")


def explain_gpg_failure(stderr: bytes, what: str) -> str:
    """One line that says what went wrong with gpg (or pass) and how to fix it.

    gpg's --status-fd lines tell a missing secret key (NO_SECKEY) from a key whose passphrase
    could not be asked for (a pinentry launched, then pkdecrypt_failed): --quiet hides the
    difference in the human text, which says "No secret key" for both.
    """
    text = stderr.decode("utf-8", "replace")
    if any(sign in text for sign in _PASSPHRASE_SIGNS):
        return (
            f"gpg needs the key's passphrase for {what} and cannot ask for it here: unlock the key once "
            "in a terminal (export GPG_TTY=$(tty); gpg --decrypt any file of the store) or use a key without "
            f"a passphrase (`{GENERATE_HINT}`)"
        )
    if any(sign in text for sign in ("can't connect to the agent", "failed to start agent", "No agent running")):
        return (
            f"gpg cannot start or reach gpg-agent to decrypt {what}: check GNUPGHOME and its gpg.conf "
            "(agent-program), and that the agent's socket path is not too long"
        )
    if "NO_SECKEY" in text or "No secret key" in text:
        return f"gpg has no secret key to decrypt {what}: import the key named in .gpg-id, or {INIT_HINT}"
    if any(sign in text for sign in _UNTRUSTED_SIGNS):
        return (
            f"gpg does not trust the key named in .gpg-id, so it will not encrypt {what}: {trust_hint('FINGERPRINT')}"
        )
    if "No public key" in text or "nusable public key" in text or "INV_RECP" in text:
        return f"gpg has no usable public key for the ids in .gpg-id, so it cannot encrypt {what}: {INIT_HINT}"
    if any(sign in text for sign in ("KEYEXPIRED", "KEYREVOKED", "expired", "revoked")):
        return f"the gpg key for {what} has expired or was revoked: {INIT_HINT} with a valid key"
    if "must run" in text and "pass init" in text:
        return f"the password store is not initialised: {INIT_HINT}"
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("[GNUPG:]")]
    return f"gpg failed on {what}: {lines[-1] if lines else 'no message'}"


def trust_hint(fingerprint: str) -> str:
    """How to tell gpg a key is yours; both ways work in gpg 2.2 (which has no --quick-set-ownertrust)."""
    return (
        f"if it is your key, trust it with `echo {fingerprint}:6: | gpg --import-ownertrust` "
        f"(or `gpg --edit-key {fingerprint} trust`, then 5)"
    )


# What gpg says when it will not encrypt to a key whose owner it does not trust (pass runs it
# with --batch only when gpg2 is on PATH; without, gpg aborts on the question it cannot ask).
_UNTRUSTED_SIGNS = ("There is no assurance this key belongs", "INV_RECP 10 ")

_PASSPHRASE_SIGNS = (
    "PINENTRY_LAUNCHED",
    "pkdecrypt_failed",
    "BAD_PASSPHRASE",
    "MISSING_PASSPHRASE",
    "Inappropriate ioctl",
    "No pinentry",
    "Operation cancelled",
    "Bad passphrase",
)


class _KeyListing:
    """The first key of a `gpg --with-colons --list-keys` listing: validity, fingerprint and the
    fingerprints of its encryption subkeys that expired."""

    def __init__(self, listing: str) -> None:
        self.validity = self.fingerprint = ""
        self.expired_subkeys: list[str] = []
        self.usable_subkey = False
        last = ""
        for line in listing.splitlines():
            fields = line.split(":") + [""] * 12
            if fields[0] == "pub":
                if self.validity:
                    break  # the next key
                self.validity, last = fields[1], "pub"
            elif fields[0] == "sub":
                last = "expired" if fields[1] == "e" and "e" in fields[11] else "sub"
                self.usable_subkey = self.usable_subkey or (
                    "e" in fields[11] and fields[1] not in ("e", "r", "d", "i", "n")
                )
            elif fields[0] == "fpr" and last:
                if last == "pub":
                    self.fingerprint = fields[9]
                elif last == "expired":
                    self.expired_subkeys.append(fields[9])
                last = ""

    def expired(self) -> bool:
        return self.validity == "e" or (bool(self.expired_subkeys) and not self.usable_subkey)

    def extend_commands(self) -> str:
        """What extends it: the primary key, then the expired subkeys, which gpg's '*' skips."""
        commands = [f"gpg --quick-set-expire {self.fingerprint} 1y"] if self.validity == "e" else []
        if self.expired_subkeys:
            commands.append(f"gpg --quick-set-expire {self.fingerprint} 1y {' '.join(self.expired_subkeys)}")
        return "; ".join(commands)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _locked(root: str, exclusive: bool, environ: Mapping[str, str]) -> locked:
    """flock on the store's own directory (pass keeps nothing else there we could lock)."""
    if not os.path.isdir(root):
        raise CredentialsNotFound()
    return locked(root, exclusive=exclusive, create=False, timeout=lock_timeout(environ))


class PassStore(Store):
    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self.environ = environ
        self.root = store_dir(environ)

    def _folder(self, server_url: str) -> str:
        folder = server_folder(self.root, server_url)
        if folder is None:
            raise CredentialsNotFound()
        return folder

    # -- reads: the hot path ------------------------------------------------------------

    def get(self, server_url: str) -> tuple[str, str]:
        folder = self._folder(server_url)
        decryption = started(folder)  # docker-credential-pass get's head start (passread)
        if decryption is None:
            # The lock covers opening the entry, never the decryption: gpg may wait minutes for
            # a passphrase, and a store must not wait behind that.
            with _locked(self.root, exclusive=False, environ=self.environ):
                try:
                    decryption = start_decrypting(folder, self.environ)
                except FileNotFoundError:
                    raise StoreUnavailable(self._gpg_missing()) from None
        if decryption is None:
            raise CredentialsNotFound()
        result = self._finished(gpg_program(self.environ), decryption.gpg)
        if result.status != 0:
            raise StoreError(explain_gpg_failure(result.stderr, f"the credentials for {server_url}"))
        # The Go helper trims what `pass show` prints the same way.
        return decryption.name[:-4], result.stdout.rstrip(b"\r\n").decode("utf-8", "surrogateescape")

    def revision(self, server_url: str) -> str | None:
        """The entry file get reads, by name, inode, size and modification time: pass replaces a
        file to change it, so a new login is a new revision."""
        try:
            folder = self._folder(server_url)
        except CredentialsNotFound:
            return None
        name = first_entry(folder)
        if name is None:
            return None
        try:
            status = os.stat(os.path.join(folder, name))
        except FileNotFoundError:
            return None  # removed since
        return f"{name}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}"

    def _gpg_missing(self) -> str:
        return f"{gpg_program(self.environ)} is not installed: install gnupg, then {INIT_HINT}"

    def _run(self, argv: list[str], input: bytes, not_installed: str) -> Finished:
        """argv's result, within the prompt timeout: gpg (or pass's gpg) may be asking a person."""
        try:
            running = start(argv, input, self.environ)
        except FileNotFoundError:
            raise StoreUnavailable(not_installed) from None
        return self._finished(argv[0], running)

    def _finished(self, program: str, running: Running) -> Finished:
        timeout = prompt_timeout(self.environ)
        try:
            return running.finish(timeout)
        except TimeoutError:
            raise Stuck(
                f"{program} did not answer within {timeout:g} s (a passphrase prompt nobody answered?)"
            ) from None

    def list(self) -> dict[str, str]:
        known = _ListCache(self.root, self.environ)
        try:
            listing = known.listing(os.path.join(self.root, FOLDER))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        known.save()
        return listing

    # -- writes: through pass ---------------------------------------------------------

    def add(self, server_url: str, username: str, secret: str) -> None:
        check_username(username)
        if not server_url:  # its folder would be FOLDER itself, which holds every server's
            raise MissingServerURL()
        folder = folder_name(server_url)
        if len(folder) > MAX_NAME:
            raise StoreError(f"pass cannot store a server URL longer than {MAX_NAME // 4 * 3} bytes")
        self._require_initialised()
        path = self._folder(server_url)
        with _locked(self.root, exclusive=True, environ=self.environ):
            self._clean_temporaries()
            # gpg writes its output file in place: `pass insert` onto the entry itself would leave
            # it truncated if killed (or out of space) half-way. So the new entry is written aside,
            # then renamed over the old one (rename(2): atomic).
            temporary = f"{os.getpid()}.{os.urandom(6).hex()}"
            direct = _DirectInsert.of(self, path)
            try:
                if direct is None:
                    self._insert_through_pass(path, folder, username, temporary, secret)
                else:
                    direct.insert(username, temporary, secret)
            except OSError as err:  # a full or read-only disk: the old entry is still in place
                raise StoreError(f"cannot write to the password store {self.root}: {err.strerror}") from None
            finally:
                _remove_tree(os.path.join(self.root, TEMPORARY, temporary))
                try:
                    os.rmdir(os.path.join(self.root, TEMPORARY))
                except OSError:
                    pass  # not empty: a leftover the next store cleans
            # Go leaves other usernames behind and its get may then return the wrong one.
            # Last first: get takes the byte-wise first, so until the new entry is alone it still
            # answers with the old one, even if this store is killed half-way through.
            for stale in sorted(self._entries(path), key=os.fsencode, reverse=True):
                if stale == username:
                    continue
                if direct is None:
                    self._pass("rm", "-r", "-f", f"{FOLDER}/{folder}/{stale}")
                else:
                    direct.remove(stale)

    def _insert_through_pass(self, path: str, folder: str, username: str, temporary: str, secret: str) -> None:
        """pass insert aside, then pass mv onto the entry: pass's git commits and signed .gpg-id."""
        entry = f"{FOLDER}/{folder}/{username}"
        self._prepare_temporary(path, temporary)
        self._pass("insert", "-f", "-m", f"{TEMPORARY}/{temporary}/entry", input=secret.encode("utf-8"))
        if os.path.isdir(os.path.join(path, username)):
            # What Go makes of a username "<username>/x" (get skips it): `pass mv` would
            # move the entry into it. The trailing / makes pass remove the folder only.
            self._pass("rm", "-r", "-f", entry + "/")
        self._pass("mv", "-f", f"{TEMPORARY}/{temporary}/entry", entry)

    def _prepare_temporary(self, path: str, name: str) -> None:
        """A new folder TEMPORARY/name (<pid>.<random>) holding the recipients the entry at path
        will have (a copy of the .gpg-id, and its signature, pass would use there), so that
        `pass mv` finds the file already encrypted to the right keys and only renames it."""
        base = os.path.join(self.root, TEMPORARY)
        os.makedirs(base, mode=0o700, exist_ok=True)
        directory = os.path.join(base, name)
        os.mkdir(directory, mode=0o700)
        # pass's own search (set_gpg_recipients): the nearest folder with a .gpg-id, up to the root.
        candidates = (path, os.path.dirname(path), self.root)
        source = next((c for c in candidates if os.path.isfile(os.path.join(c, ".gpg-id"))), self.root)
        for file in (".gpg-id", ".gpg-id.sig"):
            try:
                with open(os.path.join(source, file), "rb") as original:
                    data = original.read()
            except FileNotFoundError:
                continue
            fd = os.open(os.path.join(directory, file), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as copy:
                copy.write(data)

    def _clean_temporaries(self) -> None:
        """Remove what stores killed half-way left under TEMPORARY (the lock is held: none is live).

        Every store removes its own folder before it lets go of the lock, so any folder found
        here belongs to a writer that was killed. Still, one named after a running process (a
        reused pid) is left alone until it is an hour old.
        """
        base = os.path.join(self.root, TEMPORARY)
        try:
            names = os.listdir(base)
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in names:
            path = os.path.join(base, name)
            pid = name.partition(".")[0]
            try:
                if pid.isdigit() and _alive(int(pid)) and time.time() - os.lstat(path).st_mtime < 3600:
                    continue
            except OSError:
                continue
            if os.path.isdir(os.path.join(self.root, ".git")) and os.path.isfile(os.path.join(path, "entry.gpg")):
                try:  # through pass, so that pass's git commits the removal of what it added
                    self._pass("rm", "-r", "-f", f"{TEMPORARY}/{name}")
                except StoreError:
                    pass
            _remove_tree(path)

    def delete(self, server_url: str) -> None:
        """pass rm of the server's folder; no store, no folder or no such name: nothing to do."""
        try:
            folder = self._folder(server_url)
            with _locked(self.root, exclusive=True, environ=self.environ):
                if os.path.isdir(folder):
                    self._pass("rm", "-r", "-f", f"{FOLDER}/{folder_name(server_url)}")
        except CredentialsNotFound:
            return  # _folder or _locked: nothing is or can be stored there

    @staticmethod
    def _entries(folder: str) -> list[str]:
        """pass entry names in a folder: <name>.gpg files (Go's usernames, dotted ones too) and
        sub-folders; not .gpg-id nor other dot files and folders."""
        with os.scandir(folder) as entries:
            return [
                e.name[:-4] if e.is_file() else e.name
                for e in entries
                if (e.is_file() and e.name.endswith(".gpg") and len(e.name) > 4)
                or (e.is_dir() and not e.name.startswith("."))
            ]

    def _pass(self, *args: str, input: bytes = b"") -> None:
        result = self._run(
            ["pass", *args], input, f"pass is not installed: install it (apt-get install pass), then {INIT_HINT}"
        )
        if result.status != 0:
            problem = self._recipient_problem(result.stderr)
            raise StoreError(
                f"pass {args[0]} failed: " + (problem or explain_gpg_failure(result.stderr, "the credentials"))
            )

    def _recipient_problem(self, stderr: bytes) -> str | None:
        """Which key of .gpg-id gpg would not encrypt to, and why (its own words are vaguer:
        "Unusable public key" for an expired, revoked or untrusted one)."""
        untrusted = any(sign.encode() in stderr for sign in _UNTRUSTED_SIGNS)
        if not untrusted and b"nusable public key" not in stderr:
            return None
        from credctl.gpg import read_gpg_ids  # the failure path: python-gnupg is not needed

        for ident in read_gpg_ids(self.root):
            try:
                listing = self._run(
                    [gpg_program(self.environ), "--batch", "--with-colons", "--list-keys", ident], b"", ""
                )
            except StoreUnavailable:
                return None
            key = _KeyListing(listing.stdout.decode("utf-8", "replace"))
            if key.validity == "r":
                return f"the gpg key {key.fingerprint} in .gpg-id was revoked: {INIT_HINT} with another key"
            if key.expired():
                return (
                    f"the gpg key {key.fingerprint} in .gpg-id has expired: extend it ({key.extend_commands()}) "
                    f"or {INIT_HINT} with another key"
                )
            if untrusted and key.validity not in ("u", "f", "m"):
                return (
                    f"gpg does not trust the key {key.fingerprint} in .gpg-id, so it will not encrypt to it: "
                    + trust_hint(key.fingerprint)
                )
        return None

    # -- health -------------------------------------------------------------------------

    def _require_initialised(self) -> None:
        problem = self.setup_problem()
        if problem:
            raise StoreUnavailable(problem)

    def initialised(self) -> bool:
        """Whether `pass init` has run for this store (a .gpg-id at its root or in credctl's folder)."""
        return any(
            os.path.isfile(os.path.join(path, ".gpg-id")) for path in (self.root, os.path.join(self.root, FOLDER))
        )

    def setup_problem(self) -> str | None:
        """Cheap checks (no gpg run): is pass installed and the store initialised?"""
        if not on_path("pass", self.environ):
            return f"pass is not installed: install it (apt-get install pass), then {INIT_HINT}"
        if not self.initialised():
            return f"the password store {self.root} is not initialised: {INIT_HINT}"
        return None

    def health(self) -> Health:
        problem = self.setup_problem()
        if problem is None:
            from credctl.gpg import recipients_problem  # python-gnupg: admin path only

            problem = recipients_problem(self.root, self.environ)
        return Health(problem is None, problem or f"password store {self.root} is ready")
