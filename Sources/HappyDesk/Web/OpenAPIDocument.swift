import Foundation

/// `docs/openapi.yaml`, the description of every route, served at `GET /openapi.yaml` so clients and
/// fuzzers read the same file the project documents.
enum OpenAPIDocument {
    /// Reads the file from the working directory, beside the executable or from the checkout (as `Surveys/` is found).
    static func load() -> String? {
        let url = ResourceLocator.find("docs/openapi.yaml")
        return try? String(contentsOf: url, encoding: .utf8)
    }
}
