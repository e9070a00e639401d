"""The kubelet's rules as credctl applies them, held against the peers' own test cases.

No kubelet binary is packaged for the test machines, so credctl's versions of the rules
(credctl.gostd: Go's url.Parse, SplitHostPort, filepath.Match, ParseDuration; credctl.kubelet:
the kubelet's ParseSchemelessURL and URLsMatch; credctl.kubeletconfig: its config decoding and
validateCredentialProviderConfig) must agree with every case the kubelet's and Go's own tests
hold. The cases are copied here as data, each table citing its upstream file; no upstream code.
"""

import pytest

from credctl.gostd import GoError, duration_string, parse_duration, path_match, split_host_port, url_parse
from credctl.kubelet import acr_match_images, urls_match
from credctl.kubeletconfig import aggregate, config_errors, decode_errors, parse_version, validation_errors

GROUP = "credentialprovider.kubelet.k8s.io"

# --- matching: kubernetes/kubernetes pkg/credentialprovider/keyring_test.go ----------------------

# TestURLsMatch (globURL, targetURL, matchExpected), with the "*kubernetes.io" cases of the releases
# after v1.25 (kubernetes/kubernetes, pkg/credentialprovider/keyring_test.go).
URLS_MATCH = [
    ("*.kubernetes.io", "prefix.kubernetes.io", True),
    ("prefix.*.io", "prefix.kubernetes.io", True),
    ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
    ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
    ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
    ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
    ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
    ("*.kubernetes.io", "kubernetes.io", False),
    ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
    ("*.*.kubernetes.io", "kubernetes.io", False),
    ("*kubernetes.io", "a.kubernetes.io", False),
    ("*kubernetes.io", "kubernetes.io", True),
    ("*.*.*.kubernetes.io", "a.b.c.kubernetes.io", True),
    ("kubernetes.io", "kubernetes.com", False),
    ("k*.io", "quay.io", False),
    ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
    ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
]
# The keyring tests' keys without a scheme (BasicDockerKeyring.Lookup matches each key with
# URLsMatchStr): TestDockerKeyringForGlob (image = target + "/foo/bar"), TestKeyringMiss,
# TestDockerKeyringLookup's keys bar.example.com/pong and bar.example.com.
KEYRING_MATCH = [
    ("prefix.docker.io:1111", "prefix.docker.io:1111/path/foo/bar", True),
    ("*.docker.io:1111", "prefix.docker.io:1111/path/foo/bar", True),
    ("suffix.*.io", "prefix.docker.io/foo/bar", False),
    ("bar.example.com", "bar.example.com", True),
    ("bar.example.com/pong", "bar.example.com", False),
    ("bar.example.com/pong", "bar.example.com/pong", True),
    ("bar.example.com", "bar.example.com/ping", True),
    ("bar.example.com/pong", "bar.example.com/ping", False),
    ("bar.example.com/pong", "bar.example.com/pongz", True),
    ("bar.example.com/pong", "bar.example.com/pong/pang", True),
    ("bar.example.com", "example.com", False),
    ("bar.example.com", "foo.example.com", False),
]
# The matchImages examples and rules of the v1 API reference (staging/src/k8s.io/kubelet/config/v1/types.go).
API_REFERENCE_MATCH = [
    ("*.azurecr.io", "myregistry.azurecr.io/app", True),
    ("*.azurecr.io", "a.b.azurecr.io/app", False),
    ("*.*.registry.io", "a.b.registry.io/x", True),
    ("k8s.*.io", "k8s.foo.io/x", True),
    ("app*.k8s.io", "app2.k8s.io/x", True),
    ("*.io", "k8s.io.example/x", False),
    ("gcr.io", "gcr.io/project/app:1", True),
    ("registry.io:8080/path", "registry.io:8080/path/app", True),
    ("registry.io:8080/path", "registry.io:8080/other/app", False),
    ("registry.io:8080/path", "registry.io/path/app", False),
    ("registry.io", "registry.io:8080/path/app", False),
]


