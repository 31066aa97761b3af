"""Uploads through an upload URL with the resumable protocol (the GCS one).

Chunks go out with ``Content-Range``; after a cut connection, a timeout or a 5xx, a status query
(``Content-Range: bytes */TOTAL``) says how many bytes the server holds and the upload goes on
from there. The source is read once, in order, one chunk ahead, so any readable binary stream
works and at most two chunks are in memory. The sha256 of the whole value rides on the request
that completes the upload: the server refuses to store bytes that differ from what was read.
"""

import hashlib
import os
import re

import requests
from .exceptions import ConflictError, ServerError, StowageError, UploadChangedError
from .retry import spend

DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
_RANGE = re.compile(r"^bytes=0-(\d+)$")
_RESUMABLE_ERRORS = (requests.ConnectionError, requests.Timeout, ServerError, ConflictError)


class _Source:
    """The stream, read one chunk ahead so that the last chunk is known when it is sent."""

    def __init__(self, file_obj, chunk_size):
        self.file_obj = file_obj
        self.chunk_size = chunk_size
        self.hash = hashlib.sha256()
        self.read = 0
        self.stat = _file_stat(file_obj)
        self.ahead = self._next()

    def _next(self):
        data = self.file_obj.read(self.chunk_size)
        if isinstance(data, str):
            raise TypeError("the file must be opened in binary mode ('rb')")
        data = bytes(data or b"")
        self.hash.update(data)
        self.read += len(data)
        return data

    def take(self):
        """The next chunk, and whether it is the last one."""
        data, self.ahead = self.ahead, self._next() if self.ahead else b""
        return data, not self.ahead

    def check_unchanged(self):
        """A file written to during the upload would be stored as a mix of versions."""
        if self.stat is not None and _file_stat(self.file_obj) != self.stat:
            raise UploadChangedError(
                "the file changed while it was being uploaded; nothing was stored",
                code="FileChanged",
            )


def _file_stat(file_obj):
    try:
        stat = os.fstat(file_obj.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return (
        (stat.st_size, stat.st_mtime_ns) if os.path.isfile(getattr(file_obj, "name", "")) else None
    )


def upload_resumable(
    api, upload_url, file_obj, retries, chunk_size=DEFAULT_CHUNK_SIZE, progress=None, headers=None
):
    """Sends ``file_obj`` (a binary stream) to ``upload_url`` in chunks; returns the server's
    ``{key, size, etag, sha256}``. ``retries`` (a urllib3 ``Retry``) counts the failures in a
    row: its budget starts over whenever the upload moves forward."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    source = _Source(file_obj, chunk_size)
    offset = 0
    budget = retries.new()
    while True:
        chunk, last = source.take()
        end = offset + len(chunk)
        total = str(end) if last else "*"
        sent = offset  # the server holds bytes [0, sent) of the value
        while True:
            try:
                if last:
                    source.check_unchanged()
                unsent = chunk[sent - offset :]
                answer = _send(api, upload_url, unsent, sent, end, total, last and source, headers)
            except UploadChangedError:
                _cancel(api, upload_url)
                raise
            except _RESUMABLE_ERRORS as error:
                if isinstance(error, ConflictError) and error.code != "UploadOffsetMismatch":
                    raise
                budget = spend(budget, "PUT", upload_url, error)
                try:
                    held = _status(
                        api, upload_url, total if last else "*", last and source, headers
                    )
                except _RESUMABLE_ERRORS:
                    # The next attempt resends from where the server stood last; a wrong guess
                    # is a 409 that brings the status query back (each failure spends budget).
                    continue
                if isinstance(held, dict):
                    return held
                if held < offset:
                    raise StowageError(
                        "the server lost bytes of the upload that were already acknowledged",
                        code="UploadLost",
                    ) from error
                sent = held
                continue
            if isinstance(answer, dict):
                _report(progress, end, end)
                return answer
            if answer > sent:
                budget = retries.new()
            sent = answer
            if sent >= end and last:
                raise StowageError(
                    "the server holds every byte but did not complete the upload",
                    code="UploadIncomplete",
                )
            if sent >= end:
                break
        offset = end
        _report(progress, offset, None)


def _send(api, url, body, start, end, total, source, headers):
    """One chunk; the server's new offset, or the stored object's description when complete."""
    sent_headers = dict(headers or {})
    sent_headers["Content-Type"] = "application/octet-stream"
    if body:
        sent_headers["Content-Range"] = "bytes {}-{}/{}".format(start, end - 1, total)
    else:
        sent_headers["Content-Range"] = "bytes */{}".format(total)
    if source:
        sent_headers["x-stowage-sha256"] = source.hash.hexdigest()
    response = api.request(
        "PUT", url=url, data=body, headers=sent_headers, anonymous=True, accept=(308,)
    )
    return _outcome(response)


def _status(api, url, total, source, headers):
    """Where the server stands: the bytes it holds, or the object when the upload completed."""
    return _send(api, url, b"", 0, 0, total, source, headers)


def _outcome(response):
    with response:
        if response.status_code == 308:
            match = _RANGE.match(response.headers.get("Range", ""))
            return int(match.group(1)) + 1 if match else 0
        return response.json()


def _cancel(api, url):
    try:
        api.request("DELETE", url=url, anonymous=True, accept=(404,)).close()
    except (requests.RequestException, StowageError):
        pass  # best effort: the session expires with its URL anyway


def _report(progress, done, total):
    if progress is not None:
        progress(done, total)
