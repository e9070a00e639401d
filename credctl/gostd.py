"""Rules of Go's standard library that Go programs apply to what credctl writes for them.

The kubelet reads credctl's CredentialProviderConfig and the plugin's answers with Go: a
matchImages entry or an auth key is `net/url.Parse("https://" + s)`, split with
`net.SplitHostPort`, each host part matched with `path/filepath.Match`; a duration is
`time.ParseDuration`. This module is those rules, written from Go's source (src/net/url/url.go,
src/net/netip/netip.go, src/net/ipsock.go, src/path/filepath/match.go, src/time/format.go), so
credctl refuses what the kubelet would refuse, with Go's own error text, before a node fails
to load the file.

- `url_parse` is Go's Parse as Go's current releases have it: besides the long-standing rules
  (which bytes a host may hold, %-escapes, a numeric port), a bracketed host must be an IPv6
  address and start the host (the fixes for CVE-2025-47912, Go 1.24.8/1.25.2, and
  CVE-2026-25679, Go 1.25.8/1.26.1), and a host without brackets has one colon at most (Go
  1.26). Each of these only refuses more, so what it accepts loads on a kubelet built with any
  Go release, old or new.
- Go works on bytes; so do these functions (a str is taken as its UTF-8 bytes).

Standard library only, no regular expressions: the kubelet plugin imports this on its warm path.
"""

from __future__ import annotations


class GoError(ValueError):
    """Go's error, with Go's text (str(error))."""


# --- strconv.Quote, for error texts ------------------------------------------------------------


