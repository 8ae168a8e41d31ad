-- A fourth role, `integration`: an API token an ITSM sends as `Authorization: Bearer` on closures instead of
-- an HMAC signature. It names a system, not a person, so its email is optional (people still need one).
-- SQLite cannot change a CHECK or NOT NULL in place: the table is rebuilt with the same ids, so the foreign
-- keys of sessions, messages, kudos and response_follow_ups (which name `users` by its name) stay valid.
CREATE TABLE users_new (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT UNIQUE COLLATE NOCASE,
    -- Matches closures' assignee.id when the ITSM identifies people by id rather than email.
    assignee_id TEXT,
    role        TEXT NOT NULL CHECK (role IN ('analyst', 'manager', 'admin', 'integration')),
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CHECK (email IS NOT NULL OR role = 'integration')
);
INSERT INTO users_new (id, name, email, assignee_id, role, token_hash, created_at, revoked_at)
    SELECT id, name, email, assignee_id, role, token_hash, created_at, revoked_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_assignee ON users (assignee_id);

-- Sessions get an idle lifetime besides their absolute one: the last time the cookie was used, written
-- at most once a minute. Existing sessions count as used when they started.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
UPDATE sessions SET last_seen_at = created_at;
-- Revoking a user ends their sessions by user id.
CREATE INDEX sessions_user ON sessions (user_id);
