#!/usr/bin/env python3
"""Stream latency benchmark: submission-to-delivery latency with N connected analyst sockets while
responses arrive at a fixed rate.

t0 is taken just before the requester's POST /s/{token} is written; t1 when a socket receives the
matching `response.created` frame. Every delivery to every socket that may see the event counts.
Needs: python3 with `websockets` (scripts/deps.sh test installs it).
"""
import argparse
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlparse

import websockets


class Http:
    """A minimal keep-alive HTTP/1.1 client: the benchmark must not be limited by its client library."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        for key, value in (headers or {}).items():
            head += f"{key}: {value}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        data = await self.reader.readexactly(length) if length else b""
        return status, data


def closure(ticket, assignee):
    return json.dumps({
        "ticket_id": ticket, "source": "bench", "kind": "incident",
        "requester": {"email": f"{ticket.lower()}@example.com", "name": "Bench Requester", "locale": "en"},
        "assignee": {"id": assignee, "name": assignee, "email": f"{assignee}@example.com"},
        "group": "Service Desk", "service": "VPN", "closed_at": "2026-11-20T14:05:00Z",
    }).encode()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", required=True, help="file of 'role assignee token' lines")
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32, help="HTTP connections submitting responses")
    args = parser.parse_args()
    url = urlparse(args.url)
    host, port = url.hostname, url.port

    users = [line.split() for line in open(args.users) if line.strip()]
    analysts = [u for u in users if u[0] == "analyst"]
    managers = [u for u in users if u[0] == "manager"]
    integration = next(u[2] for u in users if u[0] == "integration")
    total = int(args.rate * args.seconds)

    # 1. Invitations, created up front so only answering runs during the measurement.
    print(f"creating {total} invitations…", file=sys.stderr)
    tokens = {}
    clients = [Http(host, port) for _ in range(8)]

    async def create(worker):
        for i in range(worker, total, len(clients)):
            ticket = f"BENCH{i:06d}"
            assignee = analysts[i % len(analysts)][1]
            status, data = await clients[worker].request("POST", "/api/v1/closures", closure(ticket, assignee),
                                                         {"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {integration}"})
            if status != 201:
                raise SystemExit(f"closure {ticket}: HTTP {status} {data[:200]!r}")
            tokens[ticket] = json.loads(data)["survey_url"].rsplit("/", 1)[1]
    await asyncio.gather(*(create(w) for w in range(len(clients))))

    # 2. Sockets: managers first (they see everything), the rest analysts, spread evenly.
    sent_at = {}
    latencies = []
    per_socket = [0] * args.sockets
    sockets = []
    for index in range(args.sockets):
        if index < len(managers):
            _, _, token = managers[index]
        else:
            _, _, token = analysts[(index - len(managers)) % len(analysts)]
        ws = await websockets.connect(f"ws://{host}:{port}/api/v1/stream",
                                      additional_headers={"Authorization": f"Bearer {token}"},
                                      max_size=2 ** 20, ping_interval=None)
        sockets.append(ws)
    print(f"{len(sockets)} sockets connected ({min(len(managers), args.sockets)} managers)", file=sys.stderr)

    async def listen(index, ws):
        marker = '"ticket_id":"'
        try:
            async for frame in ws:
                now = time.perf_counter()
                start = frame.find(marker)
                if start < 0:
                    continue
                start += len(marker)
                ticket = frame[start:frame.find('"', start)]
                t0 = sent_at.get(ticket)
                if t0 is not None:
                    latencies.append(now - t0)
                    per_socket[index] += 1
        except websockets.ConnectionClosed as closed:
            print(f"socket {index} closed: {closed}", file=sys.stderr)

    listeners = [asyncio.create_task(listen(i, ws)) for i, ws in enumerate(sockets)]

    # 3. Responses at a fixed rate over a pool of keep-alive connections.
    pool = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(Http(host, port))
    errors = 0
    post_times = []
    body = json.dumps({"score": 9, "factors": ["speed"], "comment": "quick and friendly", "lost_time": "none"}).encode()

    async def submit(ticket):
        nonlocal errors
        client = await pool.get()
        try:
            t0 = sent_at[ticket] = time.perf_counter()
            status, _ = await client.request("POST", f"/s/{tokens[ticket]}", body, {"Content-Type": "application/json"})
            post_times.append(time.perf_counter() - t0)
            if status != 200:
                errors += 1
        finally:
            pool.put_nowait(client)

    tickets = sorted(tokens)
    start = time.perf_counter()
    tasks = []
    for i, ticket in enumerate(tickets):
        due = start + i / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(submit(ticket)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    # Each event goes to every manager socket and to the sockets of its analyst.
    sockets_per_analyst = {}
    for index in range(len(managers), args.sockets):
        key = analysts[(index - len(managers)) % len(analysts)][1]
        sockets_per_analyst[key] = sockets_per_analyst.get(key, 0) + 1
    expected = sum(min(len(managers), args.sockets) + sockets_per_analyst.get(analysts[i % len(analysts)][1], 0)
                   for i in range(total))
    deadline = time.perf_counter() + 10
    while len(latencies) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    for ws in sockets:
        await ws.close()
    for task in listeners:
        task.cancel()

    ms = sorted(x * 1000 for x in latencies)
    def pct(p):
        return ms[min(len(ms) - 1, int(len(ms) * p / 100))] if ms else float("nan")
    result = {
        "sockets": len(sockets), "managers": min(len(managers), args.sockets), "responses": total,
        "offered_rate": args.rate, "achieved_rate": round(total / elapsed, 1), "http_errors": errors,
        "deliveries": len(ms), "expected_deliveries": expected,
        "p50_ms": round(pct(50), 2), "p90_ms": round(pct(90), 2), "p99_ms": round(pct(99), 2), "max_ms": round(ms[-1], 2) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        # The requester's own POST round trip (commit included), for comparison with delivery.
        "post_p50_ms": round(sorted(post_times)[len(post_times) // 2] * 1000, 2) if post_times else None,
        "post_p99_ms": round(sorted(post_times)[int(len(post_times) * 0.99)] * 1000, 2) if post_times else None,
    }
    print(json.dumps(result))
    return 0 if ms and len(ms) == expected and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