@pytest.mark.parametrize(("glob", "target", "expected"), URLS_MATCH + KEYRING_MATCH + API_REFERENCE_MATCH)
def test_urls_match_agrees_with_the_kubelets_cases(glob, target, expected):
    assert urls_match(glob, target) is expected


@pytest.mark.parametrize(
    ("glob", "target", "expected"),
    [  # what follows from those rules for IPv6 literals and ports (SplitURL, then filepath.Match)
        ("[::1]:5000", "[::1]:5000/team/app", True),
        ("[::1]:5000", "[::1]:5001/team/app", False),
        ("[::1]", "[::1]/team/app", False),  # no port: "[::1]" stays one part, and [::1] is a class
        ("registry.cn-hangzhou.aliyuncs.com:443", "registry.cn-hangzhou.aliyuncs.com:443/ns/app", True),
        ("registry.cn-hangzhou.aliyuncs.com", "registry.cn-hangzhou.aliyuncs.com:443/ns/app", False),
        ("%invalid%", "%invalid%", False),  # a pattern the kubelet cannot parse matches nothing
        ("reg[.io", "reg[.io", False),  # ErrBadPattern matches nothing
    ],
)
def test_urls_match_for_ports_and_ipv6(glob, target, expected):
    assert urls_match(glob, target) is expected


def test_every_acr_pattern_comes_with_its_443_form():
    """The kubelet compares ports exactly: an image written with :443 needs a pattern with it."""
    from credctl.kubelet import ACR_MATCH_IMAGES

    patterns = acr_match_images()
    assert patterns[: len(ACR_MATCH_IMAGES)] == list(ACR_MATCH_IMAGES)
    assert patterns[len(ACR_MATCH_IMAGES) :] == [f"{pattern}:443" for pattern in ACR_MATCH_IMAGES]


# --- Go: src/path/filepath/match_test.go matchTests (pattern, s, match, err) ---------------------

FILEPATH_MATCH = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("*x", "xxx", True),
]
# The same table's ErrBadPattern rows: the kubelet's URLsMatch treats the error as no match.
FILEPATH_BAD = [
    ("[]a]", "]"),
    ("[-]", "-"),
    ("[x-]", "x"),
    ("[x-]", "-"),
    ("[x-]", "z"),
    ("[-x]", "x"),
    ("[-x]", "-"),
    ("[-x]", "a"),
    ("\\", "a"),
    ("[a-b-c]", "a"),
    ("[", "a"),
    ("[^", "a"),
    ("[^bc", "a"),
    ("a[", "a"),
    ("a[", "ab"),
    ("a[", "x"),
    ("a/b[", "x"),
]


@pytest.mark.parametrize(("pattern", "name", "expected"), FILEPATH_MATCH)
def test_filepath_match_agrees_with_go(pattern, name, expected):
    assert path_match(pattern, name) is expected


@pytest.mark.parametrize(("pattern", "name"), FILEPATH_BAD)
def test_a_bad_glob_matches_nothing(pattern, name):
    assert path_match(pattern, name) is False


