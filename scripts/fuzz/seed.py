"""Seeds the fuzz server over HTTP: closures (integration token), answers, an analyst reply. Writes the
tokens and response ids to $FUZZ_SEED_FILE for the schemathesis hooks and the raw fuzzer."""
import json
import os
import urllib.request

base = os.environ["FUZZ_BASE"]


def call(method, path, body=None, token=None, form=False):
    headers = {}
    data = None
    if body is not None:
        if form:
            data = body.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
        return json.loads(text) if response.headers.get("Content-Type", "").startswith("application/json") else text


tokens, responses = [], []
for n in range(12):
    reply = call("POST", "/api/v1/closures", {
        "ticket_id": f"FUZZ-{n}", "source": "servicenow", "kind": "incident" if n % 2 else "request",
        "requester": {"email": f"req{n}@example.test", "name": f"Requester {n}", "locale": "en-GB"},
        "assignee": {"id": "analyst-7", "name": "Sam Analyst", "email": "sam@example.com"},
        "group": "Service Desk", "service": "VPN", "closed_at": "2026-11-20T14:05:00Z"}, token=os.environ["FUZZ_INTEGRATION"])
    url = reply.get("survey_url")
    if not url:
        raise SystemExit(f"seed: no survey_url in {reply}")
    token = url.rsplit("/", 1)[1]
    tokens.append(token)
    if n < 9:
        saved = call("POST", f"/s/{token}", {"score": (n * 3) % 11, "comment": f"seed comment {n}"})
        responses.append(saved["response_id"])
for rid in responses[:3]:
    call("POST", f"/api/v1/responses/{rid}/replies", {"text": "Thanks, following up."}, token=os.environ["FUZZ_MANAGER"])
path = os.environ.get("FUZZ_SEED_FILE")
if path:
    with open(path, "w") as handle:
        json.dump({"tokens": tokens, "responses": responses}, handle)
print(f"seed: {len(tokens)} invitations, {len(responses)} responses")
