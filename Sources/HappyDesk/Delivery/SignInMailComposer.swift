import Foundation

/// The sign-in email: one link, how long it lasts, and what to do when the person did not ask for it.
/// The link opens a page with a "Sign in" button, so a mail scanner that follows it signs no one in.
struct SignInMailComposer: Sendable {
    var url: String
    var minutes: Int

    func compose() -> SurveyMailComposer.Content {
        let subject = "Your happydesk sign-in link"
        let text = """
            Hello,

            Someone (we hope you) asked to sign in to happydesk with this address. Open this link and press "Sign in":

            \(url)

            The link works once, for \(minutes) minutes. If you did not ask for it, ignore this email: nobody can sign in without the link.
            """
        let e = MIMEEncoding.html
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(subject))</title></head>
            <body style="font-family:system-ui,sans-serif;color:#1d2430">
            <p>Someone (we hope you) asked to sign in to happydesk with this address.</p>
            <p><a href="\(e(url))" style="display:inline-block;background:#1f5fbf;color:#fff;padding:.6rem 1.2rem;border-radius:.4rem;text-decoration:none">Open the sign-in page</a></p>
            <p style="color:#5a6472">The link works once, for \(minutes) minutes. If you did not ask for it, ignore this email.</p>
            </body></html>
            """
        return SurveyMailComposer.Content(subject: subject, text: text, html: html)
    }
}
