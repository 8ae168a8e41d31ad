import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal, so logs and
/// pipes never fill with carriage returns. Redraws at most ten times a second.
public final class ProgressBar: @unchecked Sendable {
    private let title: String
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var started = Date()

    public init(title: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.title = title
        self.enabled = enabled
    }

    /// Shows `fraction` (0…1) and a short note such as "12,000 / 20,000 responses".
    public func update(_ fraction: Double, note: String = "") {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard fraction >= 1 || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let clamped = max(0, min(1, fraction))
        let width = 30
        let filled = Int((clamped * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let elapsed = String(format: "%.1fs", now.timeIntervalSince(started))
        FileHandle.standardError.write(Data("\r\(title) \(bar) \(Int(clamped * 100))% \(note) \(elapsed)\u{1B}[K".utf8))
    }

    /// Ends the line so the next output starts clean.
    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
