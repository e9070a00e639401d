"""credctl.posixfs against os and os.path: each function gives what the one it names gives.

The helper paths use these instead of os (which costs about 1 ms a start to import), so a
difference would be a difference in which file a helper trusts or reads. The cases are the
shapes os.path's own tests (CPython Lib/test/test_posixpath.py) exercise: empty parts, leading
double slashes, .. at the root, trailing slashes, relative, absolute and dangling links, link
chains and loops.
"""

import os
import pwd

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credctl import posixfs

PATHS = [
    "", "/", "//", "///", "////a", "a", "a/", "a//b", "/a/b/", "//a/b", "///a//b//", ".", "./", "..", "../..",
    "/..", "/../a", "a/../..", "a/./b/../c", "/a/b/../../..", "../a/../../b", "a/..", "a/../", "//..", "~", "...",
    "a/...", ".a/.b", "/a/./", "a/b/c/d/../../..",
]  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_path_arithmetic_is_os_paths(path):
    assert posixfs.normpath(path) == os.path.normpath(path)
    assert posixfs.dirname(path) == os.path.dirname(path)
    assert posixfs.basename(path) == os.path.basename(path)
    assert posixfs.abspath(path) == os.path.abspath(path)
    assert posixfs.join("/base", path) == os.path.join("/base", path)
    assert posixfs.join(path, "x", path) == os.path.join(path, "x", path)


@settings(max_examples=400)
@given(st.text(alphabet="/.a~", max_size=14))
def test_path_arithmetic_is_os_paths_for_any_path(path):
    test_path_arithmetic_is_os_paths(path)


def links(tmp_path):
    """A tree with every kind of link os.path.realpath meets; returns the paths to look up."""
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "file").write_text("x")
    table = {
        "abs": str(tmp_path / "real"),
        "rel": "real/deep",
        "up": "../",
        "chain": "rel",
        "dangling": "nowhere/at/all",
        "self": "self",
        "loop1": "loop2",
        "loop2": "loop1",
        "to_file": "real/file",
        "dotdot": "real/deep/..",
        "through": "abs/deep",
    }
    for name, target in table.items():
        os.symlink(target, tmp_path / name)
    os.symlink("../../real", tmp_path / "real" / "deep" / "back")
    tails = ["", "/", "/deep", "/deep/..", "/x/y", "/..", "/../real/deep/back/file", "/./deep/"]
    return [str(tmp_path / name) + tail for name in [*table, "real", "missing"] for tail in tails]


def test_realpath_is_os_paths(tmp_path):
    for path in links(tmp_path):
        assert posixfs.realpath(path) == os.path.realpath(path), path


def test_realpath_of_a_relative_path_starts_at_the_working_directory(tmp_path, monkeypatch):
    paths = links(tmp_path)
    monkeypatch.chdir(tmp_path / "real" / "deep")
    for path in ["", ".", "..", "back", "back/deep/back/..", "../../rel/../abs", "../../loop1/x"]:
        assert posixfs.realpath(path) == os.path.realpath(path), path
    for path in paths:
        relative = os.path.relpath(path)
        assert posixfs.realpath(relative) == os.path.realpath(relative), relative


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "..", ".", "a/b", "/x", "c/.."]), min_size=1, max_size=3),
    st.lists(st.sampled_from(["a", "b", "c", "..", "d"]), max_size=4),
)
def test_realpath_is_os_paths_for_any_links(tmp_path_factory, targets, walk):
    """Random links among a, b and c (to each other, up, to a folder d, to nothing)."""
    base = tmp_path_factory.mktemp("links")
    (base / "d").mkdir()
    for name, target in zip("abc", targets, strict=False):
        os.symlink(target, base / name)
    for tail in ("", *walk):
        path = str(base) + "/" + tail
        assert posixfs.realpath(path) == os.path.realpath(path), (targets, path)
    path = str(base / "/".join(walk)) if walk else str(base)
    assert posixfs.realpath(path) == os.path.realpath(path), (targets, path)


def test_file_kinds_are_os_paths(tmp_path):
    for path in [*links(tmp_path), "/dev/null", "/proc/self", "\0", "/nonexistent"]:
        try:
            expected = (os.path.isdir(path), os.path.islink(path), os.path.exists(path), os.path.isfile(path))
        except ValueError:
            expected = (False, False, False, False)
        assert (posixfs.is_dir(path), posixfs.is_link(path), posixfs.exists(path), posixfs.is_file(path)) == expected


def test_expanduser_is_os_paths(monkeypatch):
    root = pwd.getpwuid(0).pw_name
    monkeypatch.setenv("HOME", "/home/someone/")
    for path in ["~", "~/", "~/a", f"~{root}", f"~{root}/x", "~no-such-user-credctl/x", "a/~", "/~", "~~"]:
        assert posixfs.expanduser(path, os.environ) == os.path.expanduser(path), path


def test_file_names_encode_as_os_does():
    for name in ["plain", "caf\u00e9", "bad\udcff byte"]:
        assert posixfs.fs_encode(name) == os.fsencode(name)
        assert posixfs.fs_decode(os.fsencode(name)) == os.fsdecode(os.fsencode(name)) == name


def test_environ_follows_os_environ(monkeypatch):
    """The default environment of the helper paths' functions is os.environ as it is at the
    call, once os is loaded (as here): a change is seen, and it counts as the process's own."""
    monkeypatch.setenv("CREDCTL_POSIXFS_PROBE", "one")
    environ = posixfs.ENVIRON
    assert environ["CREDCTL_POSIXFS_PROBE"] == environ.get("CREDCTL_POSIXFS_PROBE") == "one"
    monkeypatch.setenv("CREDCTL_POSIXFS_PROBE", "two")
    assert dict(environ) == dict(os.environ) == {**environ}
    assert "CREDCTL_POSIXFS_PROBE" in environ and len(environ) == len(os.environ)
    assert environ.copy() == dict(os.environ.items()) and sorted(environ) == sorted(os.environ)
    monkeypatch.delenv("CREDCTL_POSIXFS_PROBE")
    assert environ.get("CREDCTL_POSIXFS_PROBE", "gone") == "gone"
    with pytest.raises(KeyError):
        environ["CREDCTL_POSIXFS_PROBE"]
    assert posixfs.is_process_environ(environ) and posixfs.is_process_environ(os.environ)
    assert not posixfs.is_process_environ(dict(os.environ))


def test_as_dict_copies_any_environment(monkeypatch):
    monkeypatch.setenv("CREDCTL_POSIXFS_PROBE", "three")
    copied = posixfs.as_dict(posixfs.ENVIRON)
    assert copied == dict(os.environ) and type(copied) is dict
    given = {"A": "1"}
    assert posixfs.as_dict(given) == given and posixfs.as_dict(given) is not given