# --- Go: src/net/url/url_test.go TestParseErrors (in, wantErr) ------------------------------------
# As of Go 1.26 (the IP-literal rules of CVE-2025-47912 and CVE-2026-25679 included).
URL_PARSE_ERRORS = [
    ("http://[::1]", False),
    ("http://[::1]:80", False),
    ("http://[::1]:namedport", True),
    ("http://x:namedport", True),
    ("http://[::1]/", False),
    ("http://[::1]a", True),
    ("http://[::1]%23", True),
    ("http://[::1%25en0]", False),
    ("http://[::1]:", False),
    ("http://x:", False),
    ("http://[::1]:%38%30", True),
    ("http://[::1%25%41]", False),
    ("http://[%10::1]", True),
    ("http://[::1]/%48", False),
    ("http://%41:8080/", True),
    ("mysql://x@y(z:123)/foo", True),
    ("mysql://x@y(1.2.3.4:123)/foo", True),
    (" http://foo.com", True),
    ("ht tp://foo.com", True),
    ("ahttp://foo.com", False),
    ("1http://foo.com", True),
    ("http://[]%20%48%54%54%50%2f%31%2e%31%0a%4d%79%48%65%61%64%65%72%3a%20%31%32%33%0a%0a/", True),
    ("http://a b.com/", True),
    ("cache_object://foo", True),
    ("cache_object:foo", True),
    ("cache_object:foo/bar", True),
    ("cache_object/:foo/bar", False),
    ("http://[192.168.0.1]/", True),
    ("http://[192.168.0.1]:8080/", True),
    ("http://[::ffff:192.168.0.1]/", False),
    ("http://[::ffff:192.168.0.1000]/", True),
    ("http://[::ffff:192.168.0.1]:8080/", False),
    ("http://[::ffff:c0a8:1]/", False),
    ("http://[not-an-ip]/", True),
    ("http://[fe80::1%foo]/", True),
    ("http://[fe80::1", True),
    ("http://fe80::1]/", True),
    ("http://[test.com]/", True),
    ("http://example.com[::1]", True),
    ("http://example.com[::1", True),
    ("http://[::1", True),
    ("http://.[::1]", True),
    ("http:// [::1]", True),
    ("hxxp://mathepqo[.]serveftp(.)com:9059", True),
    # TestInvalidUserPassword, TestRejectControlCharacters
    ("http://user^:passwo^rd@foo.com/", True),
    ("http://foo.com/?foo\nbar", True),
    ("http\r://foo.com/", True),
    ("http://foo\x7f.com/", True),
]


@pytest.mark.parametrize(("raw", "want_error"), URL_PARSE_ERRORS)
def test_url_parse_agrees_with_go(raw, want_error):
    try:
        url_parse(raw)
    except GoError:
        refused = True
    else:
        refused = False
    assert refused is want_error


@pytest.mark.parametrize(
    ("raw", "host", "path"),
    [  # src/net/url/url_test.go urltests: the Host and Path Parse gives (both unescaped)
        ("http://[fe80::1%25en0]/", "[fe80::1%en0]", "/"),
        ("http://[fe80::1%25en0]:8080/", "[fe80::1%en0]:8080", "/"),
        ("http://[fe80::1%25%65%6e%301-._~]/", "[fe80::1%en01-._~]", "/"),
        ("http://[fe80::1%25%65%6e%301-._~]:8080/", "[fe80::1%en01-._~]:8080", "/"),
        ("http://rest.rsc.io/foo%2fbar/baz%2Fquux?alt=media", "rest.rsc.io", "/foo/bar/baz/quux"),
        ("mysql://a,b,c/bar", "a,b,c", "/bar"),
        ("http://host/!$&'()*+,;=:@[]", "host", "/!$&'()*+,;=:@[]"),
    ],
)
def test_url_parse_gives_gos_host_and_path(raw, host, path):
    url = url_parse(raw)
    assert (url.host, url.path) == (host, path)


@pytest.mark.parametrize(
    ("hostport", "expected"),
    [  # src/net/ipsock_test.go splitJoinTests / splitFailureTests (a selection)
        ("www.google.com:80", ("www.google.com", "80")),
        ("127.0.0.1:1234", ("127.0.0.1", "1234")),
        ("[::1]:80", ("::1", "80")),
        ("[fe80::1%lo0]:80", ("fe80::1%lo0", "80")),
        ("localhost:", ("localhost", "")),
        (":80", ("", "80")),
        ("www.google.com", "missing port in address"),
        ("127.0.0.1", "missing port in address"),
        ("[::1]", "missing port in address"),
        ("::1", "too many colons in address"),
        ("[foo:bar]baz", "missing port in address"),
        ("[foo]bar:baz", "missing port in address"),
        ("[foo]:[bar]:baz", "too many colons in address"),
        ("[foo]:[bar]baz", "unexpected '[' in address"),
        ("foo[bar]:baz", "unexpected '[' in address"),
        ("foo]bar:baz", "unexpected ']' in address"),
    ],
)
def test_split_host_port_agrees_with_go(hostport, expected):
    if isinstance(expected, tuple):
        assert split_host_port(hostport) == expected
    else:
        with pytest.raises(GoError, match=expected.replace("[", r"\[").replace("]", r"\]")):
            split_host_port(hostport)


