"""The raw half of `make fuzz`: what schemathesis cannot send. Malformed request lines, headers
(non-ASCII signatures, broken cookies, bad lengths), hostile bodies (invalid UTF-8, deep JSON, broken
percent escapes) and hostile WebSocket frames, each over a fresh loopback socket. Fails on any 5xx, on a
connection the server drops without an answer, or on the server dying."""
import base64
import json
import os
import random
import socket
import struct
import sys
import time

base = os.environ["FUZZ_BASE"]
host, port = base.split("//")[1].split(":")
port = int(port)
seed = json.loads(open(os.environ["FUZZ_SEED_FILE"]).read())
manager = os.environ["FUZZ_MANAGER"]
integration = os.environ["FUZZ_INTEGRATION"]
rng = random.Random(int(os.environ.get("FUZZ_RAW_SEED", "20261201")))
failures = []

PATHS = ["/api/v1/closures", "/api/v1/closures/jira", "/s/{token}", "/s/{token}/messages", "/api/v1/events",
         "/api/v1/me", "/api/v1/responses/{id}/replies", "/api/v1/responses/{id}/ack", "/api/v1/responses/{id}/kudos",
         "/api/v1/responses/{id}/messages", "/dashboard", "/api/v1/metrics", "/analyst", "/analyst/login",
         "/analyst/logout", "/healthz", "/", "/openapi.yaml", "/api/v1/stream"]
NASTY = ["é", "e\u0301" * 40, "\u202e", "\ufeff", "%", "%4", "%ZZ", "%C3", "%FF%FE", "%00", "+", "../", "\\", "\x7f",
         "𝕳", "\ud7ff", "9" * 40, "-1", "0x10", "1e309", "NaN", "t=1,v1=é", "t=9999999999999999999999,v1=00",
         "t=-9223372036854775808,v1=" + "0" * 64, "sha256=é", "sha256=" + "ab" * 31 + "é"]


