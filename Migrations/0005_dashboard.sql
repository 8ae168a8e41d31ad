-- Dashboard roll-ups. The dashboard reads daily counts instead of scanning every response, so a report
-- over a million responses reads a few thousand rows. Triggers keep the roll-ups exact on every insert,
-- amendment and deletion; the INSERT … SELECT statements at the end fill them from existing data.
--
-- Day = UTC date of responses.first_answered_at (a response belongs to the day it was first answered).
-- Dimensions are read from the invitation snapshot (assignee, group, service, kind) and the closure
-- (channel, country, source, reassignments), both fixed once the response exists.

-- Every response unpivoted into one row per dimension: ('all', ''), ('service', 'VPN'), …,
-- ('lost', '45') for the lost-time histogram (NULL value when lost time was not answered).
CREATE VIEW dashboard_response_dims AS
SELECT r.id AS response_id,
       substr(r.first_answered_at, 1, 10) AS day,
       i.kind AS kind,
       r.score AS score,
       r.lost_minutes AS lost_minutes,
       d.dim AS dim,
       CASE d.dim
           WHEN 'all' THEN ''
           WHEN 'service' THEN COALESCE(NULLIF(i.service, ''), '(none)')
           WHEN 'group' THEN COALESCE(NULLIF(i.group_name, ''), '(none)')
           WHEN 'channel' THEN COALESCE(NULLIF(c.channel, ''), '(none)')
           WHEN 'country' THEN COALESCE(NULLIF(c.country, ''), '(none)')
           WHEN 'assignee' THEN COALESCE(NULLIF(i.assignee_name, ''), NULLIF(i.assignee_id, ''), '(none)')
           WHEN 'source' THEN c.source
           WHEN 'kind' THEN i.kind
           WHEN 'reassignments' THEN CASE WHEN c.reassignments >= 5 THEN '5+' ELSE CAST(c.reassignments AS TEXT) END
           WHEN 'lost' THEN CAST(r.lost_minutes AS TEXT)
       END AS value
FROM responses r
JOIN invitations i ON i.id = r.invitation_id
JOIN closures c ON c.id = i.closure_id
CROSS JOIN (SELECT 'all' AS dim UNION ALL SELECT 'service' UNION ALL SELECT 'group' UNION ALL SELECT 'channel'
            UNION ALL SELECT 'country' UNION ALL SELECT 'assignee' UNION ALL SELECT 'source' UNION ALL SELECT 'kind'
            UNION ALL SELECT 'reassignments' UNION ALL SELECT 'lost') d;

-- Per day, kind and dimension value: responses, 9–10 answers, 0–6 answers, lost-time answers and their minutes.
CREATE TABLE dashboard_daily (
    dim           TEXT NOT NULL,
    value         TEXT NOT NULL,
    day           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    responses     INTEGER NOT NULL DEFAULT 0,
    positive      INTEGER NOT NULL DEFAULT 0,
    negative      INTEGER NOT NULL DEFAULT 0,
    lost_answered INTEGER NOT NULL DEFAULT 0,
    lost_minutes  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, day, kind, value)
) WITHOUT ROWID;

-- Per day, kind, dimension value, score band and factor: how many respondents picked it.
CREATE TABLE dashboard_factor_daily (
    dim       TEXT NOT NULL,
    value     TEXT NOT NULL,
    day       TEXT NOT NULL,
    kind      TEXT NOT NULL,
    band      TEXT NOT NULL,
    factor_id TEXT NOT NULL,
    picks     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, day, kind, value, band, factor_id)
) WITHOUT ROWID;

-- Invitations actually sent, per day and kind: the denominator of the response rate. An invitation counts
-- as sent when sent_at is set, or when its status is sent, answered or expired (rows created before
-- delivery recorded sent_at); it is dated by sent_at, else created_at. Pending, skipped and failed
-- invitations without sent_at never reached the requester and do not count.
CREATE TABLE dashboard_sent_daily (
    day  TEXT NOT NULL,
    kind TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
) WITHOUT ROWID;

-- Latest comments without scanning every response.
CREATE INDEX responses_commented ON responses (first_answered_at) WHERE comment IS NOT NULL AND comment <> '';

-- Responses: add on insert; move on a changed score, lost time or day; remove before deletion.
CREATE TRIGGER dashboard_response_insert AFTER INSERT ON responses BEGIN
    INSERT INTO dashboard_daily (dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes)
    SELECT dim, value, day, kind, 1, score >= 9, score <= 6, lost_minutes IS NOT NULL, COALESCE(lost_minutes, 0)
    FROM dashboard_response_dims WHERE response_id = NEW.id AND value IS NOT NULL
    ON CONFLICT (dim, day, kind, value) DO UPDATE SET
        responses = responses + excluded.responses, positive = positive + excluded.positive,
        negative = negative + excluded.negative, lost_answered = lost_answered + excluded.lost_answered,
        lost_minutes = lost_minutes + excluded.lost_minutes;
