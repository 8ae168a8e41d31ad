import Foundation

/// The time-driven half of the survey policy (intake applies trigger, throttle, sampling and delay):
/// expiring invitations and scheduling the one reminder.
extension Outbox {
    /// Marks invitations past their expiry as `expired` and cancels their unsent survey and reminder rows.
    static func expire(_ db: any SQLConnection, now: Date) throws -> Int {
        let expired = try InvitationStore.expire(db, now: now)
        try db.execute(
            """
            UPDATE deliveries SET status = 'dead', claimed_until = NULL, last_error = 'cancelled: invitation expired before it was sent'
            WHERE status = 'pending' AND purpose IN ('survey', 'reminder')
              AND invitation_id IN (SELECT id FROM invitations WHERE status = 'expired')
            """)
        return expired
    }

    /// Queues one reminder for each invitation sent at least `reminder_days` ago and still unanswered,
    /// on the channel its survey went out on. Never a second one: the NOT EXISTS makes this idempotent.
    static func scheduleReminders(_ db: any SQLConnection, catalog: SurveyCatalog, now: Date) throws -> Int {
        var total = 0
        for survey in catalog.surveys.values {
            guard let days = survey.policy.reminderDays else { continue }
            total += try db.execute(
                """
                INSERT INTO deliveries (invitation_id, purpose, channel, status, sealed_token, due_at, created_at)
                SELECT i.id, 'reminder', d.channel, 'pending', d.sealed_token, ?, ?
                FROM invitations i JOIN deliveries d ON d.invitation_id = i.id AND d.purpose = 'survey' AND d.status = 'sent'
                WHERE i.survey = ? AND i.status = 'sent' AND i.sent_at <= ? AND i.expires_at > ?
                  AND NOT EXISTS (SELECT 1 FROM deliveries r WHERE r.invitation_id = i.id AND r.purpose = 'reminder')
                """, now, now, survey.id, now.addingTimeInterval(-TimeInterval(days) * 86_400), now)
        }
        return total
    }
}
