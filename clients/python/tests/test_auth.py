"""Auth finds credentials where the Descartes Labs client looks (and where Stowage's TypeScript
client does), and refreshes a token from an API key through the server's real POST /auth/token."""

import base64
import json
import os
import stat
import time

import pytest

from stowage import Auth, AuthError, OauthError, Storage
from stowage.auth import decode_claims, default_token_info_path


def unsigned_jwt(sub, lifetime):
    """A token the client can read the expiry of (it never verifies signatures)."""

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return "{}.{}.sig".format(
        part({"alg": "HS256"}), part({"sub": sub, "exp": int(time.time()) + lifetime})
    )


def test_no_credentials_anywhere_is_an_auth_error_naming_every_way_to_give_them(tmp_path):
    auth = Auth(token_info_path=str(tmp_path / "absent.json"), environ={})
    with pytest.raises(AuthError) as caught:
        auth.token
    for hint in (
        "STOWAGE_TOKEN",
        "DESCARTESLABS_TOKEN",
        "STOWAGE_CLIENT_ID",
        "STOWAGE_CLIENT_SECRET",
        "absent.json",
    ):
        assert hint in str(caught.value)


def test_tokens_from_the_environment_under_both_names(tmp_path):
    nowhere = str(tmp_path / "none.json")
    assert Auth(token_info_path=nowhere, environ={"STOWAGE_TOKEN": "a.b.c"}).token == "a.b.c"
    assert Auth(token_info_path=nowhere, environ={"DESCARTESLABS_TOKEN": "d.e.f"}).token == "d.e.f"
    assert Auth(jwt_token="g.h.i", environ={"STOWAGE_TOKEN": "a.b.c"}).token == "g.h.i"


def test_an_api_key_from_descarteslabs_variables_is_exchanged_at_the_servers_auth(
    server_url, api_key, tmp_path
):
    client_id, secret = api_key
    auth = Auth(
        token_info_path=str(tmp_path / "none.json"),
        environ={"DESCARTESLABS_CLIENT_ID": client_id, "DESCARTESLABS_CLIENT_SECRET": secret},
    )
    storage = Storage(server_url, auth=auth)  # the auth domain defaults to the server's /auth
    assert auth.domain == server_url.replace("/storage/v1", "/auth")
    storage.set("from-env-key", "carol's")
    assert decode_claims(auth.token)["sub"] == "carol"
    assert storage.get("from-env-key") == "carol's"


def test_the_original_token_file_is_read_refreshed_and_rewritten_with_mode_0600(
    server_url, api_key, tmp_path
):
    client_id, secret = api_key
    home = tmp_path / "home"
    token_file = home / ".descarteslabs" / "token_info.json"
    token_file.parent.mkdir(parents=True)
    expiring = unsigned_jwt("carol", 10)
    token_file.write_text(
        json.dumps({"client_id": client_id, "client_secret": secret, "JWT_TOKEN": expiring})
    )
    os.chmod(token_file, 0o644)
    from stowage import auth as auth_module

    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        assert auth_module.default_token_info_path({}) == str(token_file)
        auth = Auth(environ={})
    finally:
        os.environ["HOME"] = old_home
    storage = Storage(server_url, auth=auth)
    storage.set(
        "from-token-file", "refreshed"
    )  # the token expires within the leeway: refreshed first
    fresh = json.loads(token_file.read_text())
    assert fresh["JWT_TOKEN"] != expiring and decode_claims(fresh["JWT_TOKEN"])["sub"] == "carol"
    assert fresh["client_id"] == client_id and fresh["client_secret"] == secret
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert [name for name in os.listdir(token_file.parent)] == ["token_info.json"]


def test_a_refused_api_key_is_an_oauth_error(server_url, api_key, tmp_path):
    client_id, _ = api_key
    auth = Auth(client_id=client_id, client_secret="wrong", token_info_path=None, environ={})
    auth.use_default_domain(server_url)
    with pytest.raises(OauthError) as caught:
        auth.token
    assert caught.value.status == 401


def test_a_storage_from_the_environment_alone(server_url, monkeypatch):
    monkeypatch.setenv("STOWAGE_URL", server_url)
    monkeypatch.setenv("STOWAGE_TOKEN", os.environ["STOWAGE_TEST_TOKEN"])
    storage = Storage()
    assert storage.url == server_url
    storage.set("from-environment", "yes")
    assert storage.get("from-environment") == "yes"


def test_a_401_with_an_api_key_at_hand_refreshes_and_tries_again(server_url, api_key):
    client_id, secret = api_key
    # Not expired by its claims, yet the server refuses it (its signature is not the server's).
    refused = unsigned_jwt("carol", 3600)
    auth = Auth(
        jwt_token=refused,
        client_id=client_id,
        client_secret=secret,
        token_info_path=None,
        environ={},
    )
    storage = Storage(server_url, auth=auth)
    storage.set("after-401", "retried")
    assert auth.token != refused
    assert storage.get("after-401") == "retried"


def test_the_token_file_path_from_either_variable(tmp_path):
    ours, theirs = str(tmp_path / "ours.json"), str(tmp_path / "theirs.json")
    assert default_token_info_path({"STOWAGE_TOKEN_INFO_PATH": ours}) == ours
    assert default_token_info_path({"DESCARTESLABS_TOKEN_INFO_PATH": theirs}) == theirs
    with open(theirs, "w") as file:
        json.dump({"JWT_TOKEN": "from.the.file"}, file)
    assert Auth(environ={"DESCARTESLABS_TOKEN_INFO_PATH": theirs}).token == "from.the.file"