END;

CREATE TRIGGER dashboard_response_update AFTER UPDATE OF score, lost_minutes, first_answered_at ON responses
WHEN OLD.score IS NOT NEW.score OR OLD.lost_minutes IS NOT NEW.lost_minutes OR OLD.first_answered_at IS NOT NEW.first_answered_at
BEGIN
    INSERT INTO dashboard_daily (dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes)
    SELECT dim,
           CASE WHEN dim = 'lost' THEN CAST(OLD.lost_minutes AS TEXT) ELSE value END,
           substr(OLD.first_answered_at, 1, 10), kind, -1, -(OLD.score >= 9), -(OLD.score <= 6),
           -(OLD.lost_minutes IS NOT NULL), -COALESCE(OLD.lost_minutes, 0)
    FROM dashboard_response_dims
    WHERE response_id = NEW.id AND (dim <> 'lost' OR OLD.lost_minutes IS NOT NULL) AND (dim = 'lost' OR value IS NOT NULL)
    ON CONFLICT (dim, day, kind, value) DO UPDATE SET
        responses = responses + excluded.responses, positive = positive + excluded.positive,
        negative = negative + excluded.negative, lost_answered = lost_answered + excluded.lost_answered,
        lost_minutes = lost_minutes + excluded.lost_minutes;
    INSERT INTO dashboard_daily (dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes)
    SELECT dim, value, day, kind, 1, score >= 9, score <= 6, lost_minutes IS NOT NULL, COALESCE(lost_minutes, 0)
    FROM dashboard_response_dims WHERE response_id = NEW.id AND value IS NOT NULL
    ON CONFLICT (dim, day, kind, value) DO UPDATE SET
        responses = responses + excluded.responses, positive = positive + excluded.positive,
        negative = negative + excluded.negative, lost_answered = lost_answered + excluded.lost_answered,
        lost_minutes = lost_minutes + excluded.lost_minutes;
END;

-- A changed score can move the already-picked factors to another band (amendments update the score first,
-- then replace the factors); a changed day moves them to another day.
CREATE TRIGGER dashboard_response_factor_move AFTER UPDATE OF score, first_answered_at ON responses
WHEN (CASE WHEN OLD.score >= 9 THEN 'positive' WHEN OLD.score >= 7 THEN 'neutral' ELSE 'negative' END)
     IS NOT (CASE WHEN NEW.score >= 9 THEN 'positive' WHEN NEW.score >= 7 THEN 'neutral' ELSE 'negative' END)
  OR substr(OLD.first_answered_at, 1, 10) IS NOT substr(NEW.first_answered_at, 1, 10)
BEGIN
    INSERT INTO dashboard_factor_daily (dim, value, day, kind, band, factor_id, picks)
    SELECT d.dim, d.value, substr(OLD.first_answered_at, 1, 10), d.kind,
           CASE WHEN OLD.score >= 9 THEN 'positive' WHEN OLD.score >= 7 THEN 'neutral' ELSE 'negative' END, f.factor_id, -1
    FROM dashboard_response_dims d JOIN response_factors f ON f.response_id = d.response_id
    WHERE d.response_id = NEW.id AND d.dim <> 'lost' AND d.value IS NOT NULL
    ON CONFLICT (dim, day, kind, value, band, factor_id) DO UPDATE SET picks = picks + excluded.picks;
    INSERT INTO dashboard_factor_daily (dim, value, day, kind, band, factor_id, picks)
    SELECT d.dim, d.value, d.day, d.kind,
           CASE WHEN d.score >= 9 THEN 'positive' WHEN d.score >= 7 THEN 'neutral' ELSE 'negative' END, f.factor_id, 1
    FROM dashboard_response_dims d JOIN response_factors f ON f.response_id = d.response_id
    WHERE d.response_id = NEW.id AND d.dim <> 'lost' AND d.value IS NOT NULL
    ON CONFLICT (dim, day, kind, value, band, factor_id) DO UPDATE SET picks = picks + excluded.picks;
END;

-- BEFORE: the invitation and closure are still there to say which groups the response counted in.
CREATE TRIGGER dashboard_response_delete BEFORE DELETE ON responses BEGIN
    DELETE FROM response_factors WHERE response_id = OLD.id;
    INSERT INTO dashboard_daily (dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes)
    SELECT dim, value, day, kind, -1, -(score >= 9), -(score <= 6), -(lost_minutes IS NOT NULL), -COALESCE(lost_minutes, 0)
    FROM dashboard_response_dims WHERE response_id = OLD.id AND value IS NOT NULL
    ON CONFLICT (dim, day, kind, value) DO UPDATE SET
        responses = responses + excluded.responses, positive = positive + excluded.positive,
        negative = negative + excluded.negative, lost_answered = lost_answered + excluded.lost_answered,
        lost_minutes = lost_minutes + excluded.lost_minutes;
