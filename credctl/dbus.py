"""A small D-Bus client: just enough of the wire protocol to call methods and wait for a signal.

Why not jeepney (a fine library): importing it costs more than the Go secretservice helper's
whole `get` (measured: `import jeepney.io.blocking` 45 ms against the Go helper's 22 ms), and
the helper path is Docker's hot path. This module uses only C-level standard modules.
Specification: https://dbus.freedesktop.org/doc/dbus-specification.html ("Message Protocol").
"""

from __future__ import annotations

import _socket
import _struct
import posix
import time

from credctl.posixfs import ENVIRON, fs_decode, fs_encode, join

METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
_FIELD_CODES = {
    "path": (1, "o"),
    "interface": (2, "s"),
    "member": (3, "s"),
    "destination": (6, "s"),
    "signature": (8, "g"),
}
_FIELD_NAMES = {4: "error_name", 5: "reply_serial", 7: "sender", 8: "signature", 3: "member", 2: "interface", 1: "path"}
_FIXED = {"y": ("<B", 1), "b": ("<I", 4), "n": ("<h", 2), "q": ("<H", 2), "i": ("<i", 4), "u": ("<I", 4),
          "x": ("<q", 8), "t": ("<Q", 8), "d": ("<d", 8), "h": ("<I", 4)}  # fmt: skip
_BUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")


def _fields(destination: str, path: str, interface: str, member: str) -> dict[str, str]:
    return {"path": path, "interface": interface, "member": member, "destination": destination}


class DBusError(Exception):
    """An error reply (name like org.freedesktop.DBus.Error.ServiceUnknown) or a broken bus."""

    def __init__(self, name: str, message: str = "") -> None:
        self.name, self.message = name, message
        super().__init__(f"{name}: {message}" if message else name)


class Variant:
    """A value with its D-Bus signature, for arguments of type v."""

    __slots__ = ("signature", "value")

    def __init__(self, signature: str, value: object) -> None:
        self.signature, self.value = signature, value


def _type_end(signature: str, start: int) -> int:
    """Index just past the single complete type that begins at start."""
    code = signature[start]
    if code == "a":
        return _type_end(signature, start + 1)
    if code in "({":
        depth, index = 0, start
        while True:
            depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(signature[index], 0)
            index += 1
            if depth == 0:
                return index
    return start + 1


def split_signature(signature: str) -> tuple[str, ...]:
    """The complete types a signature holds, in order (each signature worked out once: a get
    reads the same few, the headers' a(yv) above all, dozens of times)."""
    types = _SPLIT.get(signature)
    if types is None:
        found, index = [], 0
        while index < len(signature):
            end = _type_end(signature, index)
            found.append(signature[index:end])
            index = end
        types = _SPLIT[signature] = tuple(found)
    return types


_SPLIT: dict[str, tuple[str, ...]] = {}
_ALIGNMENT = dict.fromkeys("({xtd", 8) | dict.fromkeys("ygv", 1) | dict.fromkeys("nq", 2)  # the rest: 4


def _alignment(code: str) -> int:
    return _ALIGNMENT.get(code, 4)


class _Writer:
    def __init__(self) -> None:
        self.data = bytearray()

    def pad(self, alignment: int) -> None:
        self.data += b"\0" * (-len(self.data) % alignment)

    def write(self, signature: str, value: object) -> None:
        code = signature[0]
        self.pad(_alignment(code))
        if code in _FIXED:
            self.data += _struct.pack(_FIXED[code][0], value)
        elif code in "so":
            encoded = value.encode("utf-8")  # type: ignore[attr-defined]
            self.data += _struct.pack("<I", len(encoded)) + encoded + b"\0"
        elif code == "g":
            self.data += bytes([len(value)]) + value.encode("ascii") + b"\0"  # type: ignore[arg-type, attr-defined]
        elif code == "v":
            self.write("g", value.signature)  # type: ignore[attr-defined]
            self.write(value.signature, value.value)  # type: ignore[attr-defined]
        elif code == "(":
            for item_type, item in zip(split_signature(signature[1:-1]), value, strict=True):  # type: ignore[call-overload]
                self.write(item_type, item)
        elif code == "a":
            self._write_array(signature[1:], value)
        else:
            raise ValueError(f"cannot write D-Bus type {signature!r}")

    def _write_array(self, element: str, value: object) -> None:
        length_at = len(self.data)
        self.data += b"\0\0\0\0"
        self.pad(_alignment(element[0]))
        start = len(self.data)
        if element == "y":
            self.data += value  # type: ignore[operator]
        elif element[0] == "{":
            key_type, value_type = split_signature(element[1:-1])
            for key, item in value.items():  # type: ignore[attr-defined]
                self.pad(8)
                self.write(key_type, key)
                self.write(value_type, item)
        else:
            for item in value:  # type: ignore[attr-defined]
                self.write(element, item)
        self.data[length_at : length_at + 4] = _struct.pack("<I", len(self.data) - start)


