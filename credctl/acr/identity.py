"""Which Alibaba Cloud credentials a helper call uses, decided without the SDK.

`effective_environ` prepares the environment the SDK's default credential chain will read
(alibabacloud-credentials reads it once, at import). `fingerprint` names the credential source
that chain will pick, so cached tokens are keyed by it: a different credentials file, profile,
access key or role never sees another's token. The fingerprint never contains a secret: files
are named by path, profile and (inode, mtime, size), access keys by their id.
"""

from __future__ import annotations

import os

from credctl.paths import home

_AK_VARS = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
_OIDC_VARS = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")


def effective_environ(environ=os.environ) -> dict[str, str]:
    """The environment for the SDK's credential chain.

    - The Go helper's (and credentials-go's) INI file ~/.alibabacloud/credentials is used when no
      ALIBABA_CLOUD_CREDENTIALS_FILE is set: the Python SDK alone looks for credentials.ini.
    - In a profile wrapper (CREDCTL_ACR_PROFILE), the profile's credentials file is the only
      source: access keys or roles in the environment, and the CLI's config.json (which the chain
      reads first), must not override the account the wrapper was made for.
    - DEBUG=sdk would make the SDK log request headers, security tokens included: never here.
    """
    env = dict(environ)
    if not env.get("ALIBABA_CLOUD_CREDENTIALS_FILE"):
        go_default = os.path.join(home(env), ".alibabacloud", "credentials")
        if os.path.isfile(go_default):
            env["ALIBABA_CLOUD_CREDENTIALS_FILE"] = go_default
    if env.get("CREDCTL_ACR_PROFILE"):
        for name in (*_AK_VARS, *_OIDC_VARS, "ALIBABA_CLOUD_CREDENTIALS_URI"):
            env.pop(name, None)
        env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
    if "sdk" in env.get("DEBUG", ""):
        env.pop("DEBUG")
    return env


def _file_source(kind: str, path: str, profile: str) -> str | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return f"{kind}:{os.path.realpath(path)}:{profile}:{status.st_ino}:{status.st_mtime_ns}:{status.st_size}"


def fingerprint(env: dict[str, str]) -> str:
    """The credential source the default chain picks first, in its order (see the docs page)."""
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
