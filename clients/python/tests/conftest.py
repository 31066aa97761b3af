"""The server under test comes from the environment: the Node harness
(packages/client/test/python-client.test.ts) starts a real one and sets

  STOWAGE_TEST_URL           its storage API v1 base URL
  STOWAGE_TEST_TOKEN         a token of user alice
  STOWAGE_TEST_TOKEN_BOB     a token of user bob
  STOWAGE_TEST_CLIENT_ID     an API key of user carol (id and secret), for the refresh flow
  STOWAGE_TEST_CLIENT_SECRET
"""

import os
import uuid

import pytest

from stowage import Auth, Storage
from stowage.retry import no_retry

_NEEDED = (
    "STOWAGE_TEST_URL",
    "STOWAGE_TEST_TOKEN",
    "STOWAGE_TEST_TOKEN_BOB",
    "STOWAGE_TEST_CLIENT_ID",
    "STOWAGE_TEST_CLIENT_SECRET",
)


def pytest_configure(config):
    missing = [name for name in _NEEDED if not os.environ.get(name)]
    if missing:
        pytest.exit(
            "these tests need a server: set {} (node scripts/run-tests.mjs "
            "packages/client/test/python-client.test.ts does)".format(", ".join(missing)),
            2,
        )


@pytest.fixture(scope="session")
def server_url():
    return os.environ["STOWAGE_TEST_URL"]


def client_for(url, token, retries=None):
    """A Storage of one user that reads nothing from the environment or the disk."""
    auth = Auth(jwt_token=token, token_info_path=None, environ={})
    return Storage(url, auth=auth, retries=retries if retries is not None else no_retry())


@pytest.fixture(scope="session")
def storage(server_url):
    return client_for(server_url, os.environ["STOWAGE_TEST_TOKEN"])


@pytest.fixture(scope="session")
def bob(server_url):
    return client_for(server_url, os.environ["STOWAGE_TEST_TOKEN_BOB"])


@pytest.fixture
def prefix():
    """Keys of their own for each test: the tests share one server."""
    return "t-{}/".format(uuid.uuid4().hex[:12])


@pytest.fixture
def api_key():
    return os.environ["STOWAGE_TEST_CLIENT_ID"], os.environ["STOWAGE_TEST_CLIENT_SECRET"]
