"""The local server against hostile clients: no request, byte or header stops it.

Every case sends something bad on a raw socket, checks the answer (``400`` for
broken HTTP, openchat-ui's ``500`` for anything else), then checks that the
NEXT request is served normally.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aura_sdk import AuraClient, chat_body, user
from aura_sdk.server import FAULT_HEADER, AuraServer, Fault
from aura_sdk.server._server import DEFAULT_MAX_RECORDED, url_host
from tests._examples import examples

CHAT = json.dumps(chat_body([user("Hi")], model="openchat_3.6")).encode()
TIMEOUT = 2.0


def request(
    body: bytes = CHAT, *, path: str = "/api/chat", headers: dict[str, str] | None = None
) -> bytes:
    """A whole HTTP/1.1 request, as bytes."""
    lines = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(server: AuraServer, data: bytes, *, limit: float = TIMEOUT) -> bytes:
    """Send ``data``, close our side, and read what comes back until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=limit) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before it read everything
        received = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError:  # a timeout, or a reset after the answer
            pass
    return received


def status_line(answer: bytes) -> str:
    """The status line, without h11's trailing space when there is no reason phrase."""
    return answer.split(b"\r\n", 1)[0].decode("latin-1").rstrip(" ")


def head_lines(answer: bytes) -> list[bytes]:
    return answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def still_serves(server: AuraServer) -> None:
    """The next request, on a new connection, gets a normal reply."""
    answer = exchange(server, request())
    assert status_line(answer) == "HTTP/1.1 200"
    assert answer.endswith(b"\r\n0\r\n\r\n")  # the whole reply, to its last chunk


@pytest.fixture
def server(aura_server_factory: Callable[..., AuraServer]) -> AuraServer:
    return aura_server_factory(fault=Fault(chunks=(b"ok",)), api_keys={"sk-good-key-0001"})


# --- broken HTTP -----------------------------------------------------------------

