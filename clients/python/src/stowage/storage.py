"""``Storage``: the storage API v1 client, method for method the Descartes Labs one, plus
Stowage's extensions."""

import io
import os
import tempfile

from urllib3.util.retry import Retry

from . import prefix_operations
from .auth import Auth
from .exceptions import NotFoundError, error_from_response
from .keys import encode_key, encode_segment
from .resumable import DEFAULT_CHUNK_SIZE, upload_resumable, upload_rest
from .resumable_download import download
from .retry import default_retry
from .session import ApiSession, earlier_attempt_may_have_applied

DEFAULT_URL = "http://127.0.0.1:8787/storage/v1"
DEFAULT_STORAGE_TYPE = "data"
RESUMABLE_THRESHOLD = 8 * 1024 * 1024


class Storage:
    """The Storage API stores arbitrary data and retrieves it later with key-value semantics.

    :param str url: the storage API v1 base URL (default ``STOWAGE_URL``, then
        ``DESCARTESLABS_STORAGE_URL``, then ``http://127.0.0.1:8787/storage/v1``)
    :param Auth auth: credentials (default: ``Auth()``, from the environment or the token file)
    :param urllib3.util.retry.Retry retries: the retry policy of every request (default: 3
        tries for connection errors and 500/502/503/504, and 429/503 after ``Retry-After``)
    """

    TIMEOUT = (9.5, 120)

    def __init__(self, url=None, auth=None, retries=None):
        if url is None:
            url = (
                os.environ.get("STOWAGE_URL")
                or os.environ.get("DESCARTESLABS_STORAGE_URL")
                or DEFAULT_URL
            )
        if auth is None:
            auth = Auth()
        if hasattr(auth, "use_default_domain"):
            auth.use_default_domain(url)
        if retries is None:
            retries = default_retry()
        elif not isinstance(retries, Retry):
            retries = Retry.from_int(retries)
        self.url = url.rstrip("/")
        self.auth = auth
        self.retries = retries
        self._api = ApiSession(self.url, auth, retries, self.TIMEOUT)

    # -- the storage API v1 methods ------------------------------------------------------------

    def delete(self, key, storage_type=DEFAULT_STORAGE_TYPE):
        """Deletes the data at ``key``. Raises ``NotFoundError`` if there is none.

        A retry whose first attempt deleted the key but lost its response is not a 404.
        """
        response = self._api.request(
            "DELETE", self._key_path("", key, storage_type), accept=(404,)
        )
        with response:
            if response.status_code == 404 and not earlier_attempt_may_have_applied(response):
                raise error_from_response(response, "DELETE", key)

    def exists(self, key, storage_type=DEFAULT_STORAGE_TYPE):
        """Whether there is data at ``key``: ``bool``."""
        try:
            self._api.request("HEAD", self._key_path("get/", key, storage_type)).close()
        except NotFoundError:
            return False
        return True

    def get(self, key, storage_type=DEFAULT_STORAGE_TYPE):
        """The data at ``key`` as a ``str`` (UTF-8; see :meth:`get_bytes` for binary data).
        Raises ``NotFoundError`` if there is none."""
        return self.get_bytes(key, storage_type).decode("utf-8", errors="replace")

    def get_file(self, key, file_obj, storage_type=DEFAULT_STORAGE_TYPE):
        """Writes the data at ``key`` to ``file_obj``, a file name or a binary file-like object.

        It streams, never holding the value in memory, and a cut connection resumes where it
        broke (if the value is still the same; else ``PreconditionFailedError``). A file name is
        written through a temp file renamed into place, so a failed download leaves nothing at
        that path.
        """
        path = self._key_path("get/", key, storage_type)
        if not isinstance(file_obj, (str, os.PathLike)):
            download(self._api, path, file_obj, self.retries)
            return
        target = os.fspath(file_obj)
        descriptor, temp = tempfile.mkstemp(prefix=".stowage-", dir=os.path.dirname(target) or ".")
        try:
            with os.fdopen(descriptor, "wb") as file:
                download(self._api, path, file, self.retries)
            os.replace(temp, target)
        except BaseException:
            os.remove(temp)
            raise

    def get_signed_url(
        self, key, storage_type=DEFAULT_STORAGE_TYPE, expires_in=None, filename=None
    ):
        """A temporary URL that downloads ``key`` without credentials: ``str``.

        ``expires_in`` (seconds, default 1 hour, at most 7 days) and ``filename`` (the name a
        browser saves it under) are Stowage extensions. Raises ``NotFoundError`` for no data."""
        params = {"expires_in": expires_in, "filename": filename}
        with self._api.request(
            "GET", self._key_path("get_signed_url/", key, storage_type), params=params
        ) as r:
            return r.content.decode("ascii")

    def get_upload_url(self, key, storage_type=DEFAULT_STORAGE_TYPE, **kwargs):
        """A temporary URL that stores a ``PUT`` body at ``key`` without credentials: ``str``.

        Keyword arguments go to the server as query parameters: ``content_type``,
        ``expires_in`` (seconds) and ``object_ttl`` (the stored value's lifetime)."""
        with self._api.request(
            "GET", self._key_path("new_resumable_url/", key, storage_type), params=kwargs
        ) as r:
            return r.content.decode("ascii")

    def iter_list(self, prefix=None, storage_type=DEFAULT_STORAGE_TYPE):
        """Yields every key (``str``) under ``prefix``, in UTF-8 byte order, page after page."""
        path = "/{}/list".format(encode_segment(storage_type))
        headers = None
        while True:
            with self._api.request(
                "GET", path, params={"prefix": prefix}, headers=headers
            ) as response:
                keys = response.json()
                token = response.headers.get("X-NEXT")
            yield from keys
            if not token:
                return
            headers = {"X-NEXT": token}

    def list(self, prefix=None, storage_type=DEFAULT_STORAGE_TYPE):
        """The keys under ``prefix``: a ``list`` of at most 1000 ``str``; see :meth:`iter_list`."""
        path = "/{}/list".format(encode_segment(storage_type))
        with self._api.request("GET", path, params={"prefix": prefix}) as response:
            return response.json()

    def set(self, key, value, storage_type=DEFAULT_STORAGE_TYPE, content_type=None):
        """Stores ``value`` (``str``, bytes, or a binary file-like object) at ``key``.

        Returns ``{"key", "size", "etag", "sha256"}``. A file-like value is sent as
        :meth:`set_file` sends it.
        """
        if hasattr(value, "read"):
            return self.set_file(key, value, storage_type, content_type=content_type)
        if isinstance(value, str):
            value = value.encode("utf-8")
        elif isinstance(value, (bytearray, memoryview)):
            value = bytes(value)
        elif not isinstance(value, bytes):
            raise TypeError(
                "value must be str, bytes or a file-like object, not {}".format(
                    type(value).__name__
                )
            )
        return self._put(key, value, storage_type, content_type)

    def set_file(
        self,
        key,
        file_obj,
        storage_type=DEFAULT_STORAGE_TYPE,
        content_type=None,
        resumable=None,
        chunk_size=None,
        progress=None,
    ):
        """Stores a file (a name, or a binary file-like object read from its position) at ``key``.

        It streams. Files of 8 MiB or more, streams of unknown size, and ``resumable=True`` go
        through an upload URL, resuming after a cut connection: a seekable file of known size as
        the rest of it in one request (the server makes it durable piece by piece), a stream, or
        any file when ``chunk_size`` is given, in chunks of ``chunk_size`` (default 8 MiB). The
        server checks the sha256 of what was read. ``progress(bytes_sent, total_or_None)`` is
        called as the server acknowledges bytes. Returns ``{"key", "size", "etag", "sha256"}``.
        """
        if isinstance(file_obj, (str, os.PathLike)):
            with open(file_obj, "rb") as file:
                return self.set_file(
                    key, file, storage_type, content_type, resumable, chunk_size, progress
                )
        if "b" not in getattr(file_obj, "mode", "b"):
            raise TypeError("the file must be opened in binary mode ('rb')")
        size = _remaining_size(file_obj)
        if resumable is None:
            resumable = size is None or size >= RESUMABLE_THRESHOLD
        if not resumable:
            result = self._put(key, file_obj, storage_type, content_type)
            if progress is not None:
                progress(size, size)
            return result
        url = self.get_upload_url(key, storage_type, content_type=content_type)
        if chunk_size is None and size is not None and _seekable(file_obj):
            return upload_rest(self._api, url, file_obj, size, self.retries, progress)
        return upload_resumable(
            self._api, url, file_obj, self.retries, chunk_size or DEFAULT_CHUNK_SIZE, progress
        )

    # -- Stowage's extensions ------------------------------------------------------------------

    def get_bytes(self, key, storage_type=DEFAULT_STORAGE_TYPE):
        """The data at ``key`` as ``bytes``."""
        with self._api.request("GET", self._key_path("get/", key, storage_type)) as response:
            return response.content

    def get_range(self, key, start, end=None, storage_type=DEFAULT_STORAGE_TYPE):
        """Bytes ``start`` to ``end`` (inclusive; default: to the end) of the data at ``key``.

        A negative ``start`` is the last ``-start`` bytes. Past the end:
        ``RangeNotSatisfiableError``."""
        if not isinstance(start, int) or (
            end is not None and (not isinstance(end, int) or end < start or start < 0)
        ):
            raise ValueError("a range is start <= end, both int (or a negative start alone)")
        spec = (
            "bytes={}".format(start)
            if start < 0
            else "bytes={}-{}".format(start, "" if end is None else end)
        )
        headers = {"Range": spec}
        with self._api.request(
            "GET", self._key_path("get/", key, storage_type), headers=headers
        ) as response:
            return response.content

    def info(self, key, storage_type=DEFAULT_STORAGE_TYPE):
        """What a ``HEAD`` says of ``key``: ``{"size", "etag", "sha256", "content_type",
        "last_modified", "expires_at"}``."""
        with self._api.request("HEAD", self._key_path("get/", key, storage_type)) as response:
            headers = response.headers
            return {
                "size": int(headers["Content-Length"]),
                "etag": headers.get("ETag"),
                "sha256": headers.get("x-stowage-sha256"),
                "content_type": headers.get("Content-Type"),
                "last_modified": headers.get("Last-Modified"),
                "expires_at": headers.get("x-stowage-expires-at"),
            }

    def delete_prefix(self, prefix, storage_type=DEFAULT_STORAGE_TYPE, all=False):
        """Deletes every key under ``prefix``: ``{"deleted": n, "bytes": n}``. An empty prefix
        (the whole storage type) needs ``all=True``. Calling again finishes an interrupted one."""
        return prefix_operations.delete_prefix(self._api, prefix, storage_type, all)

    def delete_many(self, keys, storage_type=DEFAULT_STORAGE_TYPE):
        """Deletes the given keys: ``{"deleted", "bytes", "results"}``, one result per key."""
        return prefix_operations.delete_many(self._api, keys, storage_type)

    def copy(
        self,
        key,
        destination_key,
        storage_type=DEFAULT_STORAGE_TYPE,
        destination_type=None,
        overwrite=False,
        if_match=None,
    ):
        """Copies one value on the server (no bytes travel): ``{"type", "key", "size", "etag",
        "sha256"}`` of the copy. An existing destination is a ``ConflictError`` unless
        ``overwrite``; ``if_match`` copies only that version of the source."""
        return self._copy_or_move(
            "copy",
            "key",
            key,
            destination_key,
            storage_type,
            destination_type,
            overwrite,
            if_match,
        )

    def move(
        self,
        key,
        destination_key,
        storage_type=DEFAULT_STORAGE_TYPE,
        destination_type=None,
        overwrite=False,
        if_match=None,
    ):
        """Moves one value on the server (a rename): as :meth:`copy`, and the source is gone."""
        return self._copy_or_move(
            "move",
            "key",
            key,
            destination_key,
            storage_type,
            destination_type,
            overwrite,
            if_match,
        )

    def copy_prefix(
        self,
        prefix,
        destination_prefix,
        storage_type=DEFAULT_STORAGE_TYPE,
        destination_type=None,
        overwrite=False,
    ):
        """Copies every key under ``prefix`` to the same key under ``destination_prefix``:
        ``{"objects", "bytes", "skipped", "skippedKeys"}`` (existing keys are skipped unless
        ``overwrite``)."""
        return self._copy_or_move(
            "copy",
            "prefix",
            prefix,
            destination_prefix,
            storage_type,
            destination_type,
            overwrite,
            None,
        )

    def move_prefix(
        self,
        prefix,
        destination_prefix,
        storage_type=DEFAULT_STORAGE_TYPE,
        destination_type=None,
        overwrite=False,
    ):
        """Moves every key under ``prefix`` under ``destination_prefix`` (a folder rename)."""
        return self._copy_or_move(
            "move",
            "prefix",
            prefix,
            destination_prefix,
            storage_type,
            destination_type,
            overwrite,
            None,
        )

    # -- internals -----------------------------------------------------------------------------

    def _copy_or_move(
        self,
        operation,
        kind,
        source,
        destination,
        storage_type,
        destination_type,
        overwrite,
        if_match,
    ):
        return prefix_operations.copy_or_move(
            self._api,
            operation,
            {"type": storage_type, kind: source},
            {"type": destination_type or storage_type, kind: destination},
            overwrite,
            if_match,
        )

    def _key_path(self, route, key, storage_type):
        return "/{}/{}{}".format(encode_segment(storage_type), route, encode_key(key))

    def _put(self, key, body, storage_type, content_type):
        headers = {"Content-Type": content_type or "application/octet-stream"}
        with self._api.request(
            "PUT", self._key_path("set/", key, storage_type), data=body, headers=headers
        ) as r:
            return r.json()


def _remaining_size(file_obj):
    """Bytes from the stream's position to its end, or None when it cannot tell (a pipe)."""
    try:
        if hasattr(file_obj, "fileno") and not file_obj.seekable():
            return None
        position = file_obj.tell()
        end = file_obj.seek(0, io.SEEK_END)
        file_obj.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _seekable(file_obj):
    """Whether the upload can go back in the stream (to resend from where a cut left it)."""
    try:
        return bool(file_obj.seekable())
    except (AttributeError, OSError, ValueError):
        return False