@pytest.mark.parametrize(
    ("pattern", "error"),
    [  # the patterns, and the kubelet's own config_test.go case, with Go's error text
        ("%invalid%", 'parse "https://%invalid%": invalid URL escape "%in"'),
        ("reg|istry.example.com", 'parse "https://reg|istry.example.com": invalid character "|" in host name'),
        ("{team}.example.com", 'parse "https://{team}.example.com": invalid character "{" in host name'),
        ("registry.example.com/%zz", 'parse "https://registry.example.com/%zz": invalid URL escape "%zz"'),
        ("quay.io:*", 'parse "https://quay.io:*": invalid port ":*" after host'),
        ("[v1.x]", 'parse "https://[v1.x]": invalid host: ParseAddr("v1.x"): unexpected character (at "v1.x")'),
        ("[1.2.3.4]", 'parse "https://[1.2.3.4]": invalid IP-literal'),
        ("[::1]:5000", None),
        ("[::1]", None),
        ("*.corp.example:5000/team", None),
        ("registry.io/*", None),
    ],
)
def test_match_images_as_the_kubelet_parses_them(pattern, error):
    from credctl.kubeletconfig import match_image_problem

    assert match_image_problem(pattern) == (error or "")


# --- Go: src/time/time_test.go parseDurationTests, parseDurationErrorTests --------------------------

SECOND, MINUTE, HOUR = 10**9, 60 * 10**9, 3600 * 10**9
PARSE_DURATION = [
    ("0", 0),
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND),
    ("+5s", 5 * SECOND),
    ("-0", 0),
    ("+0", 0),
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600_000_000),
    ("5.s", 5 * SECOND),
    (".5s", 500_000_000),
    ("1.0s", SECOND),
    ("1.00s", SECOND),
    ("1.004s", SECOND + 4_000_000),
    ("1.0040s", SECOND + 4_000_000),
    ("100.00100s", 100 * SECOND + 1_000_000),
    ("10ns", 10),
    ("11us", 11_000),
    ("12µs", 12_000),  # U+00B5
    ("12μs", 12_000),  # U+03BC
    ("13ms", 13_000_000),
    ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500_000_000),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400_000_000)),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4_000_000 + 5_000 + 6),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425_000_000),
    ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MINUTE),
    ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", (1 << 63) - 1),
    ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1),
    ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)),
    ("-9223372036s854ms775us808ns", -(1 << 63)),
    ("-2562047h47m16.854775808s", -(1 << 63)),
    ("0.100000000000000000000h", 6 * MINUTE),
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),
]


def _go_bytes(data: bytes) -> str:
    """A Go string of arbitrary bytes, as credctl.gostd takes it (surrogateescape)."""
    return data.decode("utf-8", "surrogateescape")


PARSE_DURATION_ERRORS = [
    ("", '""'),
    ("3", '"3"'),
    ("-", '"-"'),
    ("s", '"s"'),
    (".", '"."'),
    ("-.", '"-."'),
    (".s", '".s"'),
    ("+.s", '"+.s"'),
    ("1d", '"1d"'),
    (_go_bytes(b"\x85\x85"), '"\\x85\\x85"'),
    (_go_bytes(b"\xffff"), '"\\xffff"'),
    (_go_bytes(b"hello \xffff world"), '"hello \\xffff world"'),
    ("\ufffd", '"\\xef\\xbf\\xbd"'),
    ("\ufffd hello \ufffd world", '"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world"'),
    ("9223372036854775810ns", '"9223372036854775810ns"'),
    ("9223372036854775808ns", '"9223372036854775808ns"'),
    ("-9223372036854775809ns", '"-9223372036854775809ns"'),
    ("9223372036854776us", '"9223372036854776us"'),
    ("3000000h", '"3000000h"'),
    ("9223372036854775.808us", '"9223372036854775.808us"'),
    ("9223372036854ms775us808ns", '"9223372036854ms775us808ns"'),
]