class _Reader:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data, self.offset = data, offset

    def align(self, alignment: int) -> None:
        self.offset += -self.offset % alignment

    def read(self, signature: str) -> object:
        code = signature[0]
        self.align(_alignment(code))
        if code in _FIXED:
            fmt, size = _FIXED[code]
            (value,) = _struct.unpack_from(fmt, self.data, self.offset)
            self.offset += size
            return bool(value) if code == "b" else value
        if code in "sog":
            size = self.data[self.offset] if code == "g" else _struct.unpack_from("<I", self.data, self.offset)[0]
            start = self.offset + (1 if code == "g" else 4)
            self.offset = start + size + 1
            return self.data[start : start + size].decode("utf-8", "surrogateescape")
        if code == "v":
            inner = self.read("g")
            return self.read(inner)  # type: ignore[arg-type]
        if code == "(":
            return tuple(self.read(item) for item in split_signature(signature[1:-1]))
        if code == "a":
            return self._read_array(signature[1:])
        raise DBusError("credctl.UnsupportedType", f"cannot read D-Bus type {signature!r}")

    def _read_array(self, element: str) -> object:
        (length,) = _struct.unpack_from("<I", self.data, self.offset)
        self.offset += 4
        self.align(_alignment(element[0]))
        end = self.offset + length
        if element == "y":
            self.offset = end
            return bytes(self.data[end - length : end])
        if element[0] == "{":
            key_type, value_type = split_signature(element[1:-1])
            result = {}
            while self.offset < end:
                self.align(8)
                key = self.read(key_type)
                result[key] = self.read(value_type)
            return result
        items = []
        while self.offset < end:
            items.append(self.read(element))
        return items


class Message:
    """A message received: its kind, header fields, and body (read from data on first use: most
    signals, and Hello's answer, are never looked at)."""

    __slots__ = ("_body", "_data", "_offset", "fields", "kind")

    def __init__(self, kind: int, fields: dict[str, object], data: bytes, offset: int) -> None:
        self.kind, self.fields, self._data, self._offset, self._body = kind, fields, data, offset, None

    @property
    def body(self) -> tuple:
        if self._body is None:
            reader = _Reader(self._data, self._offset)
            signature = self.fields.get("signature") or ""
            self._body = tuple(reader.read(item) for item in split_signature(signature))  # type: ignore[arg-type]
        return self._body


FOREIGN_BUS = "credctl.ForeignBus"  # the error name of a bus that is not the user's own
_OWN_BUS_HINT = "credctl sends secrets only to your own bus; set DBUS_SESSION_BUS_ADDRESS to your session's bus"


def session_bus_address(environ=ENVIRON) -> str | None:
    """The session bus: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus when it is the user's.

    The fallback is accepted as libdbus (_dbus_lookup_user_bus) and GDBus (get_session_address_xdg)
    accept it: a socket owned by us. A symlink there is followed, as GDBus does (libdbus does
    not), and what it names is checked. credctl also wants the folder to be ours (the XDG spec's
    rule for XDG_RUNTIME_DIR), since the secrets it sends travel in the clear ("plain"); the
    daemon behind the socket is checked when connecting (check_peer). Anything else raises
    DBusError(FOREIGN_BUS) saying why.
    """
    address = environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        return None
    path = join(runtime, "bus")
    try:
        status, folder = posix.stat(path), posix.stat(runtime)
    except OSError:
        return None
    problem = _not_ours(status, f"the D-Bus session bus {path}") or _not_ours(
        folder, f"the folder {runtime} of the D-Bus session bus"
    )
    if problem is None and status.st_mode & 0o170000 != 0o140000:
        problem = f"{path} is not a socket, so it is no D-Bus session bus"
    if problem is not None:
        raise DBusError(FOREIGN_BUS, f"{problem}: {_OWN_BUS_HINT}")
    return "unix:path=" + _escape(path)


def _not_ours(status: posix.stat_result, what: str) -> str | None:
    uid = posix.geteuid()
    if status.st_uid != uid:
        return f"{what} belongs to uid {status.st_uid}, not to you (uid {uid})"
    return None