def quote(text: str | bytes) -> str:
    """strconv.Quote: a double-quoted Go string literal (invalid UTF-8 as \\x escapes)."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    out, i = ['"'], 0
    while i < len(data):
        char, size = _decode_rune(data, i)
        if char is None:
            out.append(f"\\x{data[i]:02x}")
        elif char in '"\\':
            out.append("\\" + char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
        i += size
    return "".join(out) + '"'


_SHORT_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _decode_rune(data: bytes, i: int) -> tuple[str | None, int]:
    """The rune at data[i] and its length; (None, 1) for a byte that starts no valid UTF-8."""
    first = data[i]
    size = 1 if first < 0x80 else 2 if 0xC2 <= first < 0xE0 else 3 if 0xE0 <= first < 0xF0 else 4
    if first >= 0xF5 or (first >= 0x80 and size == 1):
        return None, 1
    try:
        return data[i : i + size].decode("utf-8"), size
    except UnicodeDecodeError:
        return None, 1


# --- net/url -----------------------------------------------------------------------------------

_PATH, _HOST, _ZONE, _USER_PASSWORD, _FRAGMENT = "path", "host", "zone", "userpassword", "fragment"
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
# RFC 3986 sub-delims, and what Go adds for a host: ':' (the port), '[' ']' (IPv6), '<' '>' '"'.
_HOST_BYTES = frozenset(b"!$&'()*+,;=:[]<>\"")
_USERINFO_BYTES = frozenset(b"-._:~!$&'()*+,;=%@")


class GoURL:
    """What url.Parse returns that the kubelet reads: the host (host[:port], unescaped) and the
    path (unescaped)."""

    __slots__ = ("host", "path", "scheme")

    def __init__(self, scheme: str, host: str, path: str) -> None:
        self.scheme, self.host, self.path = scheme, host, path


def _should_escape(byte: int, mode: str) -> bool:
    """url.shouldEscape: whether a byte must be %-escaped in that part of a URL."""
    if byte in _ALNUM:
        return False
    if mode in (_HOST, _ZONE) and byte in _HOST_BYTES:
        return False
    if byte in b"-_.~":
        return False
    if byte in b"$&+,/:;=?@":
        if mode == _PATH:
            return byte == ord("?")
        if mode == _USER_PASSWORD:
            return byte in b"@/?:"
        if mode == _FRAGMENT:
            return False
    return not (mode == _FRAGMENT and byte in b"!()*")  # the rest: escaped


def _unescape(data: bytes, mode: str) -> bytes:
    """url.unescape: %XX decoded; a bad escape, or a byte a host may not hold, is an error."""
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == ord("%"):
            if i + 2 >= len(data) or data[i + 1] not in _HEX or data[i + 2] not in _HEX:
                raise GoError(f"invalid URL escape {quote(data[i : i + 3])}")
            value = int(data[i + 1 : i + 3], 16)
            # A host %-escapes only non-ASCII bytes (RFC 3986), %25 aside (an IPv6 zone, RFC 6874).
            if mode == _HOST and value < 0x80 and data[i : i + 3] != b"%25":
                raise GoError(f"invalid URL escape {quote(data[i : i + 3])}")
            if mode == _ZONE and data[i : i + 3] != b"%25" and value != 0x20 and _should_escape(value, _HOST):
                raise GoError(f"invalid URL escape {quote(data[i : i + 3])}")
            i += 3
        else:
            if mode in (_HOST, _ZONE) and byte < 0x80 and _should_escape(byte, mode):
                raise GoError(f"invalid character {quote(data[i : i + 1])} in host name")
            i += 1
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == ord("%"):
            out.append(int(data[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    """url.validOptionalPort: empty, or ':' and digits (none at all is allowed)."""
    return not port or (port[:1] == b":" and all(0x30 <= byte <= 0x39 for byte in port[1:]))


def _invalid_port(port: bytes) -> GoError:
    return GoError(f"invalid port {quote(port)} after host")


def _parse_host(host: bytes) -> bytes:
    """url.parseHost: host[:port], an IPv6 literal only in brackets that start the host."""
    open_bracket = host.rfind(b"[")
    if open_bracket > 0:
        raise GoError("invalid IP-literal")
    if open_bracket == 0:
        close = host.rfind(b"]")
        if close < 0:
            raise GoError("missing ']' in host")
        colon_port = host[close + 1 :]
        if not _valid_optional_port(colon_port):
            raise _invalid_port(colon_port)
        hostname = host[1:close]
        zone = hostname.find(b"%25")
        if zone >= 0:
            unescaped = _unescape(hostname[:zone], _HOST) + _unescape(hostname[zone:], _ZONE)
        else:
            unescaped = _unescape(hostname, _HOST)
        try:
            is4 = parse_addr(unescaped.decode("utf-8", "surrogateescape"))
        except GoError as err:
            raise GoError(f"invalid host: {err}") from None
        if is4:
            raise GoError("invalid IP-literal")
        return b"[" + unescaped + b"]" + colon_port
    colon = host.find(b":")
    if colon >= 0 and not _valid_optional_port(host[colon:]):
        raise _invalid_port(host[colon:])
    return _unescape(host, _HOST)


def _parse_authority(authority: bytes) -> bytes:
    """url.parseAuthority: the host; userinfo before the last '@' is checked and dropped."""
    at = authority.rfind(b"@")
    host = _parse_host(authority[at + 1 :])
    if at >= 0:
        userinfo = authority[:at]
        text = userinfo.decode("utf-8", "surrogateescape")
        if not all(char.isascii() and (char.isalnum() or ord(char) in _USERINFO_BYTES) for char in text):
            raise GoError("net/url: invalid userinfo")
        for part in userinfo.split(b":", 1):
            _unescape(part, _USER_PASSWORD)
    return host


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    """url.getScheme: (scheme, rest), or (b"", raw) when raw starts with no scheme."""
    for i, byte in enumerate(raw):
        if chr(byte).isascii() and chr(byte).isalpha():
            continue
        if byte in b"0123456789+-.":
            if i == 0:
                return b"", raw
            continue
        if byte == ord(":"):
            if i == 0:
                raise GoError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return b"", raw
    return b"", raw


def url_parse(raw: str) -> GoURL:
    """url.Parse for an absolute URL with an authority (what the kubelet parses: "https://" + s).

    GoError carries Go's text, e.g. `parse "https://%invalid%": invalid URL escape "%in"`.
    """
    data = raw.encode("utf-8", "surrogateescape")
    rest_of_url, hash_mark, fragment = data.partition(b"#")
    try:
        url = _parse(rest_of_url)
    except GoError as err:
        raise GoError(f"parse {quote(rest_of_url)}: {err}") from None
    if hash_mark and fragment:
        try:
            _unescape(fragment, _FRAGMENT)
        except GoError as err:
            raise GoError(f"parse {quote(data)}: {err}") from None
    return url


def _parse(data: bytes) -> GoURL:
    if any(byte < 0x20 or byte == 0x7F for byte in data):
        raise GoError("net/url: invalid control character in URL")
    scheme, rest = _get_scheme(data)
    rest = rest[:-1] if rest.endswith(b"?") and rest.count(b"?") == 1 else rest.partition(b"?")[0]  # no query
    host = b""
    if not rest.startswith(b"/"):
        if scheme:  # scheme:opaque, no host: not a form the kubelet's "https://" + s can take
            return GoURL(_text(scheme).lower(), "", "")
        segment = rest.partition(b"/")[0]
        if b":" in segment:
            raise GoError("first path segment in URL cannot contain colon")
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, slash, path = rest[2:].partition(b"/")
        rest = slash + path
        host = _parse_authority(authority)
    path = _unescape(rest, _PATH)
    return GoURL(_text(scheme).lower(), _text(host), _text(path))


def _text(data: bytes) -> str:
    """Go's bytes as a str (bytes that are no UTF-8 kept, as surrogateescape keeps them)."""
    return data.decode("utf-8", "surrogateescape")


