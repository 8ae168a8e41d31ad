-- People who read feedback: analysts (their own tickets), managers (everything), admins.
-- API tokens and browser sessions are stored only as SHA-256 hashes.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- Matches closures' assignee.id when the ITSM identifies people by id rather than email.
    assignee_id TEXT,
    role        TEXT NOT NULL CHECK (role IN ('analyst', 'manager', 'admin')),
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX users_assignee ON users (assignee_id);

CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