def check_peer(sock: _socket.socket, path: str) -> None:
    """Refuse a bus daemon run by another user (it would read every secret sent to it).

    The kernel's record of who listens on the socket (SO_PEERCRED), so it holds for an explicit
    address and an abstract socket too, and for a socket swapped after its owner was checked.
    Root is accepted: it runs system-managed user buses and can read the user's secrets anyway.
    """
    option = getattr(_socket, "SO_PEERCRED", None)
    if option is None:  # not Linux: no such record to ask
        return
    _pid, uid, _gid = _struct.unpack("3i", sock.getsockopt(_socket.SOL_SOCKET, option, 12))
    if uid not in (posix.geteuid(), 0):
        where = "@" + path[1:] if path.startswith("\0") else path  # an abstract socket, as ss(8) shows it
        raise DBusError(
            FOREIGN_BUS,
            f"the D-Bus bus at {where} is run by uid {uid}, not by you (uid {posix.geteuid()}) nor root: "
            + _OWN_BUS_HINT,
        )


def _escape(value: str) -> str:
    """D-Bus address escaping: bytes outside [-_/.\\a-zA-Z0-9] become %XX."""
    safe = frozenset(b"-_/.\\abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return "".join(chr(byte) if byte in safe else f"%{byte:02x}" for byte in fs_encode(value))


def _socket_path(address: str) -> str:
    """The first unix: transport of a bus address, as a connectable path ("\\0..." if abstract)."""
    for transport in address.split(";"):
        kind, _, params = transport.partition(":")
        keys = dict(param.partition("=")[::2] for param in params.split(","))
        if kind == "unix" and "path" in keys:
            return _unescape(keys["path"])
        if kind == "unix" and "abstract" in keys:
            return "\0" + _unescape(keys["abstract"])
    raise DBusError("credctl.BadAddress", f"no unix socket in the D-Bus address {address!r}")


def _unescape(value: str) -> str:
    parts = value.encode("latin-1").split(b"%")
    raw = parts[0] + b"".join(bytes([int(part[:2], 16)]) + part[2:] for part in parts[1:])
    return fs_decode(raw)


TIMED_OUT = "credctl.Timeout"  # the error name when a reply or signal did not come in time


class Connection:
    """One authenticated connection to a message bus.

    timeout (seconds) bounds connecting, authenticating and each method call; wait_signal has
    its own. What does not come in time is a DBusError named TIMED_OUT whose message is the
    bound ("25 s").
    """

    def __init__(self, address: str, timeout: float = 25.0) -> None:
        self.serial, self.pending, self.timeout, self.received = 0, [], timeout, b""
        self.replies: dict[int, Message] = {}  # answers that came before the one awaited
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            path = _socket_path(address)
            self.sock.connect(path)
            check_peer(self.sock, path)
            self._greet()
        except OSError as err:
            self.close()
            raise DBusError("credctl.NoBus", f"cannot reach the D-Bus session bus ({err.strerror or err})") from None
        except BaseException:
            self.close()
            raise

    def _greet(self) -> None:
        """SASL EXTERNAL, BEGIN and Hello in one write, as sd-bus sends them, and no wait for the
        answers: the bus reads the lines, then the messages after BEGIN, in order, so the first
        calls go out with them and one round trip serves all (_authenticated reads the OK)."""
        uid = str(posix.getuid()).encode().hex().encode()
        hello = self._message(METHOD_CALL, _fields(*_BUS, "Hello"), "", ())
        self.authenticated = False
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\nBEGIN\r\n" + hello)

    def _authenticated(self) -> None:
        """The bus's answer to AUTH, read before its first message: OK, else the refusal."""
        if self.authenticated:
            return
        try:
            reply = self._read_line()
        except OSError as err:
            raise DBusError("credctl.NoBus", f"cannot reach the D-Bus session bus ({err.strerror or err})") from None
        if not reply.startswith(b"OK "):
            raise DBusError("credctl.AuthFailed", "the bus refused EXTERNAL authentication")
        self.authenticated = True

    def _read_line(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        while b"\r\n" not in self.received:
            chunk = self._recv(4096, deadline, self.timeout)
            if not chunk:
                raise DBusError("credctl.Disconnected", "the D-Bus session bus closed the connection")
            self.received += chunk
        line, _, self.received = self.received.partition(b"\r\n")
        return line + b"\r\n"

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self, destination: str, path: str, interface: str, member: str, signature: str = "", *args: object
    ) -> tuple:
        """Call a method and return its reply's arguments; raise DBusError for an error reply."""
        serial = self._send(METHOD_CALL, _fields(destination, path, interface, member), signature, args)
        return self._reply(serial, time.monotonic() + self.timeout)

    def call_all(self, calls: list[tuple]) -> list[tuple | DBusError]:
        """Several calls (each call's arguments as a tuple) sent in one write, before any answer:
        the reply of each, or its DBusError, in order. One round trip for calls that do not need
        each other's answers. A bus error (timeout, disconnection) is raised."""
        data, serials = b"", []
        for destination, path, interface, member, signature, *args in calls:
            data += self._message(METHOD_CALL, _fields(destination, path, interface, member), signature, tuple(args))
            serials.append(self.serial)
        self.sock.sendall(data)
        deadline, replies = time.monotonic() + self.timeout, []
        for serial in serials:
            try:
                replies.append(self._reply(serial, deadline))
            except DBusError as err:
                if err.name.startswith("credctl."):
                    raise
                replies.append(err)
        return replies

    def _reply(self, serial: int, deadline: float) -> tuple:
        """The reply to serial (or its DBusError); signals meanwhile are kept for wait_signal.
        Replies to calls sent after it wait in self.replies."""
        while True:
            message = self.replies.pop(serial, None) or self._receive(deadline, self.timeout)
            reply_to = message.fields.get("reply_serial")
            if reply_to != serial:
                if message.kind == SIGNAL:
                    self.pending.append(message)
                elif isinstance(reply_to, int) and reply_to > serial:
                    self.replies[reply_to] = message
                continue
            if message.kind == ERROR:
                text = message.body[0] if message.body and isinstance(message.body[0], str) else ""
                raise DBusError(str(message.fields.get("error_name")), text)
            return message.body

    def wait_signal(self, path: str, interface: str, member: str, timeout: float) -> tuple:
        """The arguments of the next signal with this path/interface/member (after AddMatch),
        if it comes within timeout seconds (other messages meanwhile do not extend it)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.pending.pop(0) if self.pending else self._receive(deadline, timeout)
            fields = message.fields
            if message.kind == SIGNAL and (fields.get("path"), fields.get("interface"), fields.get("member")) == (
                path,
                interface,
                member,
            ):
                return message.body

    def _send(self, kind: int, fields: dict[str, str], signature: str, args: tuple) -> int:
        self.sock.sendall(self._message(kind, fields, signature, args))
        return self.serial

    def _message(self, kind: int, fields: dict[str, str], signature: str, args: tuple) -> bytes:
        """The next message (its serial is self.serial afterwards), as bytes."""
        self.serial += 1
        body = _Writer()
        for item_type, item in zip(split_signature(signature), args, strict=True):
            body.write(item_type, item)
        if signature:
            fields = {**fields, "signature": signature}
        header = _Writer()
        header.data += _struct.pack("<cBBBII", b"l", kind, 0, 1, len(body.data), self.serial)
        header.write(
            "a(yv)", [(_FIELD_CODES[name][0], Variant(_FIELD_CODES[name][1], value)) for name, value in fields.items()]
        )
        header.pad(8)
        return bytes(header.data + body.data)

    def _receive(self, deadline: float, bound: float) -> Message:
        self._authenticated()  # (Hello's answer comes first; no one waits for it)
        fixed = self._read_exactly(16, deadline, bound)
        if fixed[:1] != b"l":
            raise DBusError("credctl.Protocol", "big-endian D-Bus messages are not supported")
        kind, body_length, fields_length = fixed[1], *_struct.unpack_from("<I4xI", fixed, 4)
        rest = self._read_exactly(fields_length + (-fields_length % 8) + body_length, deadline, bound)
        data = fixed + rest
        reader = _Reader(data, 12)
        raw_fields = reader.read("a(yv)")
        fields = {_FIELD_NAMES[code]: value for code, value in raw_fields if code in _FIELD_NAMES}  # type: ignore[union-attr]
        reader.align(8)
        return Message(kind, fields, data, reader.offset)

    def _recv(self, size: int, deadline: float, bound: float) -> bytes:
        """Up to size bytes, b"" at the end; a DBusError TIMED_OUT when nothing came by deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise DBusError(TIMED_OUT, f"{bound:g} s")
        self.sock.settimeout(left)
        try:
            return self.sock.recv(size)
        except TimeoutError:
            raise DBusError(TIMED_OUT, f"{bound:g} s") from None

    def _read_exactly(self, size: int, deadline: float, bound: float) -> bytes:
        """size bytes: what was read ahead first, then the socket (reading ahead what comes with them)."""
        while len(self.received) < size:
            try:
                chunk = self._recv(max(size - len(self.received), 65536), deadline, bound)
            except ConnectionError:  # a reset (the bus killed mid-call) is an OSError, not a DBusError
                chunk = b""
            if not chunk:
                raise DBusError("credctl.Disconnected", "the D-Bus session bus closed the connection")
            self.received += chunk
        data, self.received = self.received[:size], self.received[size:]
        return data
