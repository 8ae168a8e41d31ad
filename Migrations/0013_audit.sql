-- The audit trail: who did what, when and from where (sign-ins, replies, kudos, acknowledgements, dashboard and
-- export views, user changes, outbox retries and purges, retention runs, erasures). Written only by `AuditLog`.
-- Append-only: the triggers below refuse every UPDATE and DELETE, so a row once written stays as written.
-- No foreign key to users: a row must outlive the user it names (an erased user keeps their audit rows, by id).
-- No personal data in clear: the actor is a user id and role (or 'cli' / 'system' / 'anonymous'); an erasure's
-- address is kept only as a keyed hash in `details`.
CREATE TABLE audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor_kind    TEXT NOT NULL CHECK (actor_kind IN ('user', 'cli', 'system', 'anonymous')),
    actor_user_id INTEGER,
    actor_role    TEXT,
    action        TEXT NOT NULL,
    target        TEXT,
    remote        TEXT NOT NULL,
    details       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_actor ON audit (actor_user_id, id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