# --- net.SplitHostPort ---------------------------------------------------------------------------


def split_host_port(hostport: str) -> tuple[str, str]:
    """net.SplitHostPort: (host, port) of host:port or [host]:port; GoError otherwise."""

    def refused(why: str) -> GoError:
        return GoError(f"address {hostport}: {why}")

    last_colon = hostport.rfind(":")
    if last_colon < 0:
        raise refused("missing port in address")
    start, end_of_host = 0, 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise refused("missing ']' in address")
        if end + 1 == len(hostport):
            raise refused("missing port in address")
        if end + 1 != last_colon:
            raise refused("too many colons in address" if hostport[end + 1] == ":" else "missing port in address")
        host = hostport[1:end]
        start, end_of_host = 1, end + 1
    else:
        host = hostport[:last_colon]
        if ":" in host:
            raise refused("too many colons in address")
    if "[" in hostport[start:]:
        raise refused("unexpected '[' in address")
    if "]" in hostport[end_of_host:]:
        raise refused("unexpected ']' in address")
    return host, hostport[last_colon + 1 :]


# --- net/netip.ParseAddr --------------------------------------------------------------------------


def parse_addr(text: str) -> bool:
    """netip.ParseAddr: True for an IPv4 address, False for IPv6; GoError if it is neither."""

    def refused(message: str, at: str = "") -> GoError:
        return GoError(f"ParseAddr({quote(text)}): {message}" + (f" (at {quote(at)})" if at else ""))

    for char in text:
        if char == ".":
            _ipv4_fields(text, refused)
            return True
        if char == ":":
            _ipv6(text, refused)
            return False
        if char == "%":
            raise refused("missing IPv6 address")
    raise refused("unable to parse IP")


def _ipv4_fields(text: str, refused) -> None:
    """netip.parseIPv4Fields: four decimal fields 0-255, no leading zeros."""
    value, fields, digits = 0, 0, 0
    for i, char in enumerate(text):
        if "0" <= char <= "9":
            if digits == 1 and value == 0:
                raise refused("IPv4 field has octet with leading zero")
            value, digits = value * 10 + int(char), digits + 1
            if value > 255:
                raise refused("IPv4 field has value >255")
        elif char == ".":
            if i == 0 or i == len(text) - 1 or text[i - 1] == ".":
                raise refused("IPv4 field must have at least one digit", text[i:])
            if fields == 3:
                raise refused("IPv4 address too long")
            fields, value, digits = fields + 1, 0, 0
        else:
            raise refused("unexpected character", text[i:])
    if fields < 3:
        raise refused("IPv4 address too short")


