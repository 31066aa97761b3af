"""Retries, timeouts and what goes on the wire, against small real servers that misbehave."""

import re
import time

import pytest
import requests

from conftest import client_for
from faults import FaultServer, error
from stowage import NotFoundError, RateLimitError, ServerError, Storage
from stowage.retry import default_retry

OK = (200, {"Content-Type": "application/octet-stream"}, b"ok")
QUICK = default_retry().new(backoff_factor=0.01, backoff_jitter=0)


@pytest.fixture
def fault_server():
    servers = []

    def start(plan):
        server = FaultServer(plan)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_503s_are_retried_until_an_answer(fault_server):
    server = fault_server(lambda n, request: error(503, "ServiceUnavailable") if n < 3 else OK)
    assert client_for(server.url, "t.o.k", QUICK).get("k") == "ok"
    assert len(server.seen) == 3


def test_the_default_policy_gives_up_after_three_tries_with_the_servers_error(fault_server):
    server = fault_server(lambda n, request: error(503, "ServiceUnavailable"))
    storage = Storage(server.url, auth=client_for(server.url, "t.o.k").auth)
    with pytest.raises(ServerError) as caught:
        storage.get("k")
    assert caught.value.status == 503 and caught.value.code == "ServiceUnavailable"
    assert len(server.seen) == 3


def test_a_429_is_retried_after_its_retry_after(fault_server):
    server = fault_server(
        lambda n, request: error(429, "RateLimited", {"Retry-After": "1"}) if n == 1 else OK
    )
    started = time.monotonic()
    assert client_for(server.url, "t.o.k", QUICK).get("k") == "ok"
    assert time.monotonic() - started >= 0.9
    assert len(server.seen) == 2


def test_a_429_past_the_retries_is_a_rate_limit_error_with_its_wait(fault_server):
    server = fault_server(lambda n, request: error(429, "RateLimited", {"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as caught:
        client_for(server.url, "t.o.k").get("k")
    assert caught.value.retry_after == "7" and caught.value.status == 429


def test_a_dropped_connection_is_retried(fault_server):
    server = fault_server(lambda n, request: None if n == 1 else OK)
    assert client_for(server.url, "t.o.k", QUICK).get("k") == "ok"
    assert len(server.seen) == 2


def test_without_retries_one_attempt_is_made(fault_server):
    server = fault_server(lambda n, request: error(503, "ServiceUnavailable"))
    with pytest.raises(ServerError):
        client_for(server.url, "t.o.k").get("k")
    assert len(server.seen) == 1


def test_a_delete_whose_response_was_lost_is_not_a_404_on_its_retry(fault_server):
    server = fault_server(lambda n, request: None if n == 1 else error(404, "NoSuchKey"))
    assert client_for(server.url, "t.o.k", QUICK).delete("k") is None
    assert [seen["method"] for seen in server.seen] == ["DELETE", "DELETE"]
    plain = fault_server(lambda n, request: error(404, "NoSuchKey"))
    with pytest.raises(NotFoundError):
        client_for(plain.url, "t.o.k", QUICK).delete("k")


def test_the_read_timeout_is_the_class_timeout(fault_server):
    def slow(n, request):
        time.sleep(1.5)
        return OK

    class Impatient(Storage):
        TIMEOUT = (2, 0.3)

    server = fault_server(slow)
    storage = Impatient(server.url, auth=client_for(server.url, "t.o.k").auth, retries=0)
    started = time.monotonic()
    # requests reports a read timeout that exhausted the retries as a ConnectionError.
    with pytest.raises(requests.RequestException, match="Read timed out"):
        storage.get("k")
    assert time.monotonic() - started < 1.2


def test_requests_carry_what_the_original_client_sends(fault_server):
    server = fault_server(
        lambda n, request: (200, {"Content-Type": "application/json"}, b'{"key": "k"}')
    )
    storage = client_for(server.url, "t.o.k")
    storage.get("k")
    storage.set("k", "v")
    get, put = server.seen
    assert get["headers"]["Content-Type"] == "application/json" and get["body"] == b""
    assert get["headers"]["Authorization"] == "Bearer t.o.k"
    assert re.fullmatch(r"[0-9a-f]{32}", get["headers"]["X-Request-Group"])
    assert get["path"] == "/storage/v1/data/get/k"
    assert put["headers"]["Content-Type"] == "application/octet-stream" and put["body"] == b"v"
    assert put["headers"]["X-Request-Group"] != get["headers"]["X-Request-Group"]


def test_posts_that_may_run_twice_are_retried_and_the_others_sent_once(fault_server):
    server = fault_server(
        lambda n, request: (
            error(503, "ServiceUnavailable")
            if n % 2
            else (200, {"Content-Type": "application/json"}, b'{"deleted": 0, "bytes": 0}')
        )
    )
    storage = client_for(server.url, "t.o.k", QUICK)
    assert storage.delete_prefix("p/") == {"deleted": 0, "bytes": 0}
    assert len(server.seen) == 2
    storage.copy("a", "b", overwrite=True)
    assert len(server.seen) == 4
    failing = fault_server(lambda n, request: error(503, "ServiceUnavailable"))
    storage = client_for(failing.url, "t.o.k", QUICK)
    with pytest.raises(ServerError):
        storage.move("a", "b")
    with pytest.raises(ServerError):
        storage.copy("a", "b")
    assert [seen["path"] for seen in failing.seen] == ["/storage/v1/move", "/storage/v1/copy"]


def test_a_download_sent_on_to_the_store_resumes_through_the_server_with_its_etag(
    fault_server, tmp_path
):
    # Read offload: the server answers 307 to the store; the store's answer breaks midway. The
    # resume goes to the server with the server's ETag (not the store's), which serves it itself.
    value = bytes(range(256)) * 4096
    served = {"Content-Type": "application/octet-stream", "ETag": '"store-etag"'}

    def store_plan(n, handler):
        if n > 1:
            return (200, served, value)
        handler.send_response(200)
        for name, header in {**served, "Content-Length": str(len(value))}.items():
            handler.send_header(name, header)
        handler.end_headers()
        handler.wfile.write(value[:300000])
        handler.wfile.flush()
        return None

    store = fault_server(store_plan)
    store_origin = store.url[: -len("/storage/v1")]

    def server_plan(n, handler):
        if_match = handler.headers.get("If-Match")
        if if_match is None:
            return (307, {"Location": store_origin + "/bucket/blobs/0123?X-Amz-Signature=s",
                          "ETag": '"server-etag"'}, b"")
        if if_match != '"server-etag"':
            return error(412, "PreconditionFailed")
        start = int(re.match(r"bytes=(\d+)-", handler.headers.get("Range")).group(1))
        return (206, {"ETag": '"server-etag"', "Content-Range": "bytes {}-{}/{}".format(
            start, len(value) - 1, len(value))}, value[start:])

    server = fault_server(server_plan)
    target = tmp_path / "value.bin"
    client_for(server.url, "t.o.k", QUICK).get_file("k", str(target))
    assert target.read_bytes() == value
    assert server.seen[1]["headers"].get("If-Match") == '"server-etag"'
    assert "Authorization" not in store.seen[0]["headers"]