def nasty_bytes(n=None):
    n = n if n is not None else rng.choice([0, 1, 2, 3, 7, 31, 64, 255, 1024])
    kind = rng.random()
    if kind < 0.3:
        return bytes(rng.randrange(256) for _ in range(n))
    if kind < 0.6:
        return "".join(rng.choice(NASTY) for _ in range(max(1, n // 8))).encode("utf-8", "surrogatepass")
    if kind < 0.8:
        return (b"\xc3" + b"\x28" + b"\xed\xa0\x80" + b"\xf8\x88\x80\x80\x80") * max(1, n // 16)
    return ("[" * rng.choice([1, 100, 5000]) + "]" * rng.choice([0, 1, 100])).encode()


def fill(path):
    path = path.replace("{token}", rng.choice(seed["tokens"] + ["x", "%ZZ", "é" * 3, "a" * 5000]))
    return path.replace("{id}", str(rng.choice(seed["responses"] + [0, -1, 2**63, "1e3", "é"])))


def exchange(payload, timeout=5.0):
    """Sends bytes, returns the status line's code (or None when the server closed without answering)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(payload)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        while b"\r\n" not in data:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"HTTP/1."):
            return None, data[:200]
        return int(data.split(b" ", 2)[1]), data[:300]


def request(method, path, headers, body):
    head = f"{method} ".encode() + (path if isinstance(path, bytes) else path.encode("utf-8", "surrogatepass")) + b" HTTP/1.1\r\n"
    head += f"Host: {host}:{port}\r\n".encode()
    for name, value in headers:
        head += name + b": " + value + b"\r\n"
    if body is not None and not any(n.lower() == b"content-length" for n, _ in headers):
        head += f"Content-Length: {len(body)}\r\n".encode()
    head += b"Connection: close\r\n\r\n"
    return head + (body or b"")


def case_http():
    method = rng.choice(["GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
    path = fill(rng.choice(PATHS))
    if rng.random() < 0.3:
        path = path.encode() + rng.choice([b"?", b"?after=", b"?limit=", b"?from=", b"?score=", b"?to=", b"?format="]) + nasty_bytes(16)
    headers = []
    r = rng.random()
    if r < 0.25:
        headers.append((b"X-Happydesk-Signature", rng.choice(NASTY).encode("utf-8", "surrogatepass") + nasty_bytes(8)))
    elif r < 0.35:
        headers.append((b"X-Hub-Signature", b"sha256=" + nasty_bytes(64)))
    elif r < 0.55:
        headers.append((b"Authorization", rng.choice([b"Bearer " + manager.encode(), b"Bearer " + integration.encode(),
                                                      b"Bearer " + nasty_bytes(40), b"Basic " + nasty_bytes(12), nasty_bytes(20)])))
    if rng.random() < 0.3:
        headers.append((b"Cookie", rng.choice([b"happydesk_session=" + nasty_bytes(40), nasty_bytes(60), b"=;=;;a=\"",
                                               b"happydesk_session=" + b"a" * 64 + b"; happydesk_session=x"])))
    if rng.random() < 0.3:
        headers.append((b"Origin", rng.choice([b"null", b"http://evil.test", nasty_bytes(20), base.encode()])))
    ctype = rng.choice([b"application/json", b"application/x-www-form-urlencoded", b"text/plain", nasty_bytes(12), None])
    if ctype is not None:
        headers.append((b"Content-Type", ctype))
    body = None
    if method in ("POST", "PUT", "PATCH"):
        r = rng.random()
        if r < 0.3:
            body = nasty_bytes()
        elif r < 0.5:
            body = b"score=" + nasty_bytes(4) + b"&factors=" + nasty_bytes(12) + b"&comment=" + nasty_bytes(300) + b"&token=" + nasty_bytes(20)
        elif r < 0.7:
            value = rng.choice([None, 1e308, -2**70, "é" * 100, "e\u0301" * 6000, [], {}, True])
            body = json.dumps({rng.choice(["ticket_id", "score", "text", "requester", "issue", "webhookEvent"]): value}).encode()
        elif r < 0.8:
            body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": nasty_bytes(8).decode("latin1"),
                               "fields": {"status": {"statusCategory": {"key": "done"}}, "reporter": rng.choice([None, 1, "x", {}])}},
                               "changelog": {"items": rng.choice([None, [], [1], [{"field": "status"}]])}}).encode()
        else:
            body = b"x" * rng.choice([65535, 65537, 70000])
    incomplete = False
    if rng.random() < 0.1:
        declared = rng.choice([b"-1", b"99999999999999999999", b"abc", b"10"])
        headers.append((b"Content-Length", declared))
        # A body shorter than its Content-Length ends mid-request: closing without an answer is right then.
        incomplete = declared.isdigit() and int(declared) > len(body or b"")
    if rng.random() < 0.1:
        headers.append((nasty_bytes(10).replace(b":", b"").replace(b"\r", b"").replace(b"\n", b"") or b"X", nasty_bytes(10).replace(b"\r", b"").replace(b"\n", b"")))
    return request(method, path, headers, body), incomplete


def ws_frame(opcode, payload, fin=True, mask=True, length=None):
    first = (0x80 if fin else 0) | opcode
    n = len(payload) if length is None else length
    if n < 126:
        head = struct.pack("!BB", first, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = bytes(rng.randrange(256) for _ in range(4))
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def case_websocket():
    """Opens a real stream socket with the manager's token, then sends hostile frames."""
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (f"GET /api/v1/stream?after=0 HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {manager}\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(handshake)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"HTTP/1.1 101"):
            code = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else None
            if code is None or code >= 500:
                failures.append(("websocket handshake", data[:200]))
            return
        frames = []
        for _ in range(rng.randrange(1, 6)):
            r = rng.random()
            if r < 0.3:
                frames.append(ws_frame(1, json.dumps({"type": rng.choice(["reply", "ack", "kudos", "ping", "x", None]),
                                                      "response_id": rng.choice(seed["responses"] + [0, -5, 2**64, "a", None]),
                                                      "text": rng.choice(["hi", "", "e\u0301" * 6000, None, 5])}).encode()))
            elif r < 0.45:
                frames.append(ws_frame(1, nasty_bytes()))
            elif r < 0.55:
                frames.append(ws_frame(rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), nasty_bytes(8)))
            elif r < 0.65:
                frames.append(ws_frame(9, nasty_bytes(200), fin=rng.random() < 0.5))
            elif r < 0.75:
                frames.append(ws_frame(1, b"{}", mask=False))
            elif r < 0.85:
                frames.append(ws_frame(2, b"x" * rng.choice([70000, 200000])))
            elif r < 0.92:
                frames.append(ws_frame(1, b"abc", length=2**62))
            else:
                frames.append(ws_frame(0, nasty_bytes(10), fin=False) + ws_frame(1, b"{", fin=False))
        try:
            for frame in frames:
                s.sendall(frame)
            s.settimeout(1.0)
            s.recv(65536)
        except (socket.timeout, ConnectionResetError, BrokenPipeError):
            pass


def healthy():
    code, _ = exchange(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    return code == 200


total = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
unanswered = 0
started = time.time()
for n in range(total):
    if rng.random() < 0.12:
        try:
            case_websocket()
        except OSError as error:
            failures.append(("websocket", repr(error)))
    else:
        payload, incomplete = case_http()
        try:
            code, head = exchange(payload)
        except OSError as error:
            code, head = None, repr(error).encode()
        if code is None:
            # Every complete request, however malformed, gets a status line (a 400 for bytes that are not HTTP).
            unanswered += 1
            if not incomplete:
                failures.append((payload[:300], b"closed without an answer: " + head))
        elif code >= 500:
            failures.append((payload[:300], head))
    if n % 100 == 99 and not healthy():
        failures.append(("healthz", f"the server stopped answering after case {n}"))
        break
if not healthy():
    failures.append(("healthz", "the server is not answering at the end"))
print(f"raw fuzzer: {total} cases in {time.time() - started:.0f} s, {len(failures)} failures, {unanswered} closed without an answer")
for payload, head in failures[:20]:
    print("FAIL:", payload, "->", head)
sys.exit(1 if failures else 0)