def _ipv6(whole: str, refused) -> None:
    """netip.parseIPv6: 8 hex groups, one '::' at most, an embedded IPv4 at the end, a zone."""
    text, percent, zone = whole.partition("%")
    if percent and not zone:
        raise refused("zone must be a non-empty string")
    ellipsis, groups = -1, 0
    if text.startswith("::"):
        ellipsis, text = 0, text[2:]
        if not text:
            return
    while groups < 8:
        length = 0
        while length < len(text) and text[length] in "0123456789abcdefABCDEF":
            length += 1
            if length > 4:
                raise refused("each group must have 4 or less digits", text)
        if length == 0:
            raise refused("each colon-separated field must have at least one digit", text)
        if text[length : length + 1] == ".":
            if ellipsis < 0 and groups != 6:
                raise refused("embedded IPv4 address must replace the final 2 fields of the address", text)
            if groups + 2 > 8:
                raise refused("too many hex fields to fit an embedded IPv4 at the end of the address", text)
            _ipv4_fields(text, refused)
            text, groups = "", groups + 2
            break
        groups, text = groups + 1, text[length:]
        if not text:
            break
        if text[0] != ":":
            raise refused("unexpected character, want colon", text)
        if len(text) == 1:
            raise refused("colon must be followed by more characters", text)
        text = text[1:]
        if text[0] == ":":
            if ellipsis >= 0:
                raise refused("multiple :: in address", text)
            ellipsis, text = groups, text[1:]
            if not text:
                break
    if text:
        raise refused("trailing garbage after address", text)
    if groups < 8 and ellipsis < 0:
        raise refused("address string too short")
    if groups == 8 and ellipsis >= 0:
        raise refused("the :: must expand to at least one field of zeros")


def parse_schemeless_url(pattern: str) -> GoURL:
    """The kubelet's credentialprovider.ParseSchemelessURL (pkg/credentialprovider/keyring.go):
    url.Parse("https://" + pattern); GoError with Go's text when it refuses the pattern. Every
    matchImages entry must pass it, or the kubelet loads no provider at all."""
    return url_parse("https://" + pattern)


# --- path/filepath.Match (Linux: '/' separates) ----------------------------------------------------


def path_match(pattern: str, name: str) -> bool:
    """filepath.Match: '*' any run of non-'/' characters, '?' one, [a-z] / [^a-z] classes,
    '\\' escapes. A malformed pattern (ErrBadPattern) matches nothing, as the kubelet takes it."""
    try:
        chunks = _glob_chunks(pattern)
    except GoError:
        return False
    return _match_chunks(chunks, name)


_STAR, _ANY = ("*",), ("?",)  # a literal '*' or '?' (escaped) is the plain string


def _glob_chunks(pattern: str) -> list:
    """The pattern as a list of _STAR, _ANY, ('class', negated, ranges) and literal characters."""
    chunks: list = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in "*?":
            chunks.append(_STAR if char == "*" else _ANY)
            i += 1
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise GoError("syntax error in pattern")
            chunks.append(pattern[i + 1])
            i += 2
        elif char == "[":
            i, chunk = _glob_class(pattern, i + 1)
            chunks.append(chunk)
        else:
            chunks.append(char)
            i += 1
    return chunks


