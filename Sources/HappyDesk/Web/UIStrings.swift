/// Fixed words of the survey page, per language. Survey-specific text comes from the YAML files.
struct UIStrings {
    var submit: String
    var thanks: String
    var confirm: String
    var hint: String
    var low: String
    var high: String
    var editable: String

    static func forLocale(_ locale: String, expires: String) -> [String: String] {
        let strings: [String: String]
        switch locale.prefix(2) {
        case "de":
            strings = [
                "submit": "Absenden", "thanks": "Danke! Ihre Antwort ist gespeichert.",
                "confirm": "Bitte bestätigen Sie Ihre Bewertung mit „Absenden“ – erst dann wird sie gespeichert.",
                "hint": "Wählen Sie eine Bewertung; danach können Sie Gründe angeben.",
                "low": "0 – gar nicht zufrieden", "high": "10 – sehr zufrieden",
                "editable": "Sie können Ihre Antwort bis \(expires) ändern.", "change": "Antwort ändern", "yourScore": "Ihre Bewertung",
            ]
        case "fi":
            strings = [
                "submit": "Lähetä", "thanks": "Kiitos! Vastauksesi on tallennettu.",
                "confirm": "Vahvista arviosi painamalla Lähetä – vasta silloin se tallennetaan.",
                "hint": "Valitse arvosana; sen jälkeen voit kertoa syyt.",
                "low": "0 – en lainkaan tyytyväinen", "high": "10 – erittäin tyytyväinen",
                "editable": "Voit muuttaa vastaustasi \(expires) asti.", "change": "Muuta vastaustani", "yourScore": "Arviosi",
            ]
        default:
            strings = [
                "submit": "Send", "thanks": "Thank you! Your answer is saved.",
                "confirm": "Please confirm your score with Send: it is saved only then.",
                "hint": "Pick a score; then you can tell us why.",
                "low": "0 – not at all happy", "high": "10 – very happy",
                "editable": "You can change your answer until \(expires).", "change": "Change my answer", "yourScore": "Your score",
            ]
        }
        return strings
    }
}
