"""Seeds N answerable invitations straight into a migrated happydesk database and prints their tokens.

Tokens are made like the server makes them (32 CSPRNG bytes, base64url) and stored only as SHA-256,
so the benchmark can post answers without scraping links out of responses.
"""
import base64, hashlib, os, sqlite3, sys
from datetime import datetime, timedelta, timezone

db_path, count, tokens_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(db_path)
now = datetime.now(timezone.utc)
fmt = lambda d: d.strftime("%Y-%m-%d %H:%M:%S.000")
with open(tokens_path, "w") as out, db:
    for i in range(count):
        token = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        cur = db.execute(
            "INSERT INTO closures (source, ticket_id, kind, requester_email, requester_name, requester_locale, assignee_id,"
            " group_name, service, closed_at, received_at) VALUES ('bench', ?, 'incident', ?, 'Bench User', 'en', 'a1', 'Desk', 'VPN', ?, ?)",
            (f"B{i}", f"user{i}@example.com", fmt(now), fmt(now)))
        db.execute(
            "INSERT INTO invitations (closure_id, survey, kind, token_hash, locale, requester_email, assignee_id, group_name, service,"
            " status, created_at, expires_at) VALUES (?, 'incident', 'incident', ?, 'en', ?, 'a1', 'Desk', 'VPN', 'sent', ?, ?)",
            (cur.lastrowid, hashlib.sha256(token.encode()).digest(), f"user{i}@example.com", fmt(now), fmt(now + timedelta(days=28))))
        out.write(token + "\n")
