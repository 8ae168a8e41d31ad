-- Two scoped roles: `lead` (sees the feedback of their assignment groups) and `owner` (of their services).
-- SQLite cannot change a CHECK in place: the table is rebuilt with the same ids, as 0007 did, so the foreign
-- keys of sessions, messages, kudos and response_follow_ups (which name `users` by its name) stay valid.
CREATE TABLE users_new (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT UNIQUE COLLATE NOCASE,
    -- Matches closures' assignee.id when the ITSM identifies people by id rather than email.
    assignee_id TEXT,
    role        TEXT NOT NULL CHECK (role IN ('analyst', 'manager', 'admin', 'integration', 'lead', 'owner')),
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

-- A lead's groups and an owner's services: one row per name, matched case-insensitively (ASCII) against the
-- closure's `group` (invitations.group_name) and `service`. A table rather than a list in a column: no
-- delimiter to escape, one row per fact, and the store replaces a user's scope in the same transaction as
-- their role. UserStore keeps the rule that a lead has at least one group, an owner at least one service,
-- and nobody else any.
CREATE TABLE user_scopes (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('group', 'service')),
    name    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    PRIMARY KEY (user_id, kind, name)
) WITHOUT ROWID;

-- A scoped dashboard reads the per-response roll-up state for its groups or services.
CREATE INDEX rollup_counted_group ON rollup_counted (lower(group_name), day);
CREATE INDEX rollup_counted_service ON rollup_counted (lower(service), day);
