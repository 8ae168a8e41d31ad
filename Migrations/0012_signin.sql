-- Sign-in people can use (issue 11): OpenID Connect and email links.
--
-- signin_states: one row per OpenID Connect sign-in under way. The browser holds the clear state in a cookie
-- and in the provider's redirect; the table holds only its SHA-256, the nonce's SHA-256 and the PKCE verifier
-- (sent once to the token endpoint). A row is deleted when used (single use) and is good for 10 minutes.
CREATE TABLE signin_states (
    state_hash    BLOB PRIMARY KEY,
    nonce_hash    BLOB NOT NULL,
    code_verifier TEXT NOT NULL,
    next_path     TEXT,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX signin_states_expires ON signin_states (expires_at);

-- signin_links: emailed single-use sign-in links, 15 minutes. The token is stored as its SHA-256; the clear
-- token exists only in the link and, sealed (AES-GCM bound to this row's id), in the outbox row that mails it.
-- email holds a personal address: erasure and retention must cover this table.
CREATE TABLE signin_links (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    email       TEXT NOT NULL COLLATE NOCASE,
    next_path   TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX signin_links_email ON signin_links (email, created_at);

-- The outbox carries sign-in emails, which belong to a link rather than an invitation: invitation_id becomes
-- optional, a row names either an invitation or a sign-in link, and the purpose 'signin' is allowed.
-- SQLite cannot change a CHECK or NOT NULL in place: the table is rebuilt with the same ids, so
-- delivery_attempts' foreign key (which names `deliveries`) stays valid.
CREATE TABLE deliveries_new (
    id             INTEGER PRIMARY KEY,
    invitation_id  INTEGER REFERENCES invitations(id) ON DELETE CASCADE,
    purpose        TEXT NOT NULL DEFAULT 'survey' CHECK (purpose IN ('survey', 'reminder', 'reply', 'alert', 'reopen', 'response_webhook', 'signin')),
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'file')),
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    sealed_token   BLOB,
    payload        TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    due_at         TEXT NOT NULL,
    claimed_until  TEXT,
    sent_at        TEXT,
    last_error     TEXT,
    created_at     TEXT NOT NULL,
    lease_id       TEXT,
    signin_link_id INTEGER REFERENCES signin_links(id) ON DELETE CASCADE,
    CHECK (invitation_id IS NOT NULL OR signin_link_id IS NOT NULL)
);
INSERT INTO deliveries_new (id, invitation_id, purpose, channel, status, sealed_token, payload, attempts, due_at, claimed_until, sent_at,
                            last_error, created_at, lease_id)
    SELECT id, invitation_id, purpose, channel, status, sealed_token, payload, attempts, due_at, claimed_until, sent_at,
           last_error, created_at, lease_id FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (status, due_at);
CREATE INDEX deliveries_invitation ON deliveries (invitation_id);
CREATE INDEX deliveries_signin_link ON deliveries (signin_link_id);