END;

CREATE TRIGGER dashboard_factor_insert AFTER INSERT ON response_factors BEGIN
    INSERT INTO dashboard_factor_daily (dim, value, day, kind, band, factor_id, picks)
    SELECT dim, value, day, kind, CASE WHEN score >= 9 THEN 'positive' WHEN score >= 7 THEN 'neutral' ELSE 'negative' END, NEW.factor_id, 1
    FROM dashboard_response_dims WHERE response_id = NEW.response_id AND dim <> 'lost' AND value IS NOT NULL
    ON CONFLICT (dim, day, kind, value, band, factor_id) DO UPDATE SET picks = picks + excluded.picks;
END;

CREATE TRIGGER dashboard_factor_delete AFTER DELETE ON response_factors BEGIN
    INSERT INTO dashboard_factor_daily (dim, value, day, kind, band, factor_id, picks)
    SELECT dim, value, day, kind, CASE WHEN score >= 9 THEN 'positive' WHEN score >= 7 THEN 'neutral' ELSE 'negative' END, OLD.factor_id, -1
    FROM dashboard_response_dims WHERE response_id = OLD.response_id AND dim <> 'lost' AND value IS NOT NULL
    ON CONFLICT (dim, day, kind, value, band, factor_id) DO UPDATE SET picks = picks + excluded.picks;
END;

-- Invitations sent: count on insert, recount on a change of status, sent_at, created_at or kind, uncount on delete.
CREATE TRIGGER dashboard_sent_insert AFTER INSERT ON invitations
WHEN NEW.sent_at IS NOT NULL OR NEW.status IN ('sent', 'answered', 'expired')
BEGIN
    INSERT INTO dashboard_sent_daily (day, kind, sent) VALUES (substr(COALESCE(NEW.sent_at, NEW.created_at), 1, 10), NEW.kind, 1)
    ON CONFLICT (day, kind) DO UPDATE SET sent = sent + 1;
END;

CREATE TRIGGER dashboard_sent_update_old AFTER UPDATE OF status, sent_at, created_at, kind ON invitations
WHEN OLD.sent_at IS NOT NULL OR OLD.status IN ('sent', 'answered', 'expired')
BEGIN
    INSERT INTO dashboard_sent_daily (day, kind, sent) VALUES (substr(COALESCE(OLD.sent_at, OLD.created_at), 1, 10), OLD.kind, -1)
    ON CONFLICT (day, kind) DO UPDATE SET sent = sent - 1;
END;

CREATE TRIGGER dashboard_sent_update_new AFTER UPDATE OF status, sent_at, created_at, kind ON invitations
WHEN NEW.sent_at IS NOT NULL OR NEW.status IN ('sent', 'answered', 'expired')
BEGIN
    INSERT INTO dashboard_sent_daily (day, kind, sent) VALUES (substr(COALESCE(NEW.sent_at, NEW.created_at), 1, 10), NEW.kind, 1)
    ON CONFLICT (day, kind) DO UPDATE SET sent = sent + 1;
END;

CREATE TRIGGER dashboard_sent_delete AFTER DELETE ON invitations
WHEN OLD.sent_at IS NOT NULL OR OLD.status IN ('sent', 'answered', 'expired')
BEGIN
    INSERT INTO dashboard_sent_daily (day, kind, sent) VALUES (substr(COALESCE(OLD.sent_at, OLD.created_at), 1, 10), OLD.kind, -1)
    ON CONFLICT (day, kind) DO UPDATE SET sent = sent - 1;
END;

-- Fill the roll-ups from the responses and invitations that already exist.
INSERT INTO dashboard_daily (dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes)
SELECT dim, value, day, kind, count(*), sum(score >= 9), sum(score <= 6), count(lost_minutes), COALESCE(sum(lost_minutes), 0)
FROM dashboard_response_dims WHERE value IS NOT NULL GROUP BY dim, value, day, kind;

INSERT INTO dashboard_factor_daily (dim, value, day, kind, band, factor_id, picks)
SELECT d.dim, d.value, d.day, d.kind, CASE WHEN d.score >= 9 THEN 'positive' WHEN d.score >= 7 THEN 'neutral' ELSE 'negative' END,
       f.factor_id, count(*)
FROM dashboard_response_dims d JOIN response_factors f ON f.response_id = d.response_id
WHERE d.dim <> 'lost' AND d.value IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO dashboard_sent_daily (day, kind, sent)
SELECT substr(COALESCE(sent_at, created_at), 1, 10), kind, count(*) FROM invitations
WHERE sent_at IS NOT NULL OR status IN ('sent', 'answered', 'expired')
GROUP BY 1, 2;
