"""Credentials: a JWT, refreshed from an API key through ``POST {domain}/token`` as it expires."""

import base64
import json
import os
import tempfile
import threading
import time
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .exceptions import AuthError, OauthError
from .retry import default_retry

TOKEN_INFO_PATH = os.path.join("~", ".stowage", "token_info.json")
DESCARTESLABS_TOKEN_INFO_PATH = os.path.join("~", ".descarteslabs", "token_info.json")
_UNSET = object()


def _first(*values):
    return next((value for value in values if value not in (None, "")), None)


def decode_claims(token):
    """The claims of a JWT, unverified (the server verifies it); {} when it has none."""
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, TypeError, AttributeError):
        return {}


def default_token_info_path(environ=None):
    """``STOWAGE_TOKEN_INFO_PATH``, ``DESCARTESLABS_TOKEN_INFO_PATH``, else the file that exists
    of ``~/.stowage/token_info.json`` and ``~/.descarteslabs/token_info.json`` (the first)."""
    environ = os.environ if environ is None else environ
    named = _first(
        environ.get("STOWAGE_TOKEN_INFO_PATH"), environ.get("DESCARTESLABS_TOKEN_INFO_PATH")
    )
    if named:
        return named
    ours, theirs = os.path.expanduser(TOKEN_INFO_PATH), os.path.expanduser(
        DESCARTESLABS_TOKEN_INFO_PATH
    )
    return theirs if not os.path.exists(ours) and os.path.exists(theirs) else ours


