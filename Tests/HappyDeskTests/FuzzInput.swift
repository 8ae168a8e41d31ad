import Foundation

@testable import HappyDesk

/// A seeded source of hostile input for the parser property tests: raw bytes that include invalid UTF-8,
/// combining marks, `%` escapes good and bad, huge numbers and very long runs, mixed with fragments that
/// matter to the parser under test so inputs reach past its first check.
///
/// Seeded (SplitMix64), so a failure names its seed and iteration and replays exactly.
struct FuzzInput: RandomNumberGenerator {
    /// The demo generator's SplitMix64, so both seeded sources are one algorithm.
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// Byte sequences no valid UTF-8 contains, and valid ones that trip character-based code.
    static let nasty: [[UInt8]] = [
        [0xFF], [0xFE], [0xC0, 0x80], [0xC1, 0xBF], [0x80], [0xBF], [0xE2, 0x82],  // invalid, overlong, lone continuation, truncated
        [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98],  // a surrogate, past U+10FFFF, truncated emoji
        [0xCC, 0x81], [0xCC, 0x81, 0xCC, 0x88, 0xCD, 0x9B], [0xE2, 0x80, 0x8D], [0xEF, 0xB8, 0x8F],  // combining, ZWJ, VS16
        [0xC3, 0xA9], [0xF0, 0x9F, 0x91, 0xA9, 0xE2, 0x80, 0x8D, 0xF0, 0x9F, 0x92, 0xBB],  // é, a ZWJ emoji
        [0x00], [0x0D, 0x0A], [0x09], [0x7F], [0xC2, 0x85], [0xE2, 0x80, 0xA8],  // NUL, CRLF, tab, DEL, NEL, line separator
        [0xEF, 0xBC, 0xA0], [0xEF, 0xB9, 0xAB],  // fullwidth and small commercial at
    ]

    /// Fragments many parsers split on or decode.
    static let common: [String] = [
        "%", "%4", "%ZZ", "%41", "%C3%A9", "%FF", "%00", "%25", "%%", "%c3", "%CC%81", "+", "&", "=", ",", ";", " ", "\"", "'", "\\",
        "0", "7", "10", "-1", "-0", "+1", "1e400", "-1e400", "NaN", "Infinity", "0x10", "1.5", "9999999999999999999",
        "-9223372036854775808", "9223372036854775807", "18446744073709551616", "@", "..", "/", "<", ">", "{", "}", "[", "]", ":",
        "null", "true", "\u{301}", "é", "e\u{301}", "🧑‍💻", "\u{202E}", "\u{FEFF}",
    ]

    /// Random bytes, up to `maxLength` pieces long, drawn from raw bytes, `nasty`, `common` and `fragments`.
    mutating func bytes(maxLength: Int = 64, fragments: [String] = []) -> [UInt8] {
        var out: [UInt8] = []
        let pieces = int(0...maxLength)
        for _ in 0..<pieces {
            switch int(0...9) {
            case 0: out.append(UInt8.random(in: 0...255, using: &self))
            case 1: out.append(UInt8.random(in: 0x20...0x7E, using: &self))
            case 2: out += pick(Self.nasty)
            case 3, 4: out += Array(pick(Self.common).utf8)
            case 5: out += Array(String(UInt64.random(in: 0...UInt64.max, using: &self)).utf8)
            default: out += Array((fragments.isEmpty ? pick(Self.common) : pick(fragments)).utf8)
            }
        }
        if chance(2) {
            // Very long: a repeated piece, the shape of a flood of combining marks or digits.
            let piece = chance(50) ? [UInt8](arrayLiteral: 0xCC, 0x81) : Array(pick(Self.common + fragments).utf8)
            for _ in 0..<int(1000...20_000) { out += piece }
        }
        return out
    }

    /// `bytes` as a Swift String (invalid UTF-8 repaired to U+FFFD, as NIO's `String(buffer:)` does).
    mutating func string(maxLength: Int = 64, fragments: [String] = []) -> String {
        String(decoding: bytes(maxLength: maxLength, fragments: fragments), as: UTF8.self)
    }

    /// A copy of `base` with a few random edits: bytes inserted, deleted or replaced with hostile ones.
    mutating func mutate(_ base: [UInt8], fragments: [String] = []) -> [UInt8] {
        var out = base
        for _ in 0..<int(1...4) {
            let position = out.isEmpty ? 0 : int(0...out.count)
            switch int(0...3) {
            case 0: out.insert(contentsOf: bytes(maxLength: 4, fragments: fragments), at: position)
            case 1: if position < out.count { out.removeSubrange(position..<min(out.count, position + int(1...8))) }
            case 2: if position < out.count { out[position] = UInt8.random(in: 0...255, using: &self) }
            default: out.insert(contentsOf: Array(pick(fragments.isEmpty ? Self.common : fragments).utf8), at: position)
            }
        }
        return out
    }
}
