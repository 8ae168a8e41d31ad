import Foundation
import Logging
import Synchronization

/// `HAPPYDESK_LOG_FORMAT`: `text` for people (swift-log's `StreamLogHandler`), `json` for log collectors.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// A swift-log handler writing one JSON object per line:
/// `{"time":"2026-12-01T16:02:03.123Z","level":"info","label":"happydesk","message":"…","request_id":"…","metadata":{…}}`.
///
/// `request_id` is the request's id (`RequestIDMiddleware`, or Hummingbird's own), null outside a request;
/// every other metadata value goes under `metadata`. Strings are escaped by RFC 8259 (quotes, backslashes,
/// every control character as `\u00XX`, plus U+2028/U+2029 for JavaScript readers); other Unicode is kept as
/// UTF-8. Each line is written with one call under a lock, so lines from concurrent tasks never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    private let write: @Sendable ([UInt8]) -> Void

    public init(label: String, write: @escaping @Sendable ([UInt8]) -> Void) {
        self.label = label
        self.write = write
    }

    private static let stderrLock = Mutex(())

    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { bytes in
            stderrLock.withLock { _ in
                bytes.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    var offset = 0
                    while offset < buffer.count {
                        let written = Foundation.write(2, base + offset, buffer.count - offset)
                        if written <= 0 { break }
                        offset += written
                    }
                }
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let requestID = merged.removeValue(forKey: "request_id") ?? merged["hb.request.id"]
        merged.removeValue(forKey: "hb.request.id")
        write(Self.line(time: Date(), level: event.level, label: label, message: "\(event.message)", requestID: requestID, metadata: merged))
    }

    /// One log line, newline included; `public` so the encoding is tested directly.
    public static func line(
        time: Date, level: Logger.Level, label: String, message: String, requestID: Logger.Metadata.Value?, metadata: Logger.Metadata
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + message.utf8.count)
        out.append(contentsOf: #"{"time":""#.utf8)
        out.append(contentsOf: timestamp(time).utf8)
        out.append(contentsOf: #"","level":"#.utf8)
        appendString(level.rawValue, to: &out)
        out.append(contentsOf: #","label":"#.utf8)
        appendString(label, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        appendString(message, to: &out)
        out.append(contentsOf: #","request_id":"#.utf8)
        if let requestID { appendString(requestID.description, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","metadata":"#.utf8)
        appendValue(.dictionary(metadata), to: &out)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// ISO 8601 in UTC with milliseconds: `2026-12-01T16:02:03.123Z`.
    static func timestamp(_ date: Date) -> String {
        let text = SQLDate.string(date)  // "yyyy-MM-dd HH:mm:ss.SSS", UTC
        return text.replacingOccurrences(of: " ", with: "T") + "Z"
    }

    static func appendValue(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text): appendString(text, to: &out)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, item) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "{"))
            // Sorted, so the same event always gives the same line.
            for (index, key) in entries.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                if let item = entries[key] { appendValue(item, to: &out) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F, 0x2028, 0x2029:
                let v = scalar.value
                out.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), hex[Int(v >> 12 & 0xF)], hex[Int(v >> 8 & 0xF)], hex[Int(v >> 4 & 0xF)], hex[Int(v & 0xF)],
                ])
            default:
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
