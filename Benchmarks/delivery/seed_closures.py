"""Posts N closures to a running happydesk over one keep-alive connection (each becomes an outbox row)."""
import http.client, json, sys

port, count = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
for i in range(count):
    body = json.dumps({
        "ticket_id": f"BENCH{i:05d}", "source": "bench", "kind": "incident" if i % 3 else "request",
        "requester": {"email": f"user{i}@example.com", "name": "Bench Ü. User", "locale": "de" if i % 4 == 0 else "en"},
        "assignee": {"id": "analyst-1", "name": "Sam Analyst"}, "closed_at": "2026-11-20T14:05:00Z",
    })
    conn.request("POST", "/api/v1/closures", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 201:
        sys.exit(f"closure {i}: HTTP {response.status}")