def _glob_class(pattern: str, i: int) -> tuple[int, tuple]:
    negated = pattern[i : i + 1] == "^"
    i += negated
    ranges: list[tuple[str, str]] = []
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges:
            return i + 1, ("class", negated, tuple(ranges))
        low, i = _class_char(pattern, i)
        high = low
        if pattern[i : i + 1] == "-":
            high, i = _class_char(pattern, i + 1)  # high < low is no error: the range is empty
        ranges.append((low, high))


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """filepath.getEsc: one character of a class; '-' or ']' unescaped, or the end, is bad."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise GoError("syntax error in pattern")
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise GoError("syntax error in pattern")
    return pattern[i], i + 1


def _match_chunks(chunks: list, name: str) -> bool:
    if not chunks:
        return not name
    first, rest = chunks[0], chunks[1:]
    if first is _STAR:
        return any(_match_chunks(rest, name[skip:]) for skip in range(_until_slash(name) + 1))
    if not name:
        return False
    char = name[0]
    if first is _ANY:
        ok = char != "/"
    elif isinstance(first, tuple):
        _kind, negated, ranges = first
        ok = any(low <= char <= high for low, high in ranges) != negated
    else:
        ok = char == first
    return ok and _match_chunks(rest, name[1:])


def _until_slash(name: str) -> int:
    slash = name.find("/")
    return len(name) if slash < 0 else slash


# --- time.ParseDuration ----------------------------------------------------------------------------

_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNITS["h"] = 3600 * 10**9
_MAX = 1 << 63


def parse_duration(text: str) -> int:
    """time.ParseDuration in nanoseconds: [-+]?(digits[.digits]unit)+ or "0", units ns us µs ms
    s m h, at most 2^63-1 ns; GoError with Go's text otherwise ("1d", "1", "5 m", "")."""
    data = text.encode("utf-8", "surrogateescape")
    invalid = GoError(f"time: invalid duration {_time_quote(data)}")
    rest, negative = data, False
    if rest[:1] in (b"-", b"+"):
        negative, rest = rest[:1] == b"-", rest[1:]
    if rest == b"0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        if not (rest[:1] == b"." or b"0" <= rest[:1] <= b"9"):
            raise invalid
        whole, rest, had_whole = _leading_int(rest, invalid)
        fraction, scale, had_fraction = 0, 1.0, False
        if rest[:1] == b".":
            fraction, scale, rest, had_fraction = _leading_fraction(rest[1:])
        if not had_whole and not had_fraction:
            raise invalid
        end = 0
        while end < len(rest) and not (rest[end : end + 1] == b"." or b"0" <= rest[end : end + 1] <= b"9"):
            end += 1
        if end == 0:
            raise GoError(f"time: missing unit in duration {_time_quote(data)}")
        unit_text, rest = rest[:end], rest[end:]
        unit = _UNITS.get(unit_text.decode("utf-8", "surrogateescape"))
        if unit is None:
            raise GoError(f"time: unknown unit {_time_quote(unit_text)} in duration {_time_quote(data)}")
        if whole > _MAX // unit:
            raise invalid
        value = whole * unit
        if fraction > 0:
            value += int(float(fraction) * (float(unit) / scale))  # float64, as Go computes it
            if value > _MAX:
                raise invalid
        total += value
        if total > _MAX:
            raise invalid
    if negative:
        return -total
    if total > _MAX - 1:
        raise invalid
    return total


def _leading_int(data: bytes, invalid: GoError) -> tuple[int, bytes, bool]:
    value, i = 0, 0
    while i < len(data) and 0x30 <= data[i] <= 0x39:
        if value > _MAX // 10:
            raise invalid
        value = value * 10 + data[i] - 0x30
        if value > _MAX:
            raise invalid
        i += 1
    return value, data[i:], i > 0


def _leading_fraction(data: bytes) -> tuple[int, float, bytes, bool]:
    value, scale, i, overflow = 0, 1.0, 0, False
    while i < len(data) and 0x30 <= data[i] <= 0x39:
        if not overflow:
            grown = value * 10 + data[i] - 0x30
            if value > (_MAX - 1) // 10 or grown > _MAX:
                overflow = True
            else:
                value, scale = grown, scale * 10
        i += 1
    return value, scale, data[i:], i > 0


def _time_quote(data: bytes) -> str:
    """The time package's quote: "..." with '"' and '\\' escaped, bytes below ' ' or above ASCII as \\x."""
    out = []
    for byte in data:
        if byte in b'"\\':
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x80:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + "".join(out) + '"'


def duration_string(nanoseconds: int) -> str:
    """time.Duration's String(): 1h30m0s, 1m0s, 1.5s, 300ms, 2µs, 0s, -1m0s."""
    negative, value = nanoseconds < 0, abs(nanoseconds)
    if value < 10**9:
        if value == 0:
            return "0s"
        unit, precision = ("ns", 0) if value < 1_000 else ("µs", 3) if value < 1_000_000 else ("ms", 6)
        text = _with_fraction(value, precision) + unit
    else:
        seconds, fraction = divmod(value, 10**9)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        text = _with_fraction(seconds * 10**9 + fraction, 9) + "s"
        if hours or minutes:
            text = f"{minutes}m" + text
        if hours:
            text = f"{hours}h" + text
    return "-" + text if negative else text


def _with_fraction(value: int, precision: int) -> str:
    """value / 10**precision, its fraction without trailing zeros (fmtFrac, fmtInt)."""
    whole, fraction = divmod(value, 10**precision) if precision else (value, 0)
    digits = f"{fraction:0{precision}d}".rstrip("0") if precision else ""
    return f"{whole}.{digits}" if digits else str(whole)
