"""The kubelet's image matching, modelled for the tests (no kubelet binary is packaged here).

From the v1 API reference (kubelet-config.v1 matchImages, credentialprovider.v1 auth keys) and
the kubelet's credentialprovider.URLsMatch: both sides are parsed as schemeless URLs; the ports
must be equal (a pattern without a port matches only images without one); the hosts must have
the same number of dot-separated parts, each matched by filepath.Match (a '*' stays within its
part); the pattern's path must be a prefix of the image's path.
"""

from fnmatch import fnmatchcase
from urllib.parse import urlsplit


def _split(reference: str) -> tuple[list[str], str, str]:
    parts = urlsplit("https://" + reference)
    netloc = parts.netloc
    host, port = netloc, ""
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest.removeprefix(":")
    elif netloc.count(":") == 1:
        host, port = netloc.split(":")
    return host.split("."), port, parts.path


def matches(pattern: str, image: str) -> bool:
    """Does the kubelet apply pattern (a matchImages entry or an auth key) to image?"""
    pattern_parts, pattern_port, pattern_path = _split(pattern)
    image_parts, image_port, image_path = _split(image)
    if pattern_port != image_port or len(pattern_parts) != len(image_parts):
        return False
    if not image_path.startswith(pattern_path):
        return False
    return all(fnmatchcase(target, glob) for glob, target in zip(pattern_parts, image_parts, strict=True))
