"""Real servers that misbehave on purpose: an HTTP server whose answers a test scripts, and a TCP
proxy in front of the real storage server that cuts connections after so many bytes."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultServer:
    """Answers request n with ``plan(n, handler)``: a ``(status, headers, body)`` triple, or
    ``None`` to close the connection without answering. Records what it was sent."""

    def __init__(self, plan):
        self.seen = []
        fault = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                answer = plan(len(fault.seen), self)
                if answer is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers, payload = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:{}/storage/v1".format(self.server.server_address[1])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def error(status, code, headers=None):
    """An error answer shaped like the server's."""
    body = json.dumps(
        {"code": code, "message": code + " (injected)", "requestId": "fault-1"}
    ).encode()
    return status, dict({"Content-Type": "application/json"}, **(headers or {})), body


class CuttingProxy:
    """Forwards TCP to ``target_port``. When the bytes sent upward (client to server) pass each
    of ``up``, or those sent downward pass each of ``down`` (counted over all connections), that
    connection is dropped both ways and ``on_cut`` is called."""

    def __init__(self, target_port, up=(), down=(), on_cut=None):
        self.target_port = target_port
        self.pending = {True: sorted(up), False: sorted(down)}
        self.passed = {True: 0, False: 0}
        self.on_cut = on_cut
        self.cut_count = 0
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, False), daemon=True
            ).start()

    def _pump(self, source, sink, upward):
        try:
            while True:
                data = source.recv(65536)
                if not data or self._passes_cut(upward, len(data)):
                    break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def _passes_cut(self, upward, count):
        with self.lock:
            self.passed[upward] += count
            pending = self.pending[upward]
            if not pending or self.passed[upward] < pending[0]:
                return False
            pending.pop(0)
            self.cut_count += 1
        if self.on_cut is not None:
            self.on_cut()
        return True

    def close(self):
        self.listener.close()
