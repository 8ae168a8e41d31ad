import Foundation
import Yams

/// An error in a survey file, naming the file, the line and the field so it can be fixed at once.
public struct SurveyFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var field: String
    public var problem: String

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(field): \(problem)"
    }
}

/// Parses survey YAML through Yams' node tree (not `Decodable`) so every error carries a line number.
public enum SurveyLoader {
    public static func load(file url: URL) throws -> SurveyDefinition {
        let name = url.lastPathComponent
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw SurveyFileError(file: name, line: nil, field: "(file)", problem: "cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, file: name)
    }

    public static func parse(_ text: String, file: String) throws -> SurveyDefinition {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw SurveyFileError(file: file, line: nil, field: "(document)", problem: "the file is empty")
            }
            root = node
        } catch let error as YamlError {
            throw SurveyFileError(file: file, line: Self.line(of: error), field: "(syntax)", problem: "not valid YAML: \(error)")
        }
        let reader = NodeReader(file: file)
        let top = try reader.mapping(root, field: "(document)")

        let id = try reader.string(top, "id", at: root)
        let kindText = try reader.string(top, "kind", at: root)
        guard let kind = TicketKind(rawValue: kindText) else {
            throw reader.error(top["kind"] ?? root, "kind", "must be 'incident' or 'request', not '\(kindText)'")
        }
        let locales = try reader.stringList(top, "locales", at: root).map { $0.lowercased() }
        guard !locales.isEmpty else { throw reader.error(top["locales"] ?? root, "locales", "must list at least one locale") }
        let defaultLocale = (try reader.optionalString(top, "default_locale") ?? locales[0]).lowercased()
        guard locales.contains(defaultLocale) else {
            throw reader.error(top["default_locale"] ?? root, "default_locale", "'\(defaultLocale)' is not in locales")
        }
        reader.locales = locales
        reader.defaultLocale = defaultLocale

        let anonymous = try reader.optionalBool(top, "anonymous") ?? false
        let title = try reader.optionalText(top, "title") ?? LocalizedText(values: [defaultLocale: "Survey"], fallback: defaultLocale)
        let question = try reader.text(top, "question", at: root)

        guard let factorsNode = top["factors"] else { throw reader.error(root, "factors", "is missing") }
        let factors = try reader.mapping(factorsNode, field: "factors")
        let factorQuestion =
            try reader.optionalText(factors, "question", prefix: "factors.")
            ?? LocalizedText(values: [defaultLocale: ""], fallback: defaultLocale)
        var seen = Set<String>()
        func factorList(_ key: String) throws -> [Factor] {
            let field = "factors.\(key)"
            guard let listNode = factors[key] else { throw reader.error(factorsNode, field, "is missing") }
            guard case .sequence(let seq) = listNode else { throw reader.error(listNode, field, "must be a list") }
            guard !seq.isEmpty else { throw reader.error(listNode, field, "must list at least one factor") }
            return try seq.enumerated().map { index, node in
                let itemField = "\(field)[\(index)]"
                let item = try reader.mapping(node, field: itemField)
                let factorID = try reader.string(item, "id", at: node, prefix: itemField + ".")
                guard Self.isValidID(factorID) else {
                    throw reader.error(item["id"] ?? node, itemField + ".id", "'\(factorID)' may use only a-z, 0-9, _ and -")
                }
                guard seen.insert(factorID).inserted else {
                    throw reader.error(item["id"] ?? node, itemField + ".id", "'\(factorID)' is used twice")
                }
                let label = try reader.text(item, "label", at: node, prefix: itemField + ".")
                let reopens = try reader.optionalBool(item, "reopens", prefix: itemField + ".") ?? false
                return Factor(id: factorID, label: label, reopens: reopens)
            }
        }
        let positive = try factorList("positive")
        let neutral = try factorList("neutral")
        let negative = try factorList("negative")

        var lostTime: LostTimeQuestion?
        if let lostNode = top["lost_time"] {
            let lost = try reader.mapping(lostNode, field: "lost_time")
            let lostQuestion = try reader.text(lost, "question", at: lostNode, prefix: "lost_time.")
            guard let bucketsNode = lost["buckets"], case .sequence(let seq) = bucketsNode, !seq.isEmpty else {
                throw reader.error(lost["buckets"] ?? lostNode, "lost_time.buckets", "must be a non-empty list")
            }
            var bucketIDs = Set<String>()
            let buckets = try seq.enumerated().map { index, node in
                let field = "lost_time.buckets[\(index)]"
                let item = try reader.mapping(node, field: field)
                let bucketID = try reader.string(item, "id", at: node, prefix: field + ".")
                guard Self.isValidID(bucketID), bucketIDs.insert(bucketID).inserted else {
                    throw reader.error(item["id"] ?? node, field + ".id", "'\(bucketID)' is not a valid unique id")
                }
                guard let minutesNode = item["minutes"], let minutes = minutesNode.int, minutes >= 0 else {
                    throw reader.error(item["minutes"] ?? node, field + ".minutes", "must be a whole number of minutes ≥ 0")
                }
                let label = try reader.text(item, "label", at: node, prefix: field + ".")
                return LostTimeBucket(id: bucketID, minutes: minutes, label: label)
            }
            lostTime = LostTimeQuestion(question: lostQuestion, buckets: buckets)
        }

