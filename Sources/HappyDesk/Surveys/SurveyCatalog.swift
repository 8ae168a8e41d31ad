import Foundation

/// All survey definitions, loaded once at start-up from the surveys folder.
public struct SurveyCatalog: Sendable {
    public let surveys: [String: SurveyDefinition]

    public init(surveys: [SurveyDefinition]) {
        self.surveys = Dictionary(surveys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Loads every `*.yml`/`*.yaml` file of a folder; the first malformed file stops loading with its error.
    public static func load(directory: URL) throws -> SurveyCatalog {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { ["yml", "yaml"].contains($0.pathExtension) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw SurveyFileError(file: directory.path, line: nil, field: "(folder)", problem: "cannot be read")
        }
        let definitions = try files.map(SurveyLoader.load(file:))
        var ids = Set<String>()
        for (file, definition) in zip(files, definitions) where !ids.insert(definition.id).inserted {
            throw SurveyFileError(file: file.lastPathComponent, line: nil, field: "id", problem: "'\(definition.id)' is used by another survey file")
        }
        let catalog = SurveyCatalog(surveys: definitions)
        for kind in TicketKind.allCases where catalog.survey(for: kind) == nil {
            throw SurveyFileError(file: directory.path, line: nil, field: "kind", problem: "no survey file has kind '\(kind.rawValue)'")
        }
        return catalog
    }

    /// The survey for a ticket kind: the one whose id equals the kind, else the first of that kind.
    public func survey(for kind: TicketKind) -> SurveyDefinition? {
        if let exact = surveys[kind.rawValue], exact.kind == kind { return exact }
        return surveys.values.sorted { $0.id < $1.id }.first { $0.kind == kind }
    }

    public func survey(id: String) -> SurveyDefinition? { surveys[id] }
}
