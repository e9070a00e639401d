"""Which Alibaba Cloud credentials a helper call uses, decided without the SDK.

`effective_environ` prepares the environment the SDK's credential providers will read
(alibabacloud-credentials reads it once, at import). `fingerprint` names the first credential
source of the chain that is there to try (a profile wrapper: its own source, the only one it
uses), so cached tokens are keyed by it: a different credentials file, profile, access key or
role never sees another's token. It is a prediction: credctl.acr.login.token keeps a token
only when the source the SDK actually used is the one predicted. The fingerprint never
contains a secret: files are named by path, profile and (device, inode, size, modification and
change times), access keys by their id.
"""

from __future__ import annotations

import posix
from stat import S_ISREG

from credctl.paths import home
from credctl.posixfs import ENVIRON, as_dict, is_file, join, realpath

_AK_VARS = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
_OIDC_VARS = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
_OTHER_TOOLS_VARS = ("ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA")

# What a profile's wrapper (credctl.acr.profiles) exports; credctl.acr.login.profile_variables
# writes them from the profile's record, the SDK side (credctl.acr.tokens) reads them. Kinds:
#   file  ALIBABA_CLOUD_CREDENTIALS_FILE, and SECTION when the INI section is not [default]
#   cli   CLI_CONFIG and CLI_PROFILE: a profile of the aliyun CLI's config.json
#   role  ROLE_ARN (EXTERNAL_ID, SESSION_NAME, DURATION) assumed with a base: a file or cli
#         profile's variables, or ROLE_SOURCE=chain for the environment's own chain
PROFILE = "CREDCTL_ACR_PROFILE"
SECTION = "CREDCTL_ACR_SECTION"
CLI_CONFIG = "CREDCTL_ACR_CLI_CONFIG"
CLI_PROFILE = "CREDCTL_ACR_CLI_PROFILE"
ROLE_ARN = "CREDCTL_ACR_ROLE_ARN"
EXTERNAL_ID = "CREDCTL_ACR_EXTERNAL_ID"
SESSION_NAME = "CREDCTL_ACR_ROLE_SESSION_NAME"
DURATION = "CREDCTL_ACR_ROLE_DURATION"
ROLE_SOURCE = "CREDCTL_ACR_ROLE_SOURCE"
CHAIN = "chain"  # ROLE_SOURCE's one value: the role's base credentials are the environment's chain
DEFAULT_SECTION = "default"
# Unset by every wrapper before it exports its own: a variable of another kind left in the
# environment Docker runs it with would change what the profile is.
KIND_VARIABLES = (SECTION, CLI_CONFIG, CLI_PROFILE, ROLE_ARN, EXTERNAL_ID, SESSION_NAME, DURATION, ROLE_SOURCE)


def base_kind(env: dict[str, str]) -> str:
    """Where a profile wrapper's own credentials come from: "file", "cli" or "chain" (a role's
    base only). A role profile assumes its role with these; the others use them directly."""
    if env.get(ROLE_ARN) and env.get(ROLE_SOURCE) == CHAIN:
        return CHAIN
    return "cli" if env.get(CLI_CONFIG) else "file"


