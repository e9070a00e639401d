"""Which Alibaba Cloud credentials a helper call uses, decided without the SDK.

`effective_environ` prepares the environment the SDK's credential providers will read
(alibabacloud-credentials reads it once, at import). `fingerprint` names the first credential
source of the chain that is there to try (a profile wrapper: its own file, the only one it
uses), so cached tokens are keyed by it: a different credentials file, profile, access key or
role never sees another's token. It is a prediction: credctl.acr.login.token keeps a token
only when the source the SDK actually used is the one predicted. The fingerprint never
contains a secret: files are named by path, profile and (device, inode, size, modification and
change times), access keys by their id.
"""

from __future__ import annotations

import os
from stat import S_ISREG

from credctl.paths import home

_AK_VARS = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
_OIDC_VARS = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
_OTHER_TOOLS_VARS = ("ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA")


def effective_environ(environ=os.environ) -> dict[str, str]:
    """The environment for the SDK's credential chain.

    - The Go helper's (and credentials-go's) INI file ~/.alibabacloud/credentials is used when no
      ALIBABA_CLOUD_CREDENTIALS_FILE is set: the Python SDK alone looks for credentials.ini.
    - In a profile wrapper (CREDCTL_ACR_PROFILE), the profile's credentials file is the only
      source: access keys or roles in the environment, and the CLI's config.json (which the chain
      reads first), must not override the account the wrapper was made for; nor may another
      tool's ALIBABA_CLOUD_PROFILE (a section) or ALIBABA_CLOUD_ECS_METADATA (a role name).
    - DEBUG=sdk would make the SDK log request headers, security tokens included: never here.
    """
    env = dict(environ)
    if not env.get("ALIBABA_CLOUD_CREDENTIALS_FILE"):
        go_default = os.path.join(home(env), ".alibabacloud", "credentials")
        if os.path.isfile(go_default):
            env["ALIBABA_CLOUD_CREDENTIALS_FILE"] = go_default
    if env.get("CREDCTL_ACR_PROFILE"):
        for name in (*_AK_VARS, *_OIDC_VARS, *_OTHER_TOOLS_VARS):
            env.pop(name, None)
        env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
    if "sdk" in env.get("DEBUG", ""):
        env.pop("DEBUG")
    return env


def _file_source(kind: str, path: str, profile: str) -> str | None:
    """kind:path:profile and the file's identity, or None when path is not a regular file (the
    SDK then skips it). The change time moves on every write, chmod and rename onto the path."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if not S_ISREG(status.st_mode):
        return None
    file_id = f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"
    return f"{kind}:{os.path.realpath(path)}:{profile}:{file_id}"


def fingerprint(env: dict[str, str]) -> str:
    """The credential source the chain tries first, in its order (see the docs page); in a
    profile wrapper its own file ("missing:PATH" when that is not a file: nothing serves it)."""
    if env.get("CREDCTL_ACR_PROFILE"):
        path = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE", "")
        return _file_source("file", path, "default") or f"missing:{path}"
    if env.get("ALIBABA_CLOUD_ACCESS_KEY_ID") and env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        return "env:" + env["ALIBABA_CLOUD_ACCESS_KEY_ID"]
    if all(env.get(name) for name in _OIDC_VARS):
        return f"oidc:{env['ALIBABA_CLOUD_ROLE_ARN']}:{env['ALIBABA_CLOUD_OIDC_PROVIDER_ARN']}"
    profile = env.get("ALIBABA_CLOUD_PROFILE", "")
    if env.get("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "").lower() != "true":
        cli = _file_source("cli", os.path.join(home(env), ".aliyun", "config.json"), profile)
        if cli:
            return cli
    ini = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or os.path.join(home(env), ".alibabacloud", "credentials.ini")
    found = _file_source("file", ini, profile or "default")
    if found:
        return found
    if env.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "").lower() != "true":
        return "ecs:" + env.get("ALIBABA_CLOUD_ECS_METADATA", "")
    return "uri:" + env.get("ALIBABA_CLOUD_CREDENTIALS_URI", "")
