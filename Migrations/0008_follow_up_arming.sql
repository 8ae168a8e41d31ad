-- Follow-up webhooks fire once per response until an analyst acknowledges it. An answer is amendable until
-- its link expires, so without this state flipping one answer between negative and positive (or adding and
-- removing "not solved") queued an alert (or a reopen call) on every flip: a requester could flood a team
-- channel or an ITSM. `FollowUpRules` queues an alert only while `alert_queued_at` is NULL and a reopen call
-- only while `reopen_queued_at` is NULL, and sets them in the answer's transaction; acknowledging the response
-- (`FeedbackActions.acknowledge`) clears both, re-arming them.
ALTER TABLE response_follow_ups ADD COLUMN alert_queued_at TEXT;
ALTER TABLE response_follow_ups ADD COLUMN reopen_queued_at TEXT;

-- Responses that already had an alert or reopen call queued since their last acknowledgement start disarmed,
-- so upgrading does not hand every earlier flip one more webhook.
INSERT INTO response_follow_ups (response_id, needed, alert_queued_at, reopen_queued_at)
SELECT r.id, 0,
       (SELECT max(d.created_at) FROM deliveries d WHERE d.invitation_id = r.invitation_id AND d.purpose = 'alert'),
       (SELECT max(d.created_at) FROM deliveries d WHERE d.invitation_id = r.invitation_id AND d.purpose = 'reopen')
FROM responses r
WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.invitation_id = r.invitation_id AND d.purpose IN ('alert', 'reopen'))
ON CONFLICT (response_id) DO UPDATE SET
    alert_queued_at = CASE WHEN handled_at IS NULL OR excluded.alert_queued_at > handled_at THEN excluded.alert_queued_at END,
    reopen_queued_at = CASE WHEN handled_at IS NULL OR excluded.reopen_queued_at > handled_at THEN excluded.reopen_queued_at END;