def effective_environ(environ=ENVIRON) -> dict[str, str]:
    """The environment for the SDK's credential chain.

    - The Go helper's (and credentials-go's) INI file ~/.alibabacloud/credentials is used when no
      ALIBABA_CLOUD_CREDENTIALS_FILE is set: the Python SDK alone looks for credentials.ini.
    - In a profile wrapper (CREDCTL_ACR_PROFILE), the profile's own source is the only one: access
      keys or roles in the environment, and the CLI's config.json (which the chain reads first),
      must not override the account the wrapper was made for; nor may another tool's
      ALIBABA_CLOUD_PROFILE (a section) or ALIBABA_CLOUD_ECS_METADATA (a role name). The one
      exception is a role profile made with `--source chain`: its base is that chain, by choice.
      A CLI-config profile reads config.json itself, so the SDK's switch for it stays on.
    - DEBUG=sdk would make the SDK log request headers, security tokens included: never here.
    """
    env = as_dict(environ)
    if not env.get("ALIBABA_CLOUD_CREDENTIALS_FILE"):
        go_default = join(home(env), ".alibabacloud", "credentials")
        if is_file(go_default):
            env["ALIBABA_CLOUD_CREDENTIALS_FILE"] = go_default
    if env.get(PROFILE) and base_kind(env) != CHAIN:
        for name in (*_AK_VARS, *_OIDC_VARS, *_OTHER_TOOLS_VARS):
            env.pop(name, None)
        if base_kind(env) == "cli":
            env.pop("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", None)
        else:
            env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"
    if "sdk" in env.get("DEBUG", ""):
        env.pop("DEBUG")
    return env


def _file_source(kind: str, path: str, profile: str) -> str | None:
    """kind:path:profile and the file's identity, or None when path is not a regular file (the
    SDK then skips it). The change time moves on every write, chmod and rename onto the path."""
    try:
        status = posix.stat(path)
    except OSError:
        return None
    if not S_ISREG(status.st_mode):
        return None
    file_id = f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"
    return f"{kind}:{realpath(path)}:{profile}:{file_id}"


def fingerprint(env: dict[str, str]) -> str:
    """The credential source the chain tries first, in its order (see the docs page); in a
    profile wrapper its own source (profile_fingerprint)."""
    if env.get(PROFILE):
        return profile_fingerprint(env)
    return _chain_fingerprint(env)


def profile_fingerprint(env: dict[str, str]) -> str:
    """A profile wrapper's source: role:ARN:EXTERNAL_ID:<its base's>, or its base's alone."""
    base = base_fingerprint(env)
    if not env.get(ROLE_ARN) or base.startswith("missing:"):
        return base  # a role whose base file is gone: nothing serves it, as health says
    return f"role:{env[ROLE_ARN]}:{env.get(EXTERNAL_ID, '')}:{base}"


def base_fingerprint(env: dict[str, str]) -> str:
    """The source of a profile's own credentials: its INI file and section, or its CLI config
    and profile, each with the file's identity ("missing:PATH" when the file is not there:
    nothing serves it); or, for a role made with `--source chain`, the chain's source."""
    kind = base_kind(env)
    if kind == CHAIN:
        return _chain_fingerprint(env)
    if kind == "cli":
        path = env.get(CLI_CONFIG, "")
        return _file_source("cli", path, env.get(CLI_PROFILE, "")) or f"missing:{path}"
    path = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE", "")
    return _file_source("file", path, env.get(SECTION) or DEFAULT_SECTION) or f"missing:{path}"


def _chain_fingerprint(env: dict[str, str]) -> str:
    """The source the SDK's default chain tries first (tokens._chain_credential walks it)."""
    if env.get("ALIBABA_CLOUD_ACCESS_KEY_ID") and env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        return "env:" + env["ALIBABA_CLOUD_ACCESS_KEY_ID"]
    if all(env.get(name) for name in _OIDC_VARS):
        return f"oidc:{env['ALIBABA_CLOUD_ROLE_ARN']}:{env['ALIBABA_CLOUD_OIDC_PROVIDER_ARN']}"
    profile = env.get("ALIBABA_CLOUD_PROFILE", "")
    if env.get("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "").lower() != "true":
        cli = _file_source("cli", join(home(env), ".aliyun", "config.json"), profile)
        if cli:
            return cli
    ini = env.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or join(home(env), ".alibabacloud", "credentials.ini")
    found = _file_source("file", ini, profile or "default")
    if found:
        return found
    if env.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "").lower() != "true":
        return "ecs:" + env.get("ALIBABA_CLOUD_ECS_METADATA", "")
    return "uri:" + env.get("ALIBABA_CLOUD_CREDENTIALS_URI", "")
