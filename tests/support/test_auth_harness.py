"""The auth registries really enforce auth: right credentials pull, wrong ones and anonymous are refused."""

from __future__ import annotations

import json
import subprocess

import httpx
import jwt

from nbcatalog.oci import MANIFEST_ACCEPT
from tests.support.registry import ChallengeAuth
from tests.support.tokenserver import ISSUER, READER, READER_PASSWORD, SERVICE, AuthRegistry


def get_manifest(registry: AuthRegistry, repository: str, auth: httpx.Auth | None) -> httpx.Response:
    with httpx.Client(auth=auth) as client:
        return client.get(
            f"{registry.url}/v2/{repository}/manifests/{registry.tag}", headers={"Accept": MANIFEST_ACCEPT}
        )


def skopeo_inspect(ref: str, *creds: str) -> subprocess.CompletedProcess[str]:
    args = ["skopeo", "inspect", "--tls-verify=false", *creds, f"docker://{ref}"]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_token_registry_challenges_and_grants(token_registry: AuthRegistry) -> None:
    anonymous = get_manifest(token_registry, token_registry.repository, None)
    assert anonymous.status_code == 401
    challenge = anonymous.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and f'service="{SERVICE}"' in challenge
    good = get_manifest(token_registry, token_registry.repository, ChallengeAuth("nbadmin", token_registry.password))
    assert good.status_code == 200 and good.headers["docker-content-digest"] == token_registry.digest
    reader = get_manifest(token_registry, token_registry.repository, ChallengeAuth(READER, READER_PASSWORD))
    assert reader.status_code == 200


def test_token_claims(token_registry: AuthRegistry) -> None:
    assert token_registry.token_server is not None
    answer = httpx.get(
        token_registry.token_server.realm,
        params={"service": SERVICE, "scope": f"repository:{token_registry.repository}:pull,push"},
        auth=(READER, READER_PASSWORD),
    )
    claims = jwt.decode(answer.json()["token"], options={"verify_signature": False})
    assert claims["aud"] == SERVICE and claims["iss"] == ISSUER and claims["sub"] == READER
    assert claims["access"] == [{"type": "repository", "name": token_registry.repository, "actions": ["pull"]}]
    header = jwt.get_unverified_header(answer.json()["token"])
    assert header["alg"] == "ES256" and len(header["x5c"]) == 1


def test_token_registry_refuses_wrong_credentials(token_registry: AuthRegistry) -> None:
    assert token_registry.token_server is not None
    wrong = httpx.get(
        token_registry.token_server.realm, params={"service": SERVICE}, auth=(token_registry.username, "wrong")
    )
    assert wrong.status_code == 401
    result = skopeo_inspect(token_registry.image_ref, "--creds", f"{token_registry.username}:wrong")
    assert result.returncode != 0


def test_anonymous_pull_of_public_repository(token_registry: AuthRegistry) -> None:
    assert token_registry.public_repository is not None and token_registry.public_ref is not None
    public = get_manifest(token_registry, token_registry.public_repository, ChallengeAuth())
    assert public.status_code == 200
    private = get_manifest(token_registry, token_registry.repository, ChallengeAuth())
    assert private.status_code == 401
    assert json.loads(skopeo_inspect(token_registry.public_ref, "--no-creds").stdout)["Digest"] == token_registry.digest


def test_skopeo_through_token_auth(token_registry: AuthRegistry) -> None:
    result = skopeo_inspect(token_registry.image_ref, "--creds", f"{token_registry.username}:{token_registry.password}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Digest"] == token_registry.digest


def test_basic_registry(basic_registry: AuthRegistry) -> None:
    anonymous = get_manifest(basic_registry, basic_registry.repository, None)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic ")
    wrong = get_manifest(basic_registry, basic_registry.repository, ChallengeAuth(basic_registry.username, "nope"))
    assert wrong.status_code == 401
    good = get_manifest(
        basic_registry, basic_registry.repository, httpx.BasicAuth(basic_registry.username, basic_registry.password)
    )
    assert good.status_code == 200 and good.headers["docker-content-digest"] == basic_registry.digest
    result = skopeo_inspect(basic_registry.image_ref, "--creds", f"{basic_registry.username}:{basic_registry.password}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Digest"] == basic_registry.digest
