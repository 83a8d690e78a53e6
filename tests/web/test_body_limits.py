"""Issue 14, finding 6: request bodies are refused by their route's limit before the server
reads them: an anonymous 250 MB POST /login gets its 413 while its body is still unsent.
Against a real waitress server set up as `eakte serve` sets it up."""

import socket
import threading
import time

import pytest
from waitress import create_server, wasyncore

from eakte.commands.server import _bind
from web.body_limits import FORM_LIMIT, SIGN_IN_LIMIT, UPLOAD_ENDPOINTS

HUGE = 250 * 1024 * 1024


@pytest.fixture
def server(app, settings):
    served = _bind(create_server, "127.0.0.1", 0, settings)
    served.application = app
    stop = threading.Event()

    def run():  # waitress's own loop, stopped (and its sockets closed) by this thread
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=served._map, count=1)
        wasyncore.close_all(served._map)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield served
    stop.set()
    thread.join()
    served.task_dispatcher.shutdown()


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.effective_port), timeout=10)
    return sock


def _head(path: str, length: int | None = None, chunked: bool = False) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost"]
    lines.append("Content-Type: application/x-www-form-urlencoded")
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_huge_sign_in_body_is_refused_before_it_is_sent(server):
    started = time.monotonic()
    with _connect(server) as sock:
        sock.sendall(_head("/login", HUGE))  # the headers only: not one byte of the body
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert time.monotonic() - started < 5


def test_chunked_body_over_the_limit_is_cut_off(server):
    """Without a Content-Length the server counts what arrives and hangs up past the limit;
    what the client got rid of by then sits in the kernel's socket buffers, not in eAkte."""
    chunk = b"a" * 65536
    sent = 0
    with _connect(server) as sock:
        sock.sendall(_head("/login", chunked=True))
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            while sent < HUGE:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
    assert sent < 32 * 1024 * 1024, f"{sent} bytes went in before the server hung up"


def test_forms_get_a_few_kilobytes_uploads_their_limit(server, app, settings):
    with _connect(server) as sock:  # a form post over the form limit: refused at once
        sock.sendall(_head("/akten/", FORM_LIMIT + 1))
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")
    with _connect(server) as sock:  # 10 MB to the upload route: the server waits for them
        sock.sendall(_head("/hochladen/", 10 * 1024 * 1024))
        sock.settimeout(1)
        with pytest.raises(TimeoutError):
            sock.recv(4096)
    assert SIGN_IN_LIMIT < FORM_LIMIT < settings.max_upload_bytes
    assert set(app.view_functions) >= UPLOAD_ENDPOINTS  # no renamed upload route left out
