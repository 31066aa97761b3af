"""One HTTP call to the storage API: URL, headers, token, retries, timeouts, and errors."""

import threading
import uuid
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ._version import __version__
from .exceptions import error_from_response


class ApiSession:
    """``requests`` sessions (one per thread, as a ``requests.Session`` is not thread-safe)
    mounted with the ``Retry`` policy, sending what the Descartes Labs client sends."""

    def __init__(self, base_url, auth, retries, timeout):
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retries = retries
        self.timeout = timeout
        self._local = threading.local()

    @property
    def session(self):
        """This thread's session, retrying what the policy retries."""
        return self._session_of("session", self.retries)

    @property
    def repeatable_post_session(self):
        """This thread's session for a POST that may run twice with the same outcome (a delete
        by prefix, a copy that overwrites): the policy, with POST among its retried methods."""
        allowed = self.retries.allowed_methods
        retries = self.retries
        if allowed:
            retries = self.retries.new(allowed_methods=frozenset(allowed) | {"POST"})
        return self._session_of("repeatable_post_session", retries)

    @property
    def once_session(self):
        """This thread's session for a request its caller retries itself (a long upload request,
        which after a cut must ask the server where it stands rather than start over)."""
        return self._session_of("once_session", Retry(total=0, respect_retry_after_header=False))

    def _session_of(self, name, retries):
        session = getattr(self._local, name, None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=retries)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "stowage-python/{}".format(__version__)
            setattr(self._local, name, session)
        return session

    def request(
        self,
        method,
        path="",
        params=None,
        headers=None,
        data=None,
        json=None,
        stream=False,
        url=None,
        anonymous=False,
        accept=(),
        repeatable=False,
        once=False,
    ):
        """Sends one request (retried by the policy) and returns the ``requests.Response``.

        ``path`` is appended to the base URL as it is (keys in it are already encoded); ``url``
        replaces both (an upload URL, which carries its own credential: ``anonymous``).
        Statuses of 400 and more raise the matching error unless listed in ``accept``. A 401 with
        an API key at hand refreshes the token and tries once more. ``repeatable``: a POST whose
        repetition changes nothing, retried as the idempotent methods are. ``once``: not retried
        here at all (the caller has its own way to go on).
        """
        target = url or self.base_url + path
        if params:
            pairs = [(name, value) for name, value in params.items() if value is not None]
            if pairs:
                target += ("&" if "?" in target else "?") + urlencode(pairs, quote_via=quote)
        if once:
            session = self.once_session
        else:
            session = self.repeatable_post_session if repeatable else self.session
        response = self._send(session, method, target, headers, data, json, stream, anonymous)
        if (
            response.status_code == 401
            and not anonymous
            and getattr(self.auth, "can_refresh", False)
            and _replayable(data)
        ):
            response.close()
            self.auth.invalidate()
            response = self._send(session, method, target, headers, data, json, stream, anonymous)
        if response.status_code < 400 or response.status_code in accept:
            return response
        try:
            raise error_from_response(response, method, target)
        finally:
            response.close()

    def _send(self, session, method, target, headers, data, json, stream, anonymous):
        sent = {"X-Request-Group": uuid.uuid4().hex}
        if json is None and data is None:
            # What the Descartes Labs client sends on GET, HEAD and DELETE; the server accepts it.
            sent["Content-Type"] = "application/json"
        if not anonymous:
            sent["Authorization"] = "Bearer " + self.auth.token
        sent.update(headers or {})
        prepared = session.prepare_request(
            requests.Request(method, target, headers=sent, data=data, json=json)
        )
        # requests would turn the key's %2E back into dots that urllib3 then collapses as
        # dot segments: the URL goes out exactly as built.
        prepared.url = target
        return session.send(prepared, timeout=self.timeout, stream=stream)


def earlier_attempt_may_have_applied(response):
    """Whether the policy retried this request after an attempt the server may have carried
    out (its response was lost, or it answered 5xx)."""
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", ()) or ()
    # A 503 or 429 says the server turned the request away; a 500, 502 or 504 may come after
    # the work was done.
    return any(entry.error is not None or entry.status in (500, 502, 504) for entry in history)


def _replayable(data):
    return data is None or isinstance(data, (bytes, str))
