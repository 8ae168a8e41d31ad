-- Roll-ups move off the write path. The triggers of 0005 upserted about 10 roll-up rows per response and
-- 9 per chosen factor inside every submission's transaction, which made them most of a submission's cost.
-- Now a change only marks its response in `rollup_dirty` (one small insert); `Rollups.fold` (Swift) later
-- folds the marked responses in bulk: it subtracts what each one counted before (`rollup_counted`), adds
-- what it counts now, and merges the deltas in memory first, so a thousand answers on one day cost a
-- handful of upserts. The server folds every second, and every dashboard read folds first, so the
-- figures a report shows stay exact.

DROP TRIGGER dashboard_response_insert;
DROP TRIGGER dashboard_response_update;
DROP TRIGGER dashboard_response_factor_move;
DROP TRIGGER dashboard_response_delete;
DROP TRIGGER dashboard_factor_insert;
DROP TRIGGER dashboard_factor_delete;

-- What one response counts in the roll-ups now: the dimension values of dashboard_response_dims, one row per
-- response, with its factors as a sorted comma-separated list.
CREATE VIEW rollup_response_state AS
SELECT r.id AS response_id,
       substr(r.first_answered_at, 1, 10) AS day,
       i.kind AS kind,
       r.score AS score,
       r.lost_minutes AS lost_minutes,
       COALESCE(NULLIF(i.service, ''), '(none)') AS service,
       COALESCE(NULLIF(i.group_name, ''), '(none)') AS group_name,
       COALESCE(NULLIF(c.channel, ''), '(none)') AS channel,
       COALESCE(NULLIF(c.country, ''), '(none)') AS country,
       COALESCE(NULLIF(i.assignee_name, ''), NULLIF(i.assignee_id, ''), '(none)') AS assignee,
       c.source AS source,
       CASE WHEN c.reassignments >= 5 THEN '5+' ELSE CAST(c.reassignments AS TEXT) END AS reassignments,
       (SELECT group_concat(factor_id, ',') FROM (SELECT factor_id FROM response_factors f WHERE f.response_id = r.id ORDER BY factor_id))
           AS factors
FROM responses r
JOIN invitations i ON i.id = r.invitation_id
JOIN closures c ON c.id = i.closure_id;

-- What each response counts in the roll-ups as of the last fold. No foreign key: the row must outlive a
-- deleted response so that the fold can subtract it.
CREATE TABLE rollup_counted (
    response_id   INTEGER PRIMARY KEY,
    day           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    score         INTEGER NOT NULL,
    lost_minutes  INTEGER,
    service       TEXT,
    group_name    TEXT,
    channel       TEXT,
    country       TEXT,
    assignee      TEXT,
    source        TEXT,
    reassignments TEXT,
    factors       TEXT
);

-- Responses changed since the last fold.
CREATE TABLE rollup_dirty (response_id INTEGER PRIMARY KEY);

CREATE TRIGGER rollup_mark_response_insert AFTER INSERT ON responses BEGIN
    INSERT OR IGNORE INTO rollup_dirty (response_id) VALUES (NEW.id);
END;

CREATE TRIGGER rollup_mark_response_update AFTER UPDATE OF score, lost_minutes, first_answered_at, invitation_id ON responses
WHEN OLD.score IS NOT NEW.score OR OLD.lost_minutes IS NOT NEW.lost_minutes OR OLD.first_answered_at IS NOT NEW.first_answered_at
  OR OLD.invitation_id IS NOT NEW.invitation_id
BEGIN
    INSERT OR IGNORE INTO rollup_dirty (response_id) VALUES (NEW.id);
END;

CREATE TRIGGER rollup_mark_response_delete AFTER DELETE ON responses BEGIN
    INSERT OR IGNORE INTO rollup_dirty (response_id) VALUES (OLD.id);
END;

CREATE TRIGGER rollup_mark_factor_insert AFTER INSERT ON response_factors BEGIN
    INSERT OR IGNORE INTO rollup_dirty (response_id) VALUES (NEW.response_id);
END;

CREATE TRIGGER rollup_mark_factor_delete AFTER DELETE ON response_factors BEGIN
    INSERT OR IGNORE INTO rollup_dirty (response_id) VALUES (OLD.response_id);
END;

-- Sent invitations: one trigger that does nothing unless the invitation's counting actually changes
-- (sent → answered, the common update, moves nothing).
DROP TRIGGER dashboard_sent_update_old;
DROP TRIGGER dashboard_sent_update_new;

CREATE TRIGGER dashboard_sent_update AFTER UPDATE OF status, sent_at, created_at, kind ON invitations
WHEN (OLD.sent_at IS NOT NULL OR OLD.status IN ('sent', 'answered', 'expired'))
         IS NOT (NEW.sent_at IS NOT NULL OR NEW.status IN ('sent', 'answered', 'expired'))
  OR substr(COALESCE(OLD.sent_at, OLD.created_at), 1, 10) IS NOT substr(COALESCE(NEW.sent_at, NEW.created_at), 1, 10)
  OR OLD.kind IS NOT NEW.kind
BEGIN
    INSERT INTO dashboard_sent_daily (day, kind, sent)
    SELECT substr(COALESCE(OLD.sent_at, OLD.created_at), 1, 10), OLD.kind, -1
    WHERE OLD.sent_at IS NOT NULL OR OLD.status IN ('sent', 'answered', 'expired')
    ON CONFLICT (day, kind) DO UPDATE SET sent = sent - 1;
    INSERT INTO dashboard_sent_daily (day, kind, sent)
    SELECT substr(COALESCE(NEW.sent_at, NEW.created_at), 1, 10), NEW.kind, 1
    WHERE NEW.sent_at IS NOT NULL OR NEW.status IN ('sent', 'answered', 'expired')
    ON CONFLICT (day, kind) DO UPDATE SET sent = sent + 1;
END;

-- The roll-ups of 0005 are exact for the existing responses: record what each of them counts.
INSERT INTO rollup_counted SELECT * FROM rollup_response_state;
