-- happydesk schema, first release. Never edit a released migration: add 0002_….sql instead.
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.SSS' (GRDB's Date encoding): sortable and usable by SQLite's date functions.

-- One row per ticket closure received from an ITSM. (source, ticket_id) makes intake idempotent.
CREATE TABLE closures (
    id               INTEGER PRIMARY KEY,
    source           TEXT NOT NULL,
    ticket_id        TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('incident', 'request')),
    state            TEXT NOT NULL DEFAULT 'resolved' CHECK (state IN ('resolved', 'closed')),
    requester_email  TEXT NOT NULL,
    requester_name   TEXT,
    requester_locale TEXT,
    assignee_id      TEXT,
    assignee_name    TEXT,
    assignee_email   TEXT,
    group_name       TEXT,
    service          TEXT,
    channel          TEXT,
    country          TEXT,
    reassignments    INTEGER NOT NULL DEFAULT 0 CHECK (reassignments >= 0),
    closed_at        TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    UNIQUE (source, ticket_id)
);

-- The survey sent for a closure. Assignee, group and service are snapshotted here at closure time so
-- feedback is credited to whoever resolved the ticket even if the ticket is reassigned later.
-- The link token is never stored: only its SHA-256.
CREATE TABLE invitations (
    id             INTEGER PRIMARY KEY,
    closure_id     INTEGER NOT NULL UNIQUE REFERENCES closures(id) ON DELETE CASCADE,
    survey         TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('incident', 'request')),
    token_hash     BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    locale         TEXT NOT NULL,
    requester_email TEXT NOT NULL,
    requester_name TEXT,
    assignee_id    TEXT,
    assignee_name  TEXT,
    assignee_email TEXT,
    group_name     TEXT,
    service        TEXT,
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'answered', 'skipped', 'expired', 'failed')),
    skip_reason    TEXT,
    created_at     TEXT NOT NULL,
    sent_at        TEXT,
    expires_at     TEXT NOT NULL
);
CREATE INDEX invitations_requester ON invitations (requester_email, created_at);
CREATE INDEX invitations_assignee ON invitations (assignee_id);

-- Transactional outbox: a row is written in the same transaction as the invitation (or reply) it
-- delivers. The link token is kept sealed (AES-GCM under the server key), never in clear.
CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY,
    invitation_id  INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    purpose        TEXT NOT NULL DEFAULT 'survey' CHECK (purpose IN ('survey', 'reminder', 'reply', 'alert', 'reopen', 'response_webhook')),
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'file')),
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    sealed_token   BLOB,
    payload        TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    due_at         TEXT NOT NULL,
    claimed_until  TEXT,
    sent_at        TEXT,
    last_error     TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (status, due_at);
CREATE INDEX deliveries_invitation ON deliveries (invitation_id);

-- One response per invitation; amendments update it in place and bump revision.
-- lost_minutes NULL means "not answered", distinct from 0 ("no time lost").
CREATE TABLE responses (
    id               INTEGER PRIMARY KEY,
    invitation_id    INTEGER NOT NULL UNIQUE REFERENCES invitations(id) ON DELETE CASCADE,
    score            INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    lost_bucket      TEXT,
    lost_minutes     INTEGER CHECK (lost_minutes IS NULL OR lost_minutes >= 0),
    comment          TEXT,
    revision         INTEGER NOT NULL DEFAULT 1,
    first_answered_at TEXT NOT NULL,
    last_changed_at  TEXT NOT NULL
);

CREATE TABLE response_factors (
    response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    factor_id   TEXT NOT NULL,
    PRIMARY KEY (response_id, factor_id)
) WITHOUT ROWID;
CREATE INDEX response_factors_factor ON response_factors (factor_id);

-- Append-only event log: every new or changed response (and, later, messages and kudos) appends a row
-- in the same transaction as the change. Its id is the stream's resume cursor.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    type          TEXT NOT NULL,
    response_id   INTEGER REFERENCES responses(id) ON DELETE CASCADE,
    invitation_id INTEGER REFERENCES invitations(id) ON DELETE CASCADE,
    assignee_id   TEXT,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX events_assignee ON events (assignee_id, id);
