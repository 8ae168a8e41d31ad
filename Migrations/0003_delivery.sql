-- Delivery: one row per send attempt of an outbox row, so every failure keeps its curl text and
-- SMTP/HTTP status even after a later attempt succeeds.
CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL CHECK (attempt >= 1),
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    -- sent: delivered; retry: failed, will be tried again; dead: failed for good (or last attempt).
    outcome      TEXT NOT NULL CHECK (outcome IN ('sent', 'retry', 'dead')),
    -- Last SMTP reply code or HTTP status, when the server answered at all.
    status_code  INTEGER,
    -- libcurl's CURLcode for transport failures (7 connect, 28 timeout, 35/60 TLS, …).
    curl_code    INTEGER,
    detail       TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- Reminder scan: unanswered sent invitations by send time.
CREATE INDEX invitations_status_sent ON invitations (status, sent_at);
