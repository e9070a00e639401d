"""The JSON in the docs works when copied: every ```json block parses, and the RAM policies are
ones RAM takes and credctl needs (docs/stores/acr.md, docs/kubernetes.md).

No Alibaba Cloud account checks them here; what is checked is the policy grammar of Alibaba's
RAM documentation (Version "1", Statement of Effect/Action/Resource or Principal), that the
permission policies name every action credctl's calls and the registry's pull need, and that
the trust policies name what credctl sends STS: the audience and the service account subject of
a pod's token (credctl.acr.podidentity), ARNs of the forms credctl itself accepts.
"""

import json
import re

import pytest
from world import ROOT

from credctl.acr.podidentity import AUDIENCE, arn_account

DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")])
# What an ACR identity needs (docs/stores/acr.md): GetAuthorizationToken and ListInstance
# (credctl.acr.tokens _enterprise, _personal, _instance_id), ListInstanceEndpoint (custom
# domains), PullRepository (the registry's check of the pull itself).
ACR_ACTIONS = {"cr:GetAuthorizationToken", "cr:ListInstance", "cr:ListInstanceEndpoint", "cr:PullRepository"}
ANY_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@+=,-/")
_BLOCK = re.compile(r"^```json\n(.*?)^```$", re.S | re.M)


def no_duplicate_keys(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
    return dict(pairs)


def json_blocks() -> list[tuple[str, object]]:
    """(file:line, value) of every ```json block of the docs."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            where = f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
            try:
                found.append((where, json.loads(match.group(1), object_pairs_hook=no_duplicate_keys)))
            except json.JSONDecodeError as err:
                pytest.fail(f"{where}: the JSON block does not parse: {err}")
    return found


def policies() -> list[tuple[str, dict]]:
    return [(where, value) for where, value in json_blocks() if isinstance(value, dict) and "Statement" in value]


def listed(value: str | list[str]) -> list[str]:
    assert isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
    return [value] if isinstance(value, str) else value


def test_every_json_block_parses():
    blocks = json_blocks()
    assert len(blocks) >= 6  # the credHelpers line, four RAM policies in docs/stores/acr.md, the RRSA trust policy


def test_every_policy_is_written_as_ram_takes_it():
    found = policies()
    assert len(found) >= 5
    for where, policy in found:
        assert policy["Version"] == "1", where
        assert isinstance(policy["Statement"], list) and policy["Statement"], where
        for statement in policy["Statement"]:
            assert set(statement) <= {"Effect", "Action", "Resource", "Principal", "Condition"}, where
            assert statement["Effect"] in ("Allow", "Deny"), where
            for action in listed(statement["Action"]):
                assert re.fullmatch(r"(cr|sts):[A-Za-z]+\*?", action), (where, action)
            # a permission policy names resources; a trust policy names who may assume the role
            assert ("Resource" in statement) != ("Principal" in statement), where
            for resource in listed(statement.get("Resource", "*")):
                assert resource == "*" or resource.startswith(("acs:cr:", "acs:ram::")), (where, resource)


def test_the_permission_policies_name_every_action_credctl_needs():
    permissions = [(where, p) for where, p in policies() if all("Resource" in s for s in p["Statement"])]
    acr = [(where, p) for where, p in permissions if where.startswith("docs/stores/acr.md")]
    assert len(acr) >= 2
    for where, policy in acr:
        actions = {a for s in policy["Statement"] for a in listed(s["Action"]) if a.startswith("cr:")}
        if actions:
            assert actions == ACR_ACTIONS, where
    # the first one is copied as it is: everything on "*"
    [first] = acr[0][1]["Statement"]
    assert (set(listed(first["Action"])), first["Resource"], first["Effect"]) == (ACR_ACTIONS, "*", "Allow")
    scoped = [s for _, p in acr for s in p["Statement"] if listed(s["Action"]) == ["cr:PullRepository"]]
    assert scoped and all(r.startswith("acs:cr:*:*:repository/") for s in scoped for r in listed(s["Resource"]))


def test_the_role_policies_name_what_credctl_sends():
    statements = [s for _, p in policies() for s in p["Statement"]]
    trust = [s for s in statements if "Principal" in s]
    assert all(listed(s["Action"]) == ["sts:AssumeRole"] for s in trust)

    [pod] = [s for s in trust if "Federated" in s["Principal"]]  # RRSA: docs/kubernetes.md
    [provider] = listed(pod["Principal"]["Federated"])
    assert arn_account(provider, "oidc-provider", ANY_NAME) is not None, provider
    claims = pod["Condition"]["StringEquals"]
    assert claims["oidc:aud"] == AUDIENCE
    assert re.fullmatch(r"system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+", claims["oidc:sub"])
    assert claims["oidc:iss"].startswith("https://")

    [account] = [s for s in trust if "RAM" in s["Principal"]]  # cross-account AssumeRole
    [trusted] = listed(account["Principal"]["RAM"])
    assert re.fullmatch(r"acs:ram::[0-9]+:root", trusted), trusted  # the account's users and roles
    [caller] = [s for s in statements if listed(s["Action"]) == ["sts:AssumeRole"] and "Resource" in s]
    [role] = listed(caller["Resource"])
    assert arn_account(role, "role", ANY_NAME) is not None, role
