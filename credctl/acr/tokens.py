"""Temporary ACR login tokens from the Alibaba Cloud API, through the official Python SDK.

Only the cold path imports this (the SDK costs about half a second to import). Enterprise
edition: ListInstance (exact name match) then GetAuthorizationToken, API version 2018-12-01.
Personal edition: GET /tokens of API version 2016-06-07 through the generic OpenAPI client
(the 2016 SDK package drops the response body). API endpoint: credctl.acr.endpoints' rule
(cr.<region>.aliyuncs.com, cr-vpc.<region>.aliyuncs.com first for VPC nodes and -vpc registry
hosts, or CREDCTL_ACR_ENDPOINT: http://host:port or https://host, for private endpoints and tests).
CREDCTL_ACR_TIMEOUT (seconds) replaces the 10 s wait for an answer, for slow links and tests.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager, nullcontext

from credctl import __version__
from credctl.acr import identity as sources
from credctl.acr.cache import Token
from credctl.acr.domains import AcrRegistry
from credctl.acr.identity import effective_environ
from credctl.acr.podidentity import PodIdentity
from credctl.errors import StoreError, StoreUnavailable

CONNECT_TIMEOUT_MS = 5_000
READ_TIMEOUT_MS = 10_000
PAGE_SIZE = 100


def _quiet_sdk() -> None:
    """The credential providers log (tracebacks included) to stderr, which Docker shows the user."""
    for name in ("credentials", "apscheduler", "darabonba", "alibabacloud_credentials"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _read_timeout_ms(environ: dict[str, str]) -> int:
    text = environ.get("CREDCTL_ACR_TIMEOUT", "")
    if not text:
        return READ_TIMEOUT_MS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise StoreUnavailable(f"CREDCTL_ACR_TIMEOUT must be a number of seconds (at most 600), not {text!r}")
    return max(1, int(seconds * 1000))


def _replace_environment(environ) -> dict[str, str]:
    """Make os.environ exactly environ; returns what it was."""
    before = dict(os.environ)
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    os.environ.update(environ)
    return before


@contextmanager
def _environment(environ):
    """The SDK reads os.environ (the credential chain, DEBUG, proxies): while it works, os.environ
    is the one its chain should see (identity.effective_environ of the caller's environ), and
    the process's own comes back afterwards, so a program calling credctl.acr.get_credentials
    keeps its environment and its next call sees that call's credentials."""
    before = _replace_environment(effective_environ(environ))
    try:
        yield
    finally:
        _replace_environment(before)


def _config(region: str, environ: dict[str, str], credential=None, domain: str = ""):
    """(client configuration, the kind of credential source that answered: one of identity.py's
    fingerprint kinds, or "pod"); call it inside _environment(environ). credential: a function
    of the STS endpoint (None: the SDK's choice) making an SDK credential after the reload below
    (a pod's role); default: the profile's file in a profile wrapper, else the environment's
    chain. domain: the registry's host, which may ask for the VPC endpoints (endpoints.py)."""
    import importlib

    from alibabacloud_credentials.utils import auth_constant, auth_util
    from alibabacloud_tea_openapi.models import Config

    # in a process that already imported the SDK (a program calling credctl.acr.get_credentials
    # twice), the chain would still read the first call's environment, and the token of those
    # credentials would be cached under this call's identity. Re-read it (both modules only hold
    # values taken from os.environ; the providers look them up at use).
    importlib.reload(auth_util)
    importlib.reload(auth_constant)
    _quiet_sdk()
    timeouts = (CONNECT_TIMEOUT_MS, _read_timeout_ms(environ))
    endpoint = _api_endpoint(domain, region, environ)  # first: a malformed override fails before any call

    def sts():
        return _sts_endpoint(domain, region, environ)

    if credential:
        kind, credential = "pod", credential(sts())
    elif environ.get(sources.PROFILE):
        kind, credential = _profile_credential(environ, timeouts, sts)
    else:
        kind, credential = _chain_credential(environ, timeouts, sts)
    config = Config(
        credential=credential,
        region_id=region,
        connect_timeout=CONNECT_TIMEOUT_MS,
        read_timeout=_read_timeout_ms(environ),
        user_agent=f"credctl/{__version__}",
        # always set: the generic client behind the personal edition has no endpoint rule (the
        # cr20181201 client has; without this it sent its requests to host None), and the VPC
        # choice is credctl's (endpoints.py), not that rule's
        endpoint=endpoint.host,
        protocol=endpoint.scheme,
    )
    return config, kind


def _api_endpoint(domain: str, region: str, environ: dict[str, str]):
    """The ACR API endpoint every call of this fetch uses: the first of endpoints.api_endpoints
    that takes a connection (the VPC one, else the public one)."""
    from credctl.acr import endpoints

    return endpoints.first_reachable(endpoints.api_endpoints(domain, region, environ), CONNECT_TIMEOUT_MS / 1000)[0]


def _sts_endpoint(domain: str, region: str, environ: dict[str, str]) -> str | None:
    """The STS endpoint of this fetch's AssumeRoleWithOIDC: the first of endpoints.sts_endpoints
    that takes a connection; None leaves the choice to the SDK."""
    from credctl.acr import endpoints

    return endpoints.first_reachable(endpoints.sts_endpoints(domain, region, environ), CONNECT_TIMEOUT_MS / 1000)[0]


def _chain_credential(environ: dict[str, str], timeouts: tuple[int, int], sts=lambda: None):
    """(kind, SDK credential) of the first source of the SDK's default chain that answers."""
    from alibabacloud_credentials.client import Client as CredentialClient

    kind, provider = _chain_provider(environ, timeouts, sts)
    return kind, CredentialClient(provider=provider)


def _chain_provider(environ: dict[str, str], timeouts: tuple[int, int], sts=lambda: None):
    """(kind, SDK credentials provider) of the first source of the SDK's default chain that answers.

    The chain of alibabacloud_credentials.provider.default.DefaultCredentialsProvider, in its
    order and with its conditions, walked here so that the source that answered is known (the
    token cache is keyed by it, see credctl.acr.login.token): the environment's access key, OIDC
    (all three of its variables set; STS at sts(), the endpoint rule's choice, as for pods),
    the CLI's config.json, the INI credentials file, the ECS instance role, then
    ALIBABA_CLOUD_CREDENTIALS_URI. The credential keeps asking the provider that answered."""
    from alibabacloud_credentials import provider as sdk
    from alibabacloud_credentials.exceptions import CredentialException
    from alibabacloud_credentials.http import HttpOptions
    from alibabacloud_credentials.utils import auth_util

    def oidc():
        options = HttpOptions(connect_timeout=timeouts[0], read_timeout=timeouts[1])
        return sdk.OIDCRoleArnCredentialsProvider(sts_endpoint=sts(), http_options=options)

    chain = [("env", sdk.EnvironmentVariableCredentialsProvider)]
    if auth_util.enable_oidc_credential:
        chain.append(("oidc", oidc))
    chain += [("cli", sdk.CLIProfileCredentialsProvider), ("file", sdk.ProfileCredentialsProvider)]
    if auth_util.environment_ecs_metadata_disabled.lower() != "true":
        chain.append(("ecs", sdk.EcsRamRoleCredentialsProvider))
    if auth_util.environment_credentials_uri:
        chain.append(("uri", sdk.URLCredentialsProvider))
    errors = []
    for kind, make in chain:
        try:
            provider = make()
            if provider.get_credentials() is None:
                raise CredentialException("no credentials")
        except StoreUnavailable:
            raise
        except Exception as err:  # the SDK's own chain goes on after any provider's failure too
            errors.append(f"{kind}: {err}")
            continue
        return kind, provider
    raise CredentialException(f"unable to load credentials from any of the providers in the chain: {errors}")


PROFILE_TYPES = ("access_key", "ram_role_arn", "oidc_role_arn", "ecs_ram_role", "rsa_key_pair")
# The aliyun CLI's profile modes alibabacloud-credentials (1.0.12) builds a credential for, as
# its CLIProfileCredentialsProvider._get_credentials_provider does; the CLI's others
# (RamRoleArnWithRoleName, CredentialsURI, RsaKeyPair, ...) it refuses.
CLI_MODES = ("AK", "StsToken", "RamRoleArn", "EcsRamRole", "OIDC", "ChainableRamRoleArn", "CloudSSO", "OAuth")
CLI_MODES += ("External",)
DEFAULT_ROLE_DURATION = 3600


def _profile_credential(environ: dict[str, str], timeouts: tuple[int, int], sts=lambda: None):
    """(kind, SDK credential) of a profile wrapper: its own source and nothing else — never the
    chain (unless a role's base is the chain by choice), whose later sources (the ECS instance
    role, another file's profile) would answer for another account when the profile cannot.
    kind is the profile's fingerprint kind ("file", "cli", "role"), or something else when a
    chain base answered from a source the cache key does not name: that token is not kept."""
    from alibabacloud_credentials.client import Client as CredentialClient

    kind, provider = _profile_provider(environ, timeouts, sts)
    return kind, CredentialClient(provider=provider)


def _profile_provider(environ: dict[str, str], timeouts: tuple[int, int], sts):
    """(kind, SDK credentials provider) of a profile: its base's, or for a role profile STS
    AssumeRole of its role with its base's credentials (external id, session name, duration
    from the wrapper; STS at sts(), the endpoint rule's choice, with credctl's time limits)."""
    if not environ.get(sources.ROLE_ARN):
        return _base_provider(environ, timeouts, sts)
    from alibabacloud_credentials.http import HttpOptions
    from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider

    name = environ[sources.PROFILE]
    base_kind, base = _base_provider(environ, timeouts, sts)
    predicted = sources.base_fingerprint(environ).partition(":")[0]
    try:
        duration = int(environ.get(sources.DURATION) or DEFAULT_ROLE_DURATION)
    except ValueError:
        raise StoreUnavailable(f"ACR profile {name}: its role duration is not a number of seconds") from None
    provider = RamRoleArnCredentialsProvider(
        credentials_provider=base,
        role_arn=environ[sources.ROLE_ARN],
        role_session_name=environ.get(sources.SESSION_NAME) or role_session_name(name),
        duration_seconds=duration,
        external_id=environ.get(sources.EXTERNAL_ID) or None,
        sts_endpoint=sts(),
        http_options=HttpOptions(connect_timeout=timeouts[0], read_timeout=timeouts[1]),
    )
    return ("role" if base_kind == predicted else f"role/{base_kind}"), provider


def role_session_name(profile: str) -> str:
    """The STS session name a role profile's AssumeRole uses unless told: credctl-NAME (2-64 characters)."""
    return f"credctl-{profile}"[:64]


def _base_provider(environ: dict[str, str], timeouts: tuple[int, int], sts):
    """(kind, SDK credentials provider) of a profile's own credentials: its INI file's section,
    its CLI config's profile, or (a role's base, by choice) the environment's chain.
    StoreUnavailable, naming the file and what is wrong with it (never a value from it), when
    the file cannot serve."""
    name, kind = environ[sources.PROFILE], sources.base_kind(environ)
    if kind == sources.CHAIN:
        return _chain_provider(environ, timeouts, sts)
    if kind == "cli":
        path, profile = environ[sources.CLI_CONFIG], environ.get(sources.CLI_PROFILE, "")
        problem = cli_profile_problem(path, profile)
        if problem:
            raise StoreUnavailable(f"ACR profile {name}: the aliyun CLI config {path} {problem}")
        return "cli", _cli_provider(path, profile, timeouts, sts)
    from alibabacloud_credentials.provider import ProfileCredentialsProvider

    path = environ.get("ALIBABA_CLOUD_CREDENTIALS_FILE", "")
    section = environ.get(sources.SECTION) or sources.DEFAULT_SECTION
    if not path:
        raise StoreUnavailable(
            f"ACR profile {name} names no credentials file (ALIBABA_CLOUD_CREDENTIALS_FILE): "
            f"make it again with `credctl acr add-profile {name}`"
        )
    problem = _profile_file_problem(path, section)
    if problem:
        raise StoreUnavailable(f"ACR profile {name}: its credentials file {path} {problem}")
    # profile_name given: ALIBABA_CLOUD_PROFILE, which the SDK would read, is another tool's
    return "file", ProfileCredentialsProvider(profile_file=path, profile_name=section)


def _cli_provider(path: str, profile: str, timeouts: tuple[int, int], sts):
    """The SDK's own reading of one profile of the CLI's config (every mode, and the write-back
    of refreshed OAuth and External credentials), except that its STS calls go where credctl's
    go (sts(): ALIBABA_CLOUD_STS_ENDPOINT, else the endpoint rule's VPC choice) with credctl's time limits:
    the SDK builds those providers from the profile's sts_region alone."""
    from alibabacloud_credentials.provider import CLIProfileCredentialsProvider

    endpoint = sts()

    class Provider(CLIProfileCredentialsProvider):
        def _get_credentials_provider(self, config, profile_name):
            provider = super()._get_credentials_provider(config, profile_name)
            if hasattr(provider, "_sts_endpoint"):  # RamRoleArn, ChainableRamRoleArn, OIDC
                if endpoint:
                    provider._sts_endpoint = endpoint
                provider._runtime_options.update(connectTimeout=timeouts[0], readTimeout=timeouts[1])
            return provider

    return Provider(profile_name=profile, profile_file=path)


def cli_profile_problem(path: str, profile: str) -> str:
    """What keeps profile of the aliyun CLI config at path from serving a profile, read as the
    SDK reads it (and following ChainableRamRoleArn's source_profile); "" if nothing. The
    same line at add-profile and at every get."""
    import json

    text, problem = _read_private_text(path)
    if problem:
        return problem
    try:
        config = json.loads(text)
    except ValueError:
        return "is not JSON"
    found = config.get("profiles") if isinstance(config, dict) else None
    named = {p["name"]: p for p in found or [] if isinstance(p, dict) and isinstance(p.get("name"), str)}
    seen: list[str] = []
    while True:
        entry = named.get(profile)
        if entry is None:
            via = f" (the source_profile of {seen[-1]!r})" if seen else ""
            return f"has no profile {profile!r}{via}"
        mode = entry.get("mode")
        if mode not in CLI_MODES:
            return (
                f"gives profile {profile!r} mode {mode!r}, which the Alibaba Cloud SDK cannot use "
                f"(it can: {', '.join(CLI_MODES)})"
            )
        if mode != "ChainableRamRoleArn":
            return ""
        seen.append(profile)
        profile = entry.get("source_profile")
        if profile in seen:
            return f"chains profile {seen[0]!r} back to itself through source_profile"


def _read_private_text(path: str) -> tuple[str, str]:
    """(the UTF-8 text of a regular file, "") or ("", what is wrong with it)."""
    import stat

    try:  # O_NONBLOCK: a FIFO planted there is refused, not waited on
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return "", "is not a regular file"
            return file.read().decode("utf-8"), ""
    except IsADirectoryError:
        return "", "is not a regular file"
    except OSError as err:
        return "", f"cannot be read: {err.strerror}"
    except UnicodeDecodeError:
        return "", "is not UTF-8 text"


def _profile_file_problem(path: str, section: str = sources.DEFAULT_SECTION) -> str:
    """What keeps section of an INI credentials file from serving a profile, read as the SDK
    reads it; "" if nothing."""
    import configparser

    text, problem = _read_private_text(path)
    if problem:
        return problem
    parser = configparser.ConfigParser()  # as the SDK's profile provider parses it
    try:
        parser.read_string(text)
        if not parser.has_section(section):
            return f"has no [{section}] section, the only one a profile uses"
        values = {key: value.split("#")[0].strip() for key, value in parser.items(section)}
    except configparser.Error as err:
        line = getattr(err, "lineno", None) or next(iter(getattr(err, "errors", [])), (None,))[0]
        return f"is not an INI file (line {line})" if line else "is not an INI file"
    if values.get("type") not in PROFILE_TYPES:
        return f"has no type credctl can use in [{section}] ({', '.join(PROFILE_TYPES)})"
    if values["type"] == "access_key" and not (values.get("access_key_id") and values.get("access_key_secret")):
        return f"has no access_key_id or access_key_secret in [{section}]"
    return ""


def fetch(registry: AcrRegistry, environ, pod: PodIdentity | None = None) -> tuple[Token, str]:
    """(a fresh token for registry, the kind of source that answered): with the credentials the
    chain resolves to in the caller's environ, the profile's file in a profile wrapper, or the
    RAM role a pod's service-account token assumes ("pod")."""
    try:
        with _environment(environ), pod.token_file() if pod else nullcontext() as token_path:
            timeouts = (CONNECT_TIMEOUT_MS, _read_timeout_ms(environ))
            credential = (lambda sts: pod.credential(token_path, environ, *timeouts, sts=sts)) if pod else None
            config, kind = _config(registry.region, environ, credential, registry.domain)
            issued = _enterprise(registry, config) if registry.enterprise else _personal(registry, config)
            return issued, kind
    except (StoreError, StoreUnavailable):
        raise
    except Exception as err:  # the SDK's exception family is wide; keep it to one clear line
        raise StoreError(explain(err, registry)) from None


def _enterprise(registry: AcrRegistry, config) -> Token:
    from alibabacloud_cr20181201 import models
    from alibabacloud_cr20181201.client import Client

    client = Client(config)
    instance_id = registry.instance_id or _instance_id(client, models, registry)
    body = client.get_authorization_token(models.GetAuthorizationTokenRequest(instance_id=instance_id)).body
    if body is None or not body.is_success or not body.authorization_token:
        raise StoreError(f"Alibaba Cloud issued no token for {registry.domain} ({getattr(body, 'code', 'no answer')})")
    return Token(registry.domain, body.temp_username, body.authorization_token, int(body.expire_time) // 1000)


def _instance_id(client, models, registry: AcrRegistry) -> str:
    """ListInstance filters by name loosely: match the name exactly, across pages."""
    page = 1
    while True:
        request = models.ListInstanceRequest(instance_name=registry.instance_name, page_no=page, page_size=PAGE_SIZE)
        body = client.list_instance(request).body
        if body is None or not body.is_success:
            raise StoreError(f"Alibaba Cloud could not list ACR instances ({getattr(body, 'code', 'no answer')})")
        for instance in body.instances or []:
            if instance.instance_name == registry.instance_name:
                return instance.instance_id
        if page * PAGE_SIZE >= int(body.total_count or 0):
            raise StoreError(
                f"no ACR Enterprise Edition instance named {registry.instance_name!r} in {registry.region} "
                "for these credentials"
            )
        page += 1


def personal_token_params():
    """The personal edition's GetAuthorizationToken (API 2016-06-07, ROA) for the generic client."""
    from alibabacloud_tea_openapi.models import Params

    return Params(
        action="GetAuthorizationToken",
        version="2016-06-07",
        protocol="HTTPS",
        pathname="/tokens",
        method="GET",
        auth_type="AK",
        style="ROA",
        req_body_type="json",
        body_type="json",
    )


def _personal(registry: AcrRegistry, config) -> Token:
    from alibabacloud_tea_openapi.client import Client
    from alibabacloud_tea_openapi.models import OpenApiRequest
    from darabonba.runtime import RuntimeOptions

    answer = Client(config).call_api(personal_token_params(), OpenApiRequest(), RuntimeOptions())
    data = ((answer or {}).get("body") or {}).get("data") or {}
    if not data.get("authorizationToken"):
        raise StoreError(f"Alibaba Cloud issued no token for {registry.domain}")
    return Token(
        registry.domain, data.get("tempUserName", ""), data["authorizationToken"], int(data["expireDate"]) // 1000
    )


def explain(err: Exception, registry: AcrRegistry) -> str:
    """One line with the API's code and message; never a secret (the SDK's str() dumps requests)."""
    code = getattr(err, "code", None)
    message = getattr(err, "message", None) or str(err)
    if code and code != "Unknown":
        message = message.split(" request id:")[0].removeprefix(f"code: {getattr(err, 'status_code', '')}, ")
        return f"Alibaba Cloud refused a token for {registry.domain}: {code}: {message}".splitlines()[0]
    text = _without_queries(" ".join(str(message).split()))
    if "from oidc_role_arn" in text:
        return _sts_refusal(text, registry)
    if "from ram_role_arn" in text:
        return _sts_refusal(text, registry, "to assume the RAM role")
    if "unable to load credentials" in text or "InvalidCredentials" in text:
        return (
            f"no Alibaba Cloud credentials for {registry.domain}: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, "
            "write ~/.alibabacloud/credentials, or make a profile (`credctl acr add-profile`)"
        )
    if "timed out" in text.lower() or "timeout" in text.lower():
        return f"the Alibaba Cloud API did not answer in time for {registry.domain} ({text[:200]})"
    prefix = f"cannot get a token for {registry.domain}: "
    if any(sign in text for sign in ("Connection refused", "NewConnectionError", "Name or service not known")):
        return (
            prefix + "cannot reach the Alibaba Cloud API: check the network, the proxy settings or CREDCTL_ACR_ENDPOINT"
        )
    if any(sign in text for sign in ("Connection reset", "Connection broken", "RemoteDisconnected", "IncompleteRead")):
        # a connection cut mid-answer came out as the SDK's
        # "UnretryableException: RetryError({...})", which names no cause and no fix.
        return (
            prefix
            + "the connection to the Alibaba Cloud API broke off mid-answer: check the network or proxy, then try again"
        )
    if "json format" in text or "Failed to parse" in text or "JSONDecodeError" in text:
        return prefix + "the Alibaba Cloud API answered with something that is not JSON; try again later"
    return prefix + f"{type(err).__name__}: {text[:300]}"


def _without_queries(text: str) -> str:
    """URLs in the SDK's messages ("Max retries exceeded with url: /?Action=…") lose their query
    strings: the STS call carries the pod's service-account token there."""
    import re

    return re.sub(r"(/[^\s?'\"]*)\?[^\s'\")]*", "\\1?…", text)


def _sts_refusal(text: str, registry: AcrRegistry, what: str = "") -> str:
    """STS's Code and Message only: the SDK's text carries the whole answer, which may hold
    credentials when it is malformed. what: the request refused, when it is not the pod's
    AssumeRoleWithOIDC (a role profile's AssumeRole)."""
    import re

    code = re.search(r'"Code"\s*:\s*"([^"]{1,100})"', text)
    message = re.search(r'"Message"\s*:\s*"([^"]{1,300})"', text)
    if code is None:
        status = re.search(r"http_code: (\d+)", text)
        reason = f"HTTP status {status.group(1)}" if status else "an answer without credentials"
        role = "the RAM role" if what else "the pod role"
        return f"Alibaba Cloud STS gave no credentials for {role} ({reason}): no token for {registry.domain}"
    # the SDK's text can be a repr of the answer, which escapes its apostrophes
    said = f": {message.group(1)}".replace("\\'", "'") if message else ""
    refused = what or "the pod's service account token"
    return f"Alibaba Cloud STS refused {refused} for {registry.domain}: {code.group(1)}{said}"


def discover_instance(domain: str, region: str, environ) -> str:
    """The Enterprise Edition instance serving a custom domain, found with ListInstanceEndpoint
    with the credentials the chain resolves to in the caller's environ."""
    try:
        with _environment(environ):
            return _discover(domain, region, environ)
    except (StoreError, StoreUnavailable):
        raise
    except Exception as err:
        raise StoreError(explain(err, AcrRegistry(domain, region))) from None


def _discover(domain: str, region: str, environ: dict[str, str]) -> str:
    from alibabacloud_cr20181201 import models
    from alibabacloud_cr20181201.client import Client

    client = Client(_config(region, environ)[0])
    page = 1
    while True:
        body = client.list_instance(models.ListInstanceRequest(page_no=page, page_size=PAGE_SIZE)).body
        for instance in body.instances or []:
            request = models.ListInstanceEndpointRequest(instance_id=instance.instance_id, module_name="Registry")
            for endpoint in client.list_instance_endpoint(request).body.endpoints or []:
                if any((entry.domain or "").lower() == domain for entry in endpoint.domains or []):
                    return instance.instance_id
        if page * PAGE_SIZE >= int(body.total_count or 0):
            raise StoreError(f"no ACR instance in {region} serves {domain} for these credentials")
        page += 1