BROKEN_HTTP = [
    ("garbage", b"\x00\xff\xfe garbage \x1b[31m\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    ("not-http", b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    ("half-a-head", b"POST /api/ch", "HTTP/1.1 400 Bad Request"),
    ("half-a-body", request()[:-5], "HTTP/1.1 400 Bad Request"),
    (
        "huge-head",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        "HTTP/1.1 431 Request Header Fields Too Large",
    ),
    (
        "broken-chunked-framing",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n",
        "HTTP/1.1 400 Bad Request",
    ),
    (
        "bad-content-length",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 400 Bad Request",
    ),
    (
        "nul-in-a-header",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 400 Bad Request",
    ),
    (
        "bad-target",
        b"POST http://[/api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 404 Not Found",
    ),
    ("connect-then-close", b"", ""),
]


@pytest.mark.parametrize(
    ("data", "expected"), [pytest.param(d, e, id=i) for i, d, e in BROKEN_HTTP]
)
def test_broken_http_gets_a_4xx_and_the_next_request_is_served(
    server: AuraServer, data: bytes, expected: str
) -> None:
    assert status_line(exchange(server, data)) == expected
    still_serves(server)


# --- bad JSON bodies ---------------------------------------------------------------

BAD_BODIES = [
    ("deeply-nested-list", b"[" * 100_000),
    ("deeply-nested-object", b'{"a":' * 100_000),
    ("a-list", b"[]"),
    ("a-number", b"1"),
    ("a-string", b'"chat"'),
    ("null", b"null"),
    ("not-utf8", b'{"model": "\xff"}'),
]
BAD_CHATS = [
    ("model-a-list", json.dumps({"model": [], "messages": []}).encode()),
    (
        "model-fields-wrong",
        json.dumps({"model": {"id": [], "tokenLimit": "x"}, "messages": {}}).encode(),
    ),
    (
        "messages-wrong",
        json.dumps({**json.loads(CHAT), "messages": [1, None, {"content": 2}]}).encode(),
    ),
    ("prompt-wrong", json.dumps({**json.loads(CHAT), "prompt": {"a": 1}}).encode()),
    ("temperature-wrong", json.dumps({**json.loads(CHAT), "temperature": "hot"}).encode()),
    ("key-wrong", json.dumps({**json.loads(CHAT), "key": 7}).encode()),
]


@pytest.mark.parametrize(
    ("body", "path"),
    [pytest.param(b, "/api/chat", id=f"chat-{i}") for i, b in [*BAD_BODIES, *BAD_CHATS]]
    + [pytest.param(b, "/api/models", id=f"models-{i}") for i, b in BAD_BODIES],
)
def test_bad_json_gets_openchat_uis_500_and_the_next_request_is_served(
    server: AuraServer, body: bytes, path: str
) -> None:
    answer = exchange(server, request(body, path=path))
    assert status_line(answer) == "HTTP/1.1 500 Internal Server Error"
    still_serves(server)


def test_lone_surrogates_in_the_conversation_are_sent_as_replacement_characters(
    aura_server: AuraServer,
) -> None:
    # JSON may escape a lone surrogate; Node.js encodes it as U+FFFD, so does the emulator.
    data = json.loads(CHAT)
    data["messages"][0]["content"] = "Hi \ud800"
    data["prompt"] = "\udfff"
    body = json.dumps(data).encode()  # ASCII: the surrogates go as \\u escapes
    assert b"\\ud800" in body
    response = httpx.post(aura_server.base_url + "/api/chat", content=body, timeout=TIMEOUT)
    assert response.status_code == 200
    assert "You said: “Hi \ufffd”" in response.text
    assert "Your system prompt says: “\ufffd”" in response.text
    still = httpx.post(aura_server.base_url + "/api/chat", content=CHAT, timeout=TIMEOUT)
    assert still.status_code == 200


# --- bad fault headers -------------------------------------------------------------

BAD_FAULTS = [
    "not json",
    "[" * 100_000,
    "1",
    "[]",
    '{"nope": 1}',
    '{"delay": "x"}',
    '{"delay": -1}',
    '{"delay": NaN}',
    '{"delay": true}',
    '{"status": 101}',
    '{"status": 200.5}',
    '{"status": true}',
    '{"status": 1e400}',
    '{"status": 10000000000000000000000}',
    '{"status": 500, "reason": 5}',
    '{"status": 500, "reason": "a\\r\\nX-Injected: 1"}',
    '{"status": 500, "reason": "\\u001b[31mred"}',
    '{"status": 500, "headers": 5}',
    '{"status": 500, "headers": {"a b": "x"}}',
    '{"status": 500, "headers": {"x": "a\\r\\nX-Injected: 1"}}',
    '{"status": 500, "headers": {"x": 5}}',
    '{"status": 500, "body": 5}',
    '{"chunks": "abc"}',
    '{"chunks": [1, 2]}',
    '{"chunks": ["\\ud800"]}',
    '{"raw": 5}',
    '{"raw": ["a"]}',
    '{"reply_bytes": 1e100}',
    '{"reply_bytes": 100000000000000000000}',
    '{"reply_bytes": -1}',
    '{"drop_after": "2"}',
    '{"stall_after": -1}',
    '{"chunk_size": 0}',
    '{"chunk_size": 2.5}',
    '{"content_length": -5}',
    '{"split_multibyte": "yes"}',
    '{"close_before_status": 1}',
    '{"repeat": "x"}',
]


@pytest.mark.parametrize("header", BAD_FAULTS, ids=[h[:40] for h in BAD_FAULTS])
def test_bad_fault_header_is_a_clean_500(server: AuraServer, header: str) -> None:
    answer = exchange(server, request(headers={FAULT_HEADER: header}))
    assert status_line(answer).startswith(f"HTTP/1.1 500 Bad {FAULT_HEADER} header: "), answer
    assert not any(line.lower().startswith(b"x-injected") for line in head_lines(answer))
    still_serves(server)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        # Headers h11 refuses to frame a response with: the plain 500 instead.
        ({"status": 500, "headers": {"content-length": "99"}}, "500 Internal Server Error"),
        ({"status": 204, "body": "no body allowed"}, "204 No Content"),
        ({"status": 304}, "304 Not Modified"),
    ],
)
def test_faults_h11_cannot_frame_still_get_an_answer(
    server: AuraServer, fault: dict[str, object], expected: str
) -> None:
    answer = exchange(server, request(headers={FAULT_HEADER: json.dumps(fault)}))
    assert status_line(answer) == f"HTTP/1.1 {expected}"
    still_serves(server)


def test_a_reason_with_cr_lf_is_refused() -> None:
    with pytest.raises(ValueError, match="control characters"):
        Fault(status=500, reason="a\r\nX-Injected: 1")
    with pytest.raises(ValueError, match="control characters"):
        Fault(status=500, reason="\x1b[2J")
    assert Fault(status=500, reason="échec:\tquota épuisé").reason == "échec:\tquota épuisé"


def test_an_echoed_key_with_cr_lf_cannot_split_the_response(server: AuraServer) -> None:
    key = "\r\nX-Injected: 1\r\n"  # masking keeps its first 3 and last 4 characters
    body = json.dumps({**json.loads(CHAT), "key": key}).encode()
    for path in ("/api/chat", "/api/models"):
        answer = exchange(server, request(body, path=path))
        assert status_line(answer) == "HTTP/1.1 500 Internal Server Error"
        assert not any(line.lower().startswith(b"x-injected") for line in head_lines(answer))
    still_serves(server)