class Auth:
    """Credentials for the storage API, found the way the Descartes Labs ``Auth`` finds them.

    Each field comes from the first of: the arguments; the environment (``STOWAGE_TOKEN``,
    ``STOWAGE_CLIENT_ID``, ``STOWAGE_CLIENT_SECRET`` or ``STOWAGE_REFRESH_TOKEN``, and their
    ``DESCARTESLABS_*`` twins); the token file (``client_id``, ``client_secret`` or
    ``refresh_token``, ``JWT_TOKEN``). With an API key (client id and secret) the token is
    refreshed ``leeway`` seconds before it expires, and a token file it was read from is
    rewritten atomically, readable by its owner only.

    :param str domain: base URL of the token endpoint, e.g. ``http://127.0.0.1:8787/auth``
        (default ``STOWAGE_AUTH_URL``, else the storage server's ``/auth``)
    :param str token_info_path: the token file (``None``: none); see
        :func:`default_token_info_path`
    :param retries: ``urllib3.util.retry.Retry`` of the token requests
    """

    def __init__(
        self,
        domain=None,
        scope=None,
        leeway=60,
        token_info_path=_UNSET,
        client_id=None,
        client_secret=None,
        jwt_token=None,
        refresh_token=None,
        retries=None,
        timeout=(9.5, 120),
        environ=None,
    ):
        env = os.environ if environ is None else environ
        self.token_info_path = (
            default_token_info_path(env) if token_info_path is _UNSET else token_info_path
        )
        self._explicit_path = token_info_path is not _UNSET and token_info_path is not None
        self._token = _first(jwt_token, env.get("STOWAGE_TOKEN"), env.get("DESCARTESLABS_TOKEN"))
        self.client_id = _first(
            client_id, env.get("STOWAGE_CLIENT_ID"), env.get("DESCARTESLABS_CLIENT_ID")
        )
        self.client_secret = _first(
            refresh_token,
            client_secret,
            env.get("STOWAGE_CLIENT_SECRET"),
            env.get("STOWAGE_REFRESH_TOKEN"),
            env.get("DESCARTESLABS_REFRESH_TOKEN"),
            env.get("DESCARTESLABS_CLIENT_SECRET"),
        )
        self.domain = _first(domain, env.get("STOWAGE_AUTH_URL"))
        self.scope = scope
        self.leeway = leeway
        self.timeout = timeout
        self._retries = retries if retries is not None else default_retry()
        self._from_file = False
        self._lock = threading.Lock()
        self._session = None
        if not (self._token and self.can_refresh):
            self._read_token_file()

    @property
    def refresh_token(self):
        """The API key's secret (the original's name for it)."""
        return self.client_secret

    @property
    def can_refresh(self):
        """Whether a new token can be obtained: an API key is known."""
        return bool(self.client_id and self.client_secret)

    @property
    def token(self):
        """A valid JWT: the current one, or a fresh one when it expires within ``leeway``."""
        with self._lock:
            if self._token and not self._expires_soon(self._token):
                return self._token
            if self.can_refresh:
                try:
                    return self._refresh()
                except OauthError:
                    # A token that is still valid serves until it expires, as the original's does.
                    if not self._token or self._expired(self._token):
                        raise
            if self._token:
                return self._token
        raise AuthError(
            "No storage credentials found. Set STOWAGE_TOKEN (or DESCARTESLABS_TOKEN), or "
            "STOWAGE_CLIENT_ID with STOWAGE_CLIENT_SECRET (or the DESCARTESLABS_* names), pass "
            "jwt_token= or client_id= and client_secret= to Auth, or write {}.".format(
                self.token_info_path
            )
        )

    @property
    def payload(self):
        """The claims of the current token (``sub`` is the user)."""
        return decode_claims(self.token)

    def refresh(self):
        """Exchanges the API key for a new token now, and returns it."""
        with self._lock:
            return self._refresh()

    def invalidate(self):
        """Forgets the token (after a 401) so the next use refreshes, when it can."""
        with self._lock:
            if self.can_refresh:
                self._token = None

    def use_default_domain(self, storage_url):
        """The token endpoint's base when none was given: ``{origin of storage_url}/auth``."""
        if self.domain is None and storage_url:
            parts = urlsplit(storage_url)
            self.domain = "{}://{}/auth".format(parts.scheme, parts.netloc)

    def _expired(self, token):
        exp = decode_claims(token).get("exp")
        return isinstance(exp, (int, float)) and exp <= time.time()

    def _expires_soon(self, token):
        exp = decode_claims(token).get("exp")
        return isinstance(exp, (int, float)) and exp - time.time() < self.leeway

    def _refresh(self):
        if not self.can_refresh:
            raise AuthError("Cannot refresh the token: no client id and secret are configured")
        if not self.domain:
            raise AuthError(
                "Cannot refresh the token: no auth domain is configured (set STOWAGE_AUTH_URL)"
            )
        body = {
            "client_id": self.client_id,
            "refresh_token": self.client_secret,
            "grant_type": "refresh_token",
        }
        if self.scope is not None:
            body["scope"] = self.scope
        try:
            response = self._token_session().post(
                self.domain.rstrip("/") + "/token", json=body, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise OauthError("Token refresh failed: {}".format(error)) from error
        if response.status_code != 200:
            raise OauthError(
                "Token refresh failed: {} {}".format(response.status_code, response.text),
                status=response.status_code,
            )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        token = (
            _first(answer.get("access_token"), answer.get("id_token"))
            if isinstance(answer, dict)
            else None
        )
        if not token:
            raise OauthError("Token refresh answered without a token")
        self._token = token
        if self._from_file or self._explicit_path:
            self._write_token_file()
        return token

    def _token_session(self):
        if self._session is None:
            session = requests.Session()
            adapter = HTTPAdapter(
                max_retries=self._retries.new(allowed_methods=frozenset(["POST"]))
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session
        return self._session

    def _read_token_file(self):
        if not self.token_info_path:
            return
        path = os.path.expanduser(self.token_info_path)
        try:
            with open(path, encoding="utf-8") as file:
                info = json.load(file)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            raise AuthError("Cannot read the token file {}: {}".format(path, error)) from error
        if not isinstance(info, dict):
            raise AuthError("The token file {} does not hold a JSON object".format(path))
        self._from_file = True
        self.client_id = _first(self.client_id, info.get("client_id"))
        self.client_secret = _first(
            self.client_secret, info.get("refresh_token"), info.get("client_secret")
        )
        self._token = _first(self._token, info.get("JWT_TOKEN"), info.get("jwt_token"))

    def _write_token_file(self):
        """Rewrites the token file through a temp file and a rename, mode 0600 (folder 0700)."""
        path = os.path.expanduser(self.token_info_path)
        try:
            with open(path, encoding="utf-8") as file:
                info = json.load(file)
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict):
            info = {}
        info.update({"client_id": self.client_id, "JWT_TOKEN": self._token})
        if not info.get("refresh_token") and not info.get("client_secret"):
            info["client_secret"] = self.client_secret
        folder = os.path.dirname(path) or "."
        os.makedirs(folder, mode=0o700, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(prefix=".token_info.", dir=folder)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(info, file, indent=2)
                file.write("\n")
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.remove(temp)
            raise