@pytest.mark.parametrize(("text", "nanoseconds"), PARSE_DURATION)
def test_parse_duration_agrees_with_go(text, nanoseconds):
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize(("text", "quoted"), PARSE_DURATION_ERRORS)
def test_parse_duration_errors_agree_with_go(text, quoted):
    with pytest.raises(GoError) as refused:
        parse_duration(text)
    assert quoted in str(refused.value)


def test_parse_duration_round_trips_the_extremes():
    """TestParseDurationRoundTrip: Duration(MaxInt64) and (MinInt64) parse back from String()."""
    for value in ((1 << 63) - 1, -(1 << 63)):
        assert parse_duration(duration_string(value)) == value


# --- kubernetes/kubernetes pkg/credentialprovider/plugin/config_test.go -----------------------------


def provider(**fields) -> dict:
    """kubeletconfig.CredentialProvider as the test cases build it (foobar, one minute)."""
    base = {
        "name": "foobar",
        "matchImages": ["foobar.registry.io"],
        "defaultCacheDuration": "1m0s",
        "apiVersion": f"{GROUP}/v1alpha1",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def tokens(**fields) -> dict:
    return {"tokenAttributes": {key: value for key, value in fields.items() if value is not None}}


V1 = f"{GROUP}/v1"
QUALIFIED = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
# Test_validateCredentialProviderConfig, the rules before cacheType (kubernetes#132617): kubelet 1.33's.
# (name, providers, saTokenForCredentialProviders, expectErr)
VALIDATE_1_33 = [
    ("no providers provided", [], False, "providers: Required value: at least 1 item in plugins is required"),
    (
        "no matchImages provided",
        [provider(matchImages=[])],
        False,
        "providers.matchImages: Required value: at least 1 item in matchImages is required",
    ),
    (
        "no default cache duration provided",
        [provider(defaultCacheDuration=None)],
        False,
        "providers.defaultCacheDuration: Required value",
    ),
    (
        "name contains '/'",
        [provider(name="foo/../bar")],
        False,
        "providers.name: Invalid value: \"foo/../bar\": provider name cannot contain '/'",
    ),
    ("name is '.'", [provider(name=".")], False, "providers.name: Invalid value: \".\": provider name cannot be '.'"),
    (
        "name is '..'",
        [provider(name="..")],
        False,
        "providers.name: Invalid value: \"..\": provider name cannot be '..'",
    ),
    (
        "name contains spaces",
        [provider(name="foo bar")],
        False,
        'providers.name: Invalid value: "foo bar": provider name cannot contain spaces',
    ),
    (
        "duplicate names",
        [provider(), provider(matchImages=["bar.registry.io"])],
        False,
        'providers.name: Duplicate value: "foobar"',
    ),
    ("no apiVersion", [provider(apiVersion="")], False, "providers.apiVersion: Required value"),
    (
        "invalid apiVersion",
        [provider(apiVersion=f"{GROUP}/v1alpha0")],
        False,
        f'providers.apiVersion: Unsupported value: "{GROUP}/v1alpha0": supported values: '
        f'"{GROUP}/v1", "{GROUP}/v1alpha1", "{GROUP}/v1beta1"',
    ),
    (
        "negative default cache duration",
        [provider(defaultCacheDuration="-1m0s")],
        False,
        "providers.defaultCacheDuration: Invalid value: -1m0s: defaultCacheDuration must be greater than or equal to 0",
    ),
    (
        "invalid match image",
        [provider(matchImages=["%invalid%"])],
        False,
        'providers.matchImages: Invalid value: "%invalid%": match image is invalid: '
        'parse "https://%invalid%": invalid URL escape "%in"',
    ),
    ("valid config", [provider()], False, ""),
    (
        "token attributes set without KubeletServiceAccountTokenForCredentialProviders feature gate enabled",
        [provider(apiVersion=V1, **tokens(serviceAccountTokenAudience="audience", requireServiceAccount=True))],
        False,
        "providers.tokenAttributes: Forbidden: tokenAttributes is not supported when "
        "KubeletServiceAccountTokenForCredentialProviders feature gate is disabled",
    ),
    (
        "token attributes not nil but empty ServiceAccountTokenAudience",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    requiredServiceAccountAnnotationKeys=["prefix.io/annotation-1", "prefix.io/annotation-2"],
                    requireServiceAccount=True,
                ),
            )
        ],
        True,
        "providers.tokenAttributes.serviceAccountTokenAudience: Required value",
    ),
    (
        "token attributes not nil but empty ServiceAccountTokenRequired",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requiredServiceAccountAnnotationKeys=["prefix.io/annotation-1", "prefix.io/annotation-2"],
                ),
            )
        ],
        True,
        "providers.tokenAttributes.requireServiceAccount: Required value",
    ),
    (
        "required service account annotation keys not qualified name",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    requiredServiceAccountAnnotationKeys=["cantendwithadash-", "now-with-dashes/simple"],
                ),
            )
        ],
        True,
        'providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Invalid value: "cantendwithadash-": '
        + QUALIFIED,
    ),
    (
        "optional service account annotation keys not qualified name",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    optionalServiceAccountAnnotationKeys=["cantendwithadash-", "now-with-dashes/simple"],
                ),
            )
        ],
        True,
        'providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Invalid value: "cantendwithadash-": '
        + QUALIFIED,
    ),
    (
        "duplicate required service account annotation keys",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    requiredServiceAccountAnnotationKeys=["now-with-dashes/simple", "now-with-dashes/simple"],
                ),
            )
        ],
        True,
        'providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Duplicate value: "now-with-dashes/simple"',
    ),
    (
        "duplicate optional service account annotation keys",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    optionalServiceAccountAnnotationKeys=["now-with-dashes/simple", "now-with-dashes/simple"],
                ),
            )
        ],
        True,
        'providers.tokenAttributes.optionalServiceAccountAnnotationKeys: Duplicate value: "now-with-dashes/simple"',
    ),
    (
        "annotation key in required and optional keys",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    requiredServiceAccountAnnotationKeys=["now-with-dashes/simple-1", "now-with-dashes/simple-2"],
                    optionalServiceAccountAnnotationKeys=["now-with-dashes/simple-2", "now-with-dashes/simple-3"],
                ),
            )
        ],
        True,
        'providers.tokenAttributes: Invalid value: []string{"now-with-dashes/simple-2"}: '
        "annotation keys cannot be both required and optional",
    ),
    (
        "required annotation keys set when requireServiceAccount is false",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=False,
                    requiredServiceAccountAnnotationKeys=["now-with-dashes/simple-1", "now-with-dashes/simple-2"],
                ),
            )
        ],
        True,
        "providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount "
        "cannot be false when requiredServiceAccountAnnotationKeys is set",
    ),
    (
        "valid config with KubeletServiceAccountTokenForCredentialProviders feature gate enabled",
        [
            provider(
                apiVersion=V1,
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    requiredServiceAccountAnnotationKeys=["now-with-dashes/simple-1", "now-with-dashes/simple-2"],
                    optionalServiceAccountAnnotationKeys=["now-with-dashes/simple-3"],
                ),
            )
        ],
        True,
        "",
    ),
    (
        "tokenAttributes set with credentialprovider.kubelet.k8s.io/v1alpha1 APIVersion",
        [
            provider(
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    requiredServiceAccountAnnotationKeys=["now-with-dashes/simple"],
                )
            )
        ],
        True,
        f"providers.tokenAttributes: Forbidden: tokenAttributes is only supported for {GROUP}/v1 API version",
    ),
    (
        "tokenAttributes set with credentialprovider.kubelet.k8s.io/v1beta1 APIVersion",
        [
            provider(
                apiVersion=f"{GROUP}/v1beta1",
                **tokens(
                    serviceAccountTokenAudience="audience",
                    requireServiceAccount=True,
                    requiredServiceAccountAnnotationKeys=["now-with-dashes/simple"],
                ),
            )
        ],
        True,
        f"providers.tokenAttributes: Forbidden: tokenAttributes is only supported for {GROUP}/v1 API version",
    ),
]