# --- properties: any fault header, any JSON body -------------------------------------

FAULT_FIELDS = [
    "delay", "status", "reason", "headers", "body", "stall_after", "drop_after",
    "split_multibyte", "reply_bytes", "chunk_size", "chunks", "close_before_status",
    "content_length", "raw", "repeat", "unknown",
]  # fmt: skip
# Any text, lone surrogates too (JSON can escape them: "\\ud800").
TEXT = st.lists(
    st.characters() | st.sampled_from(["\ud800", "\udbff", "\udc80", "\udfff"]), max_size=20
).map("".join)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _answered(server: AuraServer, data: bytes) -> bytes:
    # A short limit: a valid fault may well hang (``delay``, ``stall_after``).
    return exchange(server, data, limit=0.5)


def test_any_fault_header_gets_an_answer_and_the_server_lives_on() -> None:
    with AuraServer(pace=0, fault=Fault(chunks=(b"ok",))) as server:

        @settings(
            max_examples=examples(60),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(st.dictionaries(st.sampled_from(FAULT_FIELDS), JSON, max_size=3) | JSON)
        def check(value: object) -> None:
            header = json.dumps(value)  # ASCII, with NaN and Infinity as Python writes them
            try:
                fault = Fault.from_json(header)
            except ValueError:
                # Refused at once: the full limit, so a loaded machine cannot cut the answer.
                answer = exchange(server, request(headers={FAULT_HEADER: header}))
                assert status_line(answer).startswith(f"HTTP/1.1 500 Bad {FAULT_HEADER} header")
            else:
                assume((fault.reply_bytes or 0) < 10**6)  # a valid huge reply is slow, not a bug
                _answered(server, request(headers={FAULT_HEADER: header}))
            still_serves(server)

        check()


def _chat_with(field: str, value: object) -> bytes:
    body = json.loads(CHAT)
    if field == "content":
        body["messages"][0]["content"] = value
    elif field.startswith("model."):
        body["model"][field[6:]] = value
    else:
        body[field] = value
    return json.dumps(body).encode()


def test_any_json_body_gets_an_answer_and_the_server_lives_on() -> None:
    fields = ["model", "model.id", "model.tokenLimit", "messages", "key", "prompt", "temperature"]
    with AuraServer(pace=0, api_keys={"sk-1"}) as server:  # replies from the responder

        @settings(
            max_examples=examples(80),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(
            st.one_of(
                JSON.map(lambda v: json.dumps(v).encode()),
                st.tuples(st.sampled_from(fields), JSON).map(lambda fv: _chat_with(*fv)),
                st.tuples(st.sampled_from(["content", "prompt"]), TEXT).map(
                    lambda fv: _chat_with(*fv)
                ),
                st.binary(max_size=40),
            ),
            st.sampled_from(["/api/chat", "/api/models"]),
        )
        def check(body: bytes, path: str) -> None:
            answer = exchange(server, request(body, path=path))
            assert status_line(answer) in ("HTTP/1.1 200", "HTTP/1.1 500 Internal Server Error")
            still_serves(server)

        check()


# --- out of file descriptors ---------------------------------------------------------

EMFILE_SERVER = textwrap.dedent(
    """
    import os, resource, sys, time
    import anyio.from_thread
    from aura_sdk.server import AuraServer, Fault

    server = AuraServer(pace=0, fault=Fault(chunks=(b"ok",)))
    with anyio.from_thread.start_blocking_portal(sys.argv[1]) as portal:
        portal.start_task(server.serve)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 5, hard))
        print(server.port, flush=True)
        sys.stdin.readline()  # the test has opened its connections
        deadline = time.monotonic() + 10
        while not server.accept_errors and time.monotonic() < deadline:
            time.sleep(0.01)
        print(server.accept_errors, flush=True)
        sys.stdin.readline()  # the test is done
        portal.call(server._cancel.cancel)
    """
)


@pytest.fixture
def emfile_server(anyio_backend: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to count open files")  # pragma: no cover
    with subprocess.Popen(
        [sys.executable, "-c", EMFILE_SERVER, anyio_backend],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            yield process, int(process.stdout.readline())
        finally:
            process.kill()


def test_running_out_of_file_descriptors_does_not_stop_it(
    emfile_server: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = emfile_server
    assert process.stdin is not None
    assert process.stdout is not None
    held = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(30)]
    process.stdin.write("opened\n")
    process.stdin.flush()
    accept_errors = int(process.stdout.readline())
    for sock in held:
        sock.close()
    assert accept_errors > 0  # accept() did fail with EMFILE while they were open
    url = f"http://127.0.0.1:{port}"
    with AuraClient(base_url=url, timeout=TIMEOUT, max_retries=0) as client:
        assert client.chat([user("after EMFILE")]) == "ok"
        assert client.chat([user("and again")]) == "ok"
    process.stdin.write("done\n")
    process.stdin.flush()
    assert process.wait(TIMEOUT * 5) == 0


# --- IPv6, and the bounded request log -----------------------------------------------


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False  # pragma: no cover
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:  # pragma: no cover
        return False
    return True


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("::1", "[::1]"),
        ("fe80::1%eth0", "[fe80::1%25eth0]"),
        ("[::1]", "[::1]"),
    ],
)
def test_url_host(host: str, expected: str) -> None:
    assert url_host(host) == expected


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_host_gives_a_valid_base_url() -> None:
    with AuraServer(host="::1", pace=0, fault=Fault(chunks=(b"ok",))) as server:
        assert server.base_url == f"http://[::1]:{server.port}"
        with AuraClient(base_url=server.base_url, timeout=TIMEOUT) as client:
            assert client.chat([user("over IPv6")]) == "ok"


def test_request_log_is_bounded(aura_server_factory: Callable[..., AuraServer]) -> None:
    server = aura_server_factory(max_recorded=3, fault=Fault(chunks=(b"ok",)))
    with AuraClient(base_url=server.base_url) as client:
        for n in range(5):
            client.chat([user(f"message {n}")])
    assert len(server.requests) == 3
    assert server.requests[-1].json()["messages"][0]["content"] == "message 4"
    assert [r.json()["messages"][0]["content"] for r in server.requests] == [
        "message 2",
        "message 3",
        "message 4",
    ]
    server.reset()
    assert server.requests == []
    assert server.max_recorded == 3


def test_request_log_default_bound() -> None:
    assert AuraServer().max_recorded == DEFAULT_MAX_RECORDED == 1000
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_recorded"):
            AuraServer(max_recorded=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"pace": math.nan}, ValueError, "pace must be a finite number"),
        ({"pace": -1}, ValueError, "pace must be a finite number"),
        ({"pace": 10**400}, ValueError, "pace must be a finite number"),
        ({"pace": "0"}, TypeError, "pace must be a number"),
        ({"pace": True}, TypeError, "pace must be a number"),
        ({"port": 70000}, ValueError, "port must be an int from 0 to 65535"),
        ({"port": -1}, ValueError, "port must be an int"),
        ({"port": "8000"}, ValueError, "port must be an int"),
        ({"host": 5}, TypeError, "host must be a str"),
        ({"fault": "drop"}, TypeError, "fault must be a Fault or None"),
        # A str alone was split into its characters: api_keys="sk-test" let the key
        # "s" in and refused "sk-test".
        ({"api_keys": "sk-test"}, TypeError, "api_keys must be a collection of str"),
        ({"api_keys": {5}}, ValueError, "api_keys: expected non-empty str items"),
        ({"models": "openchat_3.6"}, TypeError, "models must be a collection of str"),
        ({"models": [""]}, ValueError, "models: expected non-empty str items"),
    ],
)
def test_bad_server_settings_are_refused_when_it_is_made(
    kwargs: dict[str, Any], error: type[Exception], needle: str
) -> None:
    with pytest.raises(error, match=needle):
        AuraServer(**kwargs)


def test_server_settings_that_are_fine_pass() -> None:
    server = AuraServer(api_keys=["sk-test"], models={"m"}, pace=0, port=65535)
    assert server.api_keys == frozenset({"sk-test"})
    assert server.models == ("m",)


def test_a_huge_int_delay_is_a_hang_not_an_overflow() -> None:
    # math.isnan(10**400) raised OverflowError, neither the ValueError nor the
    # TypeError Fault promises; in the x-aura-fault header it was a plain 500.
    assert Fault(delay=10**400).delay == math.inf
    assert Fault.from_json('{"delay": 1' + "0" * 400 + "}").delay == math.inf
    assert Fault(delay=5).delay == 5


def test_a_failed_start_leaves_no_thread_behind() -> None:
    # The port taken: __enter__ raised, but the blocking portal's thread ran on, and
    # the interpreter hung at exit waiting for it.
    code = textwrap.dedent(
        """
        import socket
        from aura_sdk.server import AuraServer

        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        try:
            with AuraServer(port=taken.getsockname()[1]):
                raise SystemExit("started on a taken port")
        except OSError:
            print("refused")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"refused\n"
