"""What Stowage adds to the storage API v1 client: range reads, uploads and downloads that resume
after a cut connection, prefix operations, copy and move, and details of a key."""

import hashlib
import io
import os
from urllib.parse import urlsplit

import pytest

from conftest import client_for
from faults import CuttingProxy
from stowage import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    RangeNotSatisfiableError,
    UploadChangedError,
)
from stowage.retry import default_retry

KIB = 1024


class Unseekable(io.RawIOBase):
    """A pipe-like stream: read only, no size, no seek."""

    def __init__(self, data):
        self.data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def pattern(size):
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def test_range_reads(storage, prefix):
    storage.set(prefix + "digits", "0123456789")
    assert storage.get_range(prefix + "digits", 2, 4) == b"234"
    assert storage.get_range(prefix + "digits", 7) == b"789"
    assert storage.get_range(prefix + "digits", -3) == b"789"
    with pytest.raises(RangeNotSatisfiableError) as caught:
        storage.get_range(prefix + "digits", 10)
    assert caught.value.status == 416
    with pytest.raises(ValueError):
        storage.get_range(prefix + "digits", 5, 2)


def test_binary_values_come_back_whole_from_get_bytes(storage, prefix):
    data = bytes(range(256)) * 4
    storage.set(prefix + "binary", data)
    assert storage.get_bytes(prefix + "binary") == data
    info = storage.info(prefix + "binary")
    assert info["size"] == 1024 and info["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_resumable_upload_of_a_file_in_chunks_reports_progress(storage, prefix, tmp_path):
    data = pattern(700 * KIB)
    source = tmp_path / "chunks.bin"
    source.write_bytes(data)
    reports = []
    result = storage.set_file(
        prefix + "chunked",
        str(source),
        resumable=True,
        chunk_size=256 * KIB,
        progress=lambda done, total: reports.append(done),
    )
    assert result["sha256"] == hashlib.sha256(data).hexdigest() and result["size"] == len(data)
    assert reports == [256 * KIB, 512 * KIB, 700 * KIB]
    assert storage.get_bytes(prefix + "chunked") == data


def test_a_stream_of_unknown_size_goes_resumable(storage, prefix):
    data = pattern(600 * KIB)
    result = storage.set(prefix + "piped", Unseekable(data))
    assert result["size"] == len(data)
    assert storage.get_bytes(prefix + "piped") == data
    empty = storage.set_file(prefix + "empty", Unseekable(b""))
    assert empty["size"] == 0 and storage.get(prefix + "empty") == ""


def through(proxy_of, storage):
    """The same user's client, its connections through the proxy that ``proxy_of(port)`` makes."""
    port = urlsplit(storage.url).port
    proxy = proxy_of(port)
    retries = default_retry().new(backoff_factor=0.01, backoff_jitter=0)
    url = storage.url.replace(":{}/".format(port), ":{}/".format(proxy.port))
    return proxy, client_for(url, storage.auth.token, retries)


def test_a_resumable_upload_resumes_after_its_connection_is_cut_twice(storage, prefix, tmp_path):
    data = pattern(3 * 1024 * KIB)
    source = tmp_path / "flaky.bin"
    source.write_bytes(data)
    # The cuts fall inside chunks: what the server holds of them is kept, the rest resent.
    proxy, flaky = through(lambda port: CuttingProxy(port, up=[900 * KIB, 2100 * KIB]), storage)
    try:
        result = flaky.set_file(
            prefix + "resumed", str(source), resumable=True, chunk_size=512 * KIB
        )
    finally:
        proxy.close()
    assert proxy.cut_count == 2
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert storage.get_bytes(prefix + "resumed") == data


def test_a_file_goes_up_as_its_rest_in_one_request_and_a_cut_keeps_the_durable_pieces(
    storage, prefix, tmp_path
):
    data = pattern(24 * 1024 * KIB)
    source = tmp_path / "rest.bin"
    source.write_bytes(data)
    # The test server makes a long request durable every MiB. The cut comes well after the
    # socket buffers have filled, so the server has made pieces durable by then.
    proxy, flaky = through(lambda port: CuttingProxy(port, up=[16 * 1024 * KIB]), storage)
    reports = []
    try:
        result = flaky.set_file(
            prefix + "rest",
            str(source),
            progress=lambda done, total: reports.append(done),
        )
    finally:
        proxy.close()
    assert proxy.cut_count == 1
    assert result["sha256"] == hashlib.sha256(data).hexdigest() and result["size"] == len(data)
    # Progress goes back once, at the cut, to where the server stood: a whole number of pieces.
    held_at_cut = next(b for a, b in zip(reports, reports[1:]) if b < a)
    assert held_at_cut % (1024 * KIB) == 0 and 0 < held_at_cut <= 16 * 1024 * KIB, reports
    assert reports[-1] == len(data)
    assert storage.get_bytes(prefix + "rest") == data


def test_a_download_cut_twice_resumes_where_it_broke(storage, prefix, tmp_path):
    data = pattern(3 * 1024 * KIB)
    storage.set(prefix + "download", data)
    proxy, flaky = through(lambda port: CuttingProxy(port, down=[1024 * KIB, 2200 * KIB]), storage)
    target = tmp_path / "download.bin"
    try:
        flaky.get_file(prefix + "download", target)
    finally:
        proxy.close()
    assert proxy.cut_count == 2
    assert target.read_bytes() == data


def test_a_download_whose_value_changes_at_a_cut_fails_rather_than_mix_versions(
    storage, prefix, tmp_path
):
    key = prefix + "replaced"
    storage.set(key, pattern(2 * 1024 * KIB))

    def cut(port):
        return CuttingProxy(port, down=[1024 * KIB], on_cut=lambda: storage.set(key, b"new"))

    proxy, flaky = through(cut, storage)
    target = tmp_path / "replaced.bin"
    try:
        with pytest.raises(PreconditionFailedError):
            flaky.get_file(key, str(target))
    finally:
        proxy.close()
    assert os.listdir(tmp_path) == []


def test_a_file_that_changes_during_its_upload_is_not_stored(storage, prefix, tmp_path):
    source = tmp_path / "changing.bin"
    source.write_bytes(pattern(600 * KIB))

    def append_once(done, total):
        if done == 256 * KIB:
            with open(source, "ab") as file:
                file.write(b"more")

    with pytest.raises(UploadChangedError):
        storage.set_file(
            prefix + "changing",
            str(source),
            resumable=True,
            chunk_size=256 * KIB,
            progress=append_once,
        )
    assert storage.exists(prefix + "changing") is False


def test_set_file_reads_a_file_object_from_its_position(storage, prefix):
    stream = io.BytesIO(b"skip:keep")
    stream.seek(5)
    storage.set_file(prefix + "positioned", stream)
    assert storage.get(prefix + "positioned") == "keep"


def test_delete_prefix_and_delete_many(storage, prefix):
    for name in ("a/1", "a/2", "a/b/3", "b/4"):
        storage.set(prefix + name, name)
    assert storage.delete_prefix(prefix + "a/") == {"deleted": 3, "bytes": 11}
    assert storage.list(prefix) == [prefix + "b/4"]
    with pytest.raises(BadRequestError) as caught:
        storage.delete_prefix("")
    assert caught.value.code == "ConfirmationRequired"
    answer = storage.delete_many([prefix + "b/4", prefix + "never"])
    assert answer["deleted"] == 1
    assert [(item["key"], item["deleted"], item.get("code")) for item in answer["results"]] == [
        (prefix + "b/4", True, None),
        (prefix + "never", False, "NoSuchKey"),
    ]


def test_delete_prefix_with_all_empties_a_storage_type(bob, prefix):
    bob.set(prefix + "x", "1", "tmp")
    bob.set("elsewhere", "2", "tmp")
    assert bob.delete_prefix("", "tmp", all=True)["deleted"] >= 2
    assert bob.list(storage_type="tmp") == []


def test_copy_and_move_keys_and_prefixes_on_the_server(storage, prefix):
    storage.set(prefix + "src", "value", content_type="text/csv")
    copied = storage.copy(prefix + "src", prefix + "copy", destination_type="result")
    assert copied["key"] == prefix + "copy" and copied["type"] == "result"
    assert storage.get(prefix + "copy", "result") == "value"
    assert storage.info(prefix + "copy", "result")["content_type"] == "text/csv"
    with pytest.raises(ConflictError) as caught:
        storage.copy(prefix + "src", prefix + "copy", destination_type="result")
    assert caught.value.code == "DestinationExists"
    storage.move(prefix + "src", prefix + "moved")
    assert storage.exists(prefix + "src") is False and storage.get(prefix + "moved") == "value"
    with pytest.raises(NotFoundError):
        storage.move(prefix + "src", prefix + "again")

    for name in ("d/1", "d/2"):
        storage.set(prefix + name, name)
    assert storage.copy_prefix(prefix + "d/", prefix + "e/")["objects"] == 2
    moved = storage.move_prefix(prefix + "e/", prefix + "f/")
    assert moved["objects"] == 2 and moved["skipped"] == 0
    assert storage.list(prefix + "f/") == [prefix + "f/1", prefix + "f/2"]
    assert storage.list(prefix + "e/") == []
    with pytest.raises(TypeError):
        storage.copy(prefix + "d/1", 5)


def test_keys_are_checked_before_anything_is_sent(storage):
    for bad in ("", "tab\there", "x" * 1025, "\ud800"):
        with pytest.raises(BadRequestError) as caught:
            storage.set(bad, "v")
        assert caught.value.code == "InvalidKey"
    with pytest.raises(TypeError):
        storage.get(b"bytes key")
    with pytest.raises(TypeError):
        storage.set("k", 42)


def test_get_file_streams_a_large_value_to_disk(storage, prefix, tmp_path):
    data = os.urandom(5 * 1024 * KIB)
    storage.set(prefix + "large", data)
    target = tmp_path / "large.bin"
    storage.get_file(prefix + "large", target)
    assert target.read_bytes() == data


def test_files_of_8_mib_and_more_go_resumable_and_smaller_ones_in_one_put(
    storage, prefix, tmp_path
):
    large, small = tmp_path / "large.bin", tmp_path / "small.bin"
    large.write_bytes(os.urandom(9 * 1024 * KIB))
    small.write_bytes(os.urandom(100 * KIB))
    reports = []
    storage.set_file(prefix + "large", large, progress=lambda done, total: reports.append(done))
    # The whole file in one request, its progress reported as it goes out.
    assert reports[-1] == 9 * 1024 * KIB and len(reports) > 2 and reports == sorted(reports)
    reports.clear()
    storage.set_file(prefix + "small", small, progress=lambda done, total: reports.append(done))
    assert reports == [100 * KIB]
    assert storage.get_bytes(prefix + "large") == large.read_bytes()