@pytest.mark.parametrize(("name", "providers", "gate", "expected"), VALIDATE_1_33, ids=[c[0] for c in VALIDATE_1_33])
def test_validation_agrees_with_the_kubelet_1_33(name, providers, gate, expected):
    assert aggregate(validation_errors({"providers": providers}, (1, 33), token_gate=gate)) == expected


# The same test after kubernetes#132617 (cacheType, required from 1.34): every case sets a cacheType,
# and two new cases check it. The later file renders two values differently (the negative duration
# as "-1m0s" with "must be greater than or equal to 0", the key list as ["..."]); those two rows
# are held to the same verdict, not the same words.
def with_cache_type(providers: list[dict], cache_type: str = "ServiceAccount") -> list[dict]:
    return [
        {**entry, "tokenAttributes": {**entry["tokenAttributes"], "cacheType": cache_type}}
        if "tokenAttributes" in entry
        else entry
        for entry in providers
    ]


VALIDATE_1_34 = [
    (name, with_cache_type(providers), gate, expected) for name, providers, gate, expected in VALIDATE_1_33
]
VALIDATE_1_34 += [
    (
        "token attributes not nil but empty CacheType",
        [provider(apiVersion=V1, **tokens(serviceAccountTokenAudience="audience", requireServiceAccount=True))],
        True,
        "providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when "
        "tokenAttributes is specified. Supported values are: ServiceAccount, Token",
    ),
    (
        "token attributes not nil, invalid CacheType",
        with_cache_type(
            [provider(apiVersion=V1, **tokens(serviceAccountTokenAudience="audience", requireServiceAccount=True))],
            "invalid-cache-type",
        ),
        True,
        'providers.tokenAttributes.cacheType: Unsupported value: "invalid-cache-type": supported values: '
        '"ServiceAccount", "Token"',
    ),
]
_WORDED_DIFFERENTLY = {"negative default cache duration", "annotation key in required and optional keys"}


