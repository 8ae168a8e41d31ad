import Foundation
import XCTest

/// The built `happydesk` binary, run as a user would: from the checkout, with no `HAPPYDESK_*` variables
/// but the ones a test gives. Missing binary: a skip locally, a failure under CI (`requirePeer`).
enum HappydeskBinary {
    static var url: URL { CLITests.binary }

    static func process(_ arguments: [String], environment: [String: String]) throws -> Process {
        try requirePeer(FileManager.default.isExecutableFile(atPath: url.path), "happydesk binary not built at \(url.path)")
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HAPPYDESK_") }
        // Several servers run at once in the suite: none takes the default metrics port unless a test asks.
        env["HAPPYDESK_METRICS_ADDRESS"] = "off"
        env.merge(environment) { $1 }
        process.environment = env
        return process
    }
}

/// Runs the built binary to the end, returning its exit status and output.
func runHappydesk(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let process = try HappydeskBinary.process(arguments, environment: environment)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Starts the built binary in the background (logging at warning unless told otherwise); the caller ends it.
func startHappydesk(_ arguments: [String], _ environment: [String: String] = [:]) throws -> Process {
    var environment = environment
    if environment["HAPPYDESK_LOG_LEVEL"] == nil { environment["HAPPYDESK_LOG_LEVEL"] = "warning" }
    let process = try HappydeskBinary.process(arguments, environment: environment)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}
