-- Bulk seed for the benchmark when `happydesk demo` is too slow for a million responses on a busy machine
-- (SEED=sql): the same kind of data (8 services, 30 analysts, reassignments lowering happiness, factors by
-- band, a long lost-time tail, 40% response rate), generated set-wise in SQL. Run on a database holding only
-- migrations 0001 and 0002; the caller then applies 0005, whose back-fill builds the roll-ups.
-- :INVITATIONS and :DAYS are substituted by run.sh.
PRAGMA synchronous = OFF;
CREATE TEMP TABLE g AS
SELECT n, kind, svc, analyst, reassign, day, answered, u1, u2, u3, u4, u5,
       MAX(-0.95, MIN(0.95, (CASE svc WHEN 0 THEN 78 WHEN 1 THEN 60 WHEN 2 THEN 74 WHEN 3 THEN 56 WHEN 4 THEN 66 WHEN 5 THEN 80 WHEN 6 THEN 72 ELSE 76 END
           + CASE WHEN kind = 'request' THEN 6 ELSE 0 END - 8 * reassign - CASE WHEN svc = 1 AND day > :DAYS - 31 THEN 16 ELSE 0 END) / 100.0)) AS h
FROM (
    SELECT n,
           CASE WHEN abs(random()) % 100 < 62 THEN 'incident' ELSE 'request' END AS kind,
           abs(random()) % 8 AS svc,
           abs(random()) % 30 AS analyst,
           (SELECT CASE WHEN r < 520 THEN 0 WHEN r < 780 THEN 1 WHEN r < 900 THEN 2 WHEN r < 960 THEN 3 WHEN r < 985 THEN 4 ELSE 5 END
              FROM (SELECT abs(random()) % 1000 AS r)) AS reassign,
           n * :DAYS / :INVITATIONS AS day,
           n % 5 < 2 AS answered,
           abs(random()) % 1000000 / 1e6 AS u1, abs(random()) % 1000000 / 1e6 AS u2, abs(random()) % 1000000 / 1e6 AS u3,
           abs(random()) % 1000000 / 1e6 AS u4, abs(random()) % 1000000 / 1e6 AS u5
    FROM (WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < :INVITATIONS - 1) SELECT n FROM s)
);

INSERT INTO closures (id, source, ticket_id, kind, state, requester_email, requester_locale, assignee_id, assignee_name, assignee_email,
                      group_name, service, channel, country, reassignments, closed_at, received_at)
SELECT n + 1, CASE WHEN n % 4 = 0 THEN 'jira' ELSE 'servicenow' END, 'T' || n, kind, 'resolved', 'user' || (n % 40000) || '@example.com', 'en-GB',
       'a' || analyst, 'Analyst ' || analyst, 'a' || analyst || '@example.com',
       CASE analyst % 5 WHEN 0 THEN 'Service Desk' WHEN 1 THEN 'Workplace' WHEN 2 THEN 'Network' WHEN 3 THEN 'Applications' ELSE 'Identity' END,
       CASE svc WHEN 0 THEN 'Email' WHEN 1 THEN 'VPN' WHEN 2 THEN 'Laptop' WHEN 3 THEN 'ERP' WHEN 4 THEN 'Printing' WHEN 5 THEN 'Access & accounts'
                WHEN 6 THEN 'Mobile phones' ELSE 'Collaboration' END,
       CASE n % 10 WHEN 0 THEN 'chat' WHEN 1 THEN 'phone' WHEN 2 THEN 'phone' WHEN 3 THEN 'email' WHEN 4 THEN 'email' ELSE 'portal' END,
       CASE n % 7 WHEN 0 THEN 'GB' WHEN 1 THEN 'US' WHEN 2 THEN 'IN' WHEN 3 THEN 'PL' WHEN 4 THEN 'FR' ELSE 'DE' END,
       reassign,
       strftime('%Y-%m-%d %H:%M:%f', julianday('now', 'start of day') - :DAYS - 1 + day + 0.3 + u5 * 0.4),
       strftime('%Y-%m-%d %H:%M:%f', julianday('now', 'start of day') - :DAYS - 1 + day + 0.3 + u5 * 0.4)
FROM g;