@pytest.mark.parametrize(("name", "providers", "gate", "expected"), VALIDATE_1_34, ids=[c[0] for c in VALIDATE_1_34])
def test_validation_agrees_with_the_kubelet_1_34(name, providers, gate, expected):
    found = aggregate(validation_errors({"providers": providers}, (1, 34), token_gate=gate))
    if name in _WORDED_DIFFERENTLY:
        assert bool(found) is bool(expected)
    else:
        assert found == expected


# Test_readCredentialProviderConfig: the decoder (kind, group/version, strict fields). Upstream
# checks that the error contains expectErr.
def document(api_version: str, **provider_fields) -> dict:
    entry = {
        "name": "test",
        "matchImages": ["registry.io/foobar"],
        "defaultCacheDuration": "10m",
        "apiVersion": f"{GROUP}/v1alpha1",
        "args": ["--v=5"],
        "env": [{"name": "FOO", "value": "BAR"}],
        **provider_fields,
    }
    return {"kind": "CredentialProviderConfig", "apiVersion": api_version, "providers": [entry]}


READ = [
    ("config with 1 plugin and 1 image matcher", document("kubelet.config.k8s.io/v1alpha1"), ""),
    (
        "config with 1 plugin and a wildcard image match",
        document("kubelet.config.k8s.io/v1alpha1", matchImages=["registry.io/*"]),
        "",
    ),
    (
        "v1beta1 config",
        document("kubelet.config.k8s.io/v1beta1", apiVersion=f"{GROUP}/v1beta1"),
        "",
    ),
    ("v1 config", document("kubelet.config.k8s.io/v1", apiVersion=V1), ""),
    (
        "config with wrong Kind",
        {**document("kubelet.config.k8s.io/v1alpha1"), "kind": "WrongKind"},
        'no kind "WrongKind" is registered for version "kubelet.config.k8s.io/v1alpha1"',
    ),
    (
        "config with wrong apiversion",
        document("foobar/v1alpha1"),
        'no kind "CredentialProviderConfig" is registered for version "foobar/v1alpha1',
    ),
    (
        "config with invalid typo",
        document("kubelet.config.k8s.io/v1", unknownField="should not be here"),
        'strict decoding error: unknown field "providers[0].unknownField"',
    ),
    (
        "v1alpha1 config with token attributes should fail",
        document("kubelet.config.k8s.io/v1alpha1", tokenAttributes={"serviceAccountTokenAudience": "audience"}),
        'strict decoding error: unknown field "providers[0].tokenAttributes"',
    ),
    (
        "v1beta1 config with token attributes should fail",
        document(
            "kubelet.config.k8s.io/v1beta1",
            apiVersion=f"{GROUP}/v1beta1",
            tokenAttributes={"serviceAccountTokenAudience": "audience"},
        ),
        'strict decoding error: unknown field "providers[0].tokenAttributes"',
    ),
]


