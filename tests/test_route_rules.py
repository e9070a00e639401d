"""The router's glob rule against the kubelet's: credctl.routes matches a `*`-only label without
loading credctl.gostd (Docker runs the router for every registry), so that matcher is held to
gostd.path_match (Go's filepath.Match, itself held to Go's match_test.go in
tests/test_kubelet_rules.py), and routes answer TestURLsMatch's host rows as the kubelet does."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kubelet_rules import URLS_MATCH

from credctl.gostd import path_match
from credctl.routes import GLOB, Routes, Rule, _star_match

labels = st.text(alphabet="ab-", max_size=8)
globs = st.text(alphabet="ab-*", max_size=8)


@settings(max_examples=3000, deadline=None)
@given(globs, labels)
def test_a_star_glob_matches_as_filepath_match_does(glob, text):
    assert _star_match(glob, text) == path_match(glob, text)


@pytest.mark.parametrize(
    ("glob", "text"),
    [("*", ""), ("**", "a"), ("a*a", "a"), ("a*a", "aa"), ("*ab*", "aab"), ("a*b*a", "aba"), ("-*-", "-")],
)
def test_the_edges_of_a_star_glob(glob, text):
    assert _star_match(glob, text) == path_match(glob, text)


# TestURLsMatch (kubernetes/kubernetes pkg/credentialprovider/keyring_test.go): its glob rows
# without a path, as a route; the kubelet's ports must be equal, and so must a glob's with a port.
HOST_ROWS = [(glob, target, match) for glob, target, match in URLS_MATCH if "*" in glob and "/" not in glob + target]


@pytest.mark.parametrize(("glob", "target", "matches"), HOST_ROWS)
def test_routes_answer_the_kubelets_host_rows(glob, target, matches):
    found = Routes({glob: "pass"}, found={}).route_for(target, {})
    assert found == (Rule(glob, "pass", GLOB) if matches else None)


def test_a_hand_written_glob_beyond_star_is_matched_by_filepath_match():
    """route add takes `*` alone; a glob written into settings.json by hand with a class is
    matched as the kubelet would (a pattern without `*` is an exact key, never a glob)."""
    routes = Routes({"reg[0-9]*.example.com": "pass", "re?.example.com": "keyring"}, found={})
    assert routes.route_for("reg7x.example.com", {}) == Rule("reg[0-9]*.example.com", "pass", GLOB)
    assert routes.route_for("regxx.example.com", {}) is None
    assert routes.route_for("rex.example.com", {}) is None