        var comment: LocalizedText?
        if let commentNode = top["comment"] {
            let map = try reader.mapping(commentNode, field: "comment")
            comment = try reader.text(map, "question", at: commentNode, prefix: "comment.")
        }

        var policy = SurveyPolicy()
        if let policyNode = top["policy"] {
            let map = try reader.mapping(policyNode, field: "policy")
            func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
                guard let node = map[key] else { return nil }
                if case .scalar(let s) = node, s.string == "null" || s.string == "~" || s.string.isEmpty { return nil }
                guard let value = node.int, range.contains(value) else {
                    throw reader.error(node, "policy.\(key)", "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                return value
            }
            if let v = try int("delay_minutes", 0...100_000) { policy.delayMinutes = v }
            if map["reminder_days"] != nil { policy.reminderDays = try int("reminder_days", 1...365) }
            if let v = try int("expiry_days", 1...3650) { policy.expiryDays = v }
            if let v = try int("throttle_days", 0...3650) { policy.throttleDays = v }
            if let v = try int("sample_percent", 0...100) { policy.samplePercent = v }
            if let triggersNode = map["triggers"] {
                let triggers = try reader.mapping(triggersNode, field: "policy.triggers")
                var result: [String: String] = [:]
                for (key, value) in triggers {
                    guard let source = key.string, let state = value.string, ["resolved", "closed"].contains(state) else {
                        throw reader.error(value, "policy.triggers", "each source maps to 'resolved' or 'closed'")
                    }
                    result[source] = state
                }
                if result["*"] == nil { result["*"] = "resolved" }
                policy.triggers = result
            }
        }

        return SurveyDefinition(
            id: id, kind: kind, defaultLocale: defaultLocale, locales: locales, anonymous: anonymous,
            title: title, question: question, factorQuestion: factorQuestion,
            positive: positive, neutral: neutral, negative: negative,
            lostTime: lostTime, comment: comment, policy: policy
        )
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }
}

/// Reads typed values out of Yams nodes, turning every mismatch into a `SurveyFileError`.
final class NodeReader {
    let file: String
    var locales: [String] = []
    var defaultLocale = "en"

    init(file: String) { self.file = file }

    func error(_ node: Node, _ field: String, _ problem: String) -> SurveyFileError {
        SurveyFileError(file: file, line: node.mark?.line, field: field, problem: problem)
    }

    func mapping(_ node: Node, field: String) throws -> Node.Mapping {
        guard case .mapping(let map) = node else { throw error(node, field, "must be a mapping of keys to values") }
        return map
    }

    func string(_ map: Node.Mapping, _ key: String, at parent: Node, prefix: String = "") throws -> String {
        guard let node = map[key] else { throw error(parent, prefix + key, "is missing") }
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error(node, prefix + key, "must be a non-empty text") }
        return scalar.string
    }

    func optionalString(_ map: Node.Mapping, _ key: String) throws -> String? {
        guard let node = map[key] else { return nil }
        guard case .scalar(let scalar) = node else { throw error(node, key, "must be a text") }
        return scalar.string
    }

    func optionalBool(_ map: Node.Mapping, _ key: String, prefix: String = "") throws -> Bool? {
        guard let node = map[key] else { return nil }
        guard let value = node.bool else { throw error(node, prefix + key, "must be true or false") }
        return value
    }

    func stringList(_ map: Node.Mapping, _ key: String, at parent: Node) throws -> [String] {
        guard let node = map[key] else { throw error(parent, key, "is missing") }
        guard case .sequence(let seq) = node else { throw error(node, key, "must be a list") }
        return try seq.map { item in
            guard case .scalar(let s) = item, !s.string.isEmpty else { throw error(item, key, "must list texts") }
            return s.string
        }
    }

    func text(_ map: Node.Mapping, _ key: String, at parent: Node, prefix: String = "") throws -> LocalizedText {
        guard let node = map[key] else { throw error(parent, prefix + key, "is missing") }
        return try localized(node, field: prefix + key)
    }

    func optionalText(_ map: Node.Mapping, _ key: String, prefix: String = "") throws -> LocalizedText? {
        guard let node = map[key] else { return nil }
        return try localized(node, field: prefix + key)
    }

    /// A localized text is a mapping `{en: …, de: …}` that must cover every locale the survey lists.
    func localized(_ node: Node, field: String) throws -> LocalizedText {
        let map = try mapping(node, field: field)
        var values: [String: String] = [:]
        for (key, value) in map {
            guard let locale = key.string?.lowercased(), case .scalar(let scalar) = value else {
                throw error(value, field, "each translation must be a text")
            }
            values[locale] = scalar.string
        }
        for locale in locales where values[locale] == nil {
            throw error(node, "\(field).\(locale)", "is missing (the survey lists locale '\(locale)')")
        }
        return LocalizedText(values: values, fallback: defaultLocale)
    }
}
