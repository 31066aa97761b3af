"""Uploads through an upload URL with the resumable protocol (the GCS one).

A file of known size goes up as the rest of it in one request (``bytes A-B/*``), which the server
makes durable piece by piece; once every byte is held, a status query declaring the total with the
sha256 completes the upload. A stream of unknown size, or a chosen ``chunk_size``, goes in chunks.
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
                sha256 = source.hash.hexdigest() if last else None
                answer = _send(api, upload_url, unsent, sent, end, total, sha256, headers)
            except UploadChangedError:
                _cancel(api, upload_url)
                raise
            except _RESUMABLE_ERRORS as error:
                if isinstance(error, ConflictError) and error.code != "UploadOffsetMismatch":
                    raise
                budget = spend(budget, "PUT", upload_url, error)
                try:
                    sha256 = source.hash.hexdigest() if last else None
                    held = _status(api, upload_url, total if last else "*", sha256, headers)
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


class _HashingReader:
    """The rest of a file from ``offset``, hashed as it is read (``requests`` streams it with its
    length), with the hash kept every MiB so that a partial answer can be gone on from."""

    SNAPSHOT = 1024 * 1024

    KEPT = 1024  # the latest snapshots (1 GiB): the server's checkpoints are far closer together

    def __init__(self, file_obj, start, offset, size, hash_at_offset, progress=None, total=None):
        self.progress = progress
        self.total = total
        self.file_obj = file_obj
        self.start = start
        self.offset = offset
        self.position = offset
        self.size = size
        self.hash = hash_at_offset
        self.snapshots = {offset: hash_at_offset.copy()}
        file_obj.seek(start + offset)

    # The Content-Length ``requests`` sends. The request is sent once (a cut is followed by a
    # status query, not a replay), so the reader never goes back.
    def __len__(self):
        return self.size - self.offset

    def read(self, amount=-1):
        remaining = self.size - self.position
        if amount is None or amount < 0 or amount > remaining:
            amount = remaining
        amount = min(amount, self.SNAPSHOT - self.position % self.SNAPSHOT)
        data = self.file_obj.read(amount) if amount > 0 else b""
        self.hash.update(data)
        self.position += len(data)
        if self.position % self.SNAPSHOT == 0 or self.position == self.size:
            self.snapshots[self.position] = self.hash.copy()
            if len(self.snapshots) > self.KEPT:
                del self.snapshots[next(iter(self.snapshots))]
            _report(self.progress, self.position, self.total)
        return data

    def hash_at(self, position):
        """The hash of bytes [0, position) if it was kept."""
        kept = self.snapshots.get(position)
        return kept.copy() if kept is not None else None


def upload_rest(api, upload_url, file_obj, size, retries, progress=None, headers=None):
    """Sends a seekable file of ``size`` bytes (from its current position) to ``upload_url``: the
    rest of it but the last byte in one request each time (``bytes A-B/*``), then the last byte
    with the total and the sha256 (known by then), on which any server completes the upload."""
    stat = _file_stat(file_obj)
    hashes = _Hashes(file_obj, file_obj.tell())
    held = 0
    budget = retries.new()
    while True:
        last = held >= size - 1
        try:
            if stat is not None and last and _file_stat(file_obj) != stat:
                _cancel(api, upload_url)
                raise UploadChangedError(
                    "the file changed while it was being uploaded; nothing was stored",
                    code="FileChanged",
                )
            if held < size - 1:
                hashes.reader = _HashingReader(
                    file_obj, hashes.start, held, size - 1, hashes.at(held), progress, size
                )
                answer = _send(
                    api, upload_url, hashes.reader, held, size - 1, "*", None, headers, once=True
                )
            elif held == size - 1:
                file_obj.seek(hashes.start + held)
                final = file_obj.read(1)
                hashes.whole = hashes.at(held)
                hashes.whole.update(final)
                sha256 = hashes.whole.hexdigest()
                answer = _send(api, upload_url, final, held, size, str(size), sha256, headers)
            else:
                # Every byte is held (the answer to the last one was lost, or there are none).
                sha256 = hashes.of_whole(size).hexdigest()
                answer = _send(api, upload_url, b"", 0, 0, size, sha256, headers)
                if not isinstance(answer, dict) and answer == size:
                    _cancel(api, upload_url)
                    raise StowageError(
                        "the server holds every byte but did not complete the upload",
                        code="UploadIncomplete",
                    )
        except _RESUMABLE_ERRORS as error:
            if isinstance(error, ConflictError) and error.code != "UploadOffsetMismatch":
                raise
            budget = spend(budget, "PUT", upload_url, error)
            try:
                # Where the server stands, without declaring the total: that could complete the
                # upload without the sha256 unless the request with the last byte carried it.
                sha256 = hashes.of_whole(size).hexdigest() if last else None
                answer = _status(api, upload_url, "*", sha256, headers)
            except _RESUMABLE_ERRORS:
                continue
        if isinstance(answer, dict):
            _report(progress, size, size)
            return answer
        if answer > held:
            budget = retries.new()
        if answer != held:
            _report(progress, answer, size)
        held = answer


class _Hashes:
    """The sha256 of the file's first N bytes: from what the last request hashed, else reread."""

    def __init__(self, file_obj, start):
        self.file_obj = file_obj
        self.start = start
        self.reader = None
        self.whole = None  # the hash of the whole file, once the last byte went out

    def at(self, position):
        kept = self.reader.hash_at(position) if self.reader is not None else None
        if kept is None:
            kept = _hash_of(self.file_obj, self.start, position)
        return kept

    def of_whole(self, size):
        if self.whole is None:
            self.whole = self.at(size)
        return self.whole.copy()


def _hash_of(file_obj, start, length):
    """The sha256 of the file's first ``length`` bytes (from ``start``), read again."""
    file_obj.seek(start)
    digest = hashlib.sha256()
    while length > 0:
        data = file_obj.read(min(length, 1024 * 1024))
        if not data:
            break
        digest.update(data)
        length -= len(data)
    return digest


def _send(api, url, body, start, end, total, sha256, headers, once=False):
    """One chunk; the server's new offset, or the stored object's description when complete."""
    sent_headers = dict(headers or {})
    sent_headers["Content-Type"] = "application/octet-stream"
    if isinstance(body, _HashingReader) or body:
        sent_headers["Content-Range"] = "bytes {}-{}/{}".format(start, end - 1, total)
    else:
        sent_headers["Content-Range"] = "bytes */{}".format(total)
    if sha256:
        sent_headers["x-stowage-sha256"] = sha256
    response = api.request(
        "PUT", url=url, data=body, headers=sent_headers, anonymous=True, accept=(308,), once=once
    )
    return _outcome(response)


def _status(api, url, total, sha256, headers):
    """Where the server stands: the bytes it holds, or the object when the upload completed."""
    return _send(api, url, b"", 0, 0, total, sha256, headers)


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
