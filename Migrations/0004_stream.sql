-- The two-way feedback stream: the conversation on a response, kudos from managers, and follow-up state.
-- Every row here is written in the same transaction as its `events` row (see Stream/).

-- One message of the conversation on a response: an analyst's reply or the requester's answer back.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    response_id    INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    invitation_id  INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    author_kind    TEXT NOT NULL CHECK (author_kind IN ('analyst', 'requester')),
    -- The signed-in user for analyst replies; NULL for the requester.
    author_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    author_name    TEXT,
    text           TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    created_at     TEXT NOT NULL
);
CREATE INDEX messages_response ON messages (response_id, id);

-- Recognition from a manager on a response.
CREATE TABLE kudos (
    id           INTEGER PRIMARY KEY,
    response_id  INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    from_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    from_name    TEXT NOT NULL,
    text         TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    created_at   TEXT NOT NULL
);
CREATE INDEX kudos_response ON kudos (response_id);

-- Follow-up state of a response: flagged when the requester says the issue is not solved (or an
-- analyst should otherwise act), handled once an analyst acknowledges it.
CREATE TABLE response_follow_ups (
    response_id   INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
    needed        INTEGER NOT NULL DEFAULT 0 CHECK (needed IN (0, 1)),
    reason        TEXT,
    flagged_at    TEXT,
    handled_at    TEXT,
    handled_by    INTEGER REFERENCES users(id) ON DELETE SET NULL
) WITHOUT ROWID;

-- Replay for a viewer joins events to the invitation's assignee snapshot.
CREATE INDEX events_invitation ON events (invitation_id);
CREATE INDEX invitations_assignee_email ON invitations (assignee_email COLLATE NOCASE);