@pytest.mark.parametrize(("name", "config", "expected"), READ, ids=[c[0] for c in READ])
def test_decoding_agrees_with_the_kubelet(name, config, expected):
    found = aggregate(decode_errors(config))
    assert (expected in found) if expected else found == ""


# --- version by version (docs/kubernetes.md's matrix) ----------------------------------------------


def pod_identity_config(cache_type: str | None = "ServiceAccount") -> dict:
    attributes = {"serviceAccountTokenAudience": "sts.aliyuncs.com", "requireServiceAccount": False}
    if cache_type:
        attributes["cacheType"] = cache_type
    return document("kubelet.config.k8s.io/v1", apiVersion=V1, tokenAttributes=attributes)


@pytest.mark.parametrize(
    ("version", "cache_type", "gate", "expected"),
    [
        ((1, 34), "ServiceAccount", None, ""),
        ((1, 34), None, None, "providers.tokenAttributes.cacheType: Required value"),
        ((1, 33), None, True, ""),
        ((1, 33), None, None, "feature gate is disabled"),  # alpha: off unless turned on
        ((1, 33), "ServiceAccount", True, 'unknown field "providers[0].tokenAttributes.cacheType"'),
        ((1, 32), None, True, 'unknown field "providers[0].tokenAttributes"'),
        ((1, 36), "ServiceAccount", None, ""),  # newer kubelets read 1.34's config
    ],
)
def test_token_attributes_version_by_version(version, cache_type, gate, expected):
    found = aggregate(config_errors(pod_identity_config(cache_type), version, token_gate=gate))
    assert (expected in found) if expected else found == ""


@pytest.mark.parametrize(
    ("version", "api_version", "loads"),
    [((1, 24), "v1beta1", True), ((1, 25), "v1", False), ((1, 26), "v1", True), ((1, 34), "v1alpha1", True)],
)
def test_api_versions_version_by_version(version, api_version, loads):
    config = document(f"kubelet.config.k8s.io/{api_version}", apiVersion=f"{GROUP}/{api_version}")
    assert (config_errors(config, version) == []) is loads


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("Kubernetes v1.33.2", (1, 33)),  # what `kubelet --version` prints (component-base verflag)
        ("Kubernetes v1.34.0-rc.1", (1, 34)),
        ("v1.30.4-eks-a737599", (1, 30)),
        ("1.33", (1, 33)),
        ("v1.26", (1, 26)),
        ("Kubernetes", None),
        ("1", None),
        ("latest", None),
        ("", None),
    ],
)
def test_kubelet_versions_are_read_as_written(text, version):
    assert parse_version(text) == version