INSERT INTO invitations (id, closure_id, survey, kind, token_hash, locale, requester_email, assignee_id, assignee_name, assignee_email,
                         group_name, service, status, created_at, sent_at, expires_at)
SELECT c.id, c.id, c.kind, c.kind, randomblob(32), 'en', c.requester_email, c.assignee_id, c.assignee_name, c.assignee_email, c.group_name, c.service,
       CASE WHEN g.answered THEN 'answered' WHEN g.day > :DAYS - 28 THEN 'sent' ELSE 'expired' END,
       c.closed_at, c.closed_at, strftime('%Y-%m-%d %H:%M:%f', julianday(c.closed_at) + 28)
FROM closures c JOIN g ON g.n + 1 = c.id;

INSERT INTO responses (id, invitation_id, score, lost_bucket, lost_minutes, comment, first_answered_at, last_changed_at)
SELECT n + 1, n + 1, score,
       CASE WHEN lost IS NULL THEN NULL ELSE 'm' || lost END, lost,
       CASE WHEN u4 < 0.22 THEN CASE WHEN score >= 9 THEN 'Quick and friendly, thank you!' WHEN score >= 7 THEN 'Fine in the end, took a while.'
                                     ELSE 'Still not working after three days.' END END,
       at, at
FROM (
    SELECT g.n, g.u4,
           CASE WHEN g.u1 < (0.88 + g.h) / 2 THEN CASE WHEN g.u2 < 0.7 THEN 10 ELSE 9 END
                WHEN g.u1 < (0.88 + g.h) / 2 + 0.12 THEN CASE WHEN g.u2 < 0.6 THEN 8 ELSE 7 END
                ELSE CAST(g.u2 * 7 AS INTEGER) END AS score,
           CASE WHEN g.u3 >= 0.75 THEN NULL
                WHEN g.u1 < (0.88 + g.h) / 2 THEN CASE WHEN g.u3 < 0.525 THEN 0 WHEN g.u3 < 0.65 THEN 15 WHEN g.u3 < 0.70 THEN 45 WHEN g.u3 < 0.725 THEN 90 WHEN g.u3 < 0.736 THEN 180 WHEN g.u3 < 0.744 THEN 360 ELSE 600 END
                WHEN g.u1 < (0.88 + g.h) / 2 + 0.12 THEN CASE WHEN g.u3 < 0.3375 THEN 0 WHEN g.u3 < 0.5025 THEN 15 WHEN g.u3 < 0.6 THEN 45 WHEN g.u3 < 0.6675 THEN 90 WHEN g.u3 < 0.7125 THEN 180 WHEN g.u3 < 0.735 THEN 360 ELSE 600 END
                ELSE CASE WHEN g.u3 < 0.09 THEN 0 WHEN g.u3 < 0.165 THEN 15 WHEN g.u3 < 0.255 THEN 45 WHEN g.u3 < 0.36 THEN 90 WHEN g.u3 < 0.48 THEN 180 WHEN g.u3 < 0.615 THEN 360 ELSE 600 END
           END AS lost,
           (SELECT strftime('%Y-%m-%d %H:%M:%f', julianday(c.closed_at) + 0.01 + g.u5 * 1.5) FROM closures c WHERE c.id = g.n + 1) AS at
    FROM g WHERE g.answered
);

INSERT INTO response_factors (response_id, factor_id)
SELECT r.id, CASE WHEN r.score >= 9 THEN CASE abs(random()) % 4 WHEN 0 THEN 'speed' WHEN 1 THEN 'attitude' WHEN 2 THEN 'attitude' ELSE 'informed' END
                  WHEN r.score >= 7 THEN 'speed_ok'
                  ELSE CASE abs(random()) % 5 WHEN 0 THEN 'not_solved' WHEN 1 THEN 'slow' WHEN 2 THEN 'slow' WHEN 3 THEN 'not_informed' ELSE 'attitude_bad' END END
FROM responses r WHERE abs(random()) % 100 < 85;
INSERT OR IGNORE INTO response_factors (response_id, factor_id)
SELECT r.id, CASE WHEN r.score >= 9 THEN 'skills' WHEN r.score >= 7 THEN 'partly_solved' ELSE 'bounced' END
FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN closures c ON c.id = i.closure_id
WHERE abs(random()) % 100 < 20 + 10 * c.reassignments;
