import Crypto
import Foundation
import XCTest
import _CryptoExtras

@testable import HappyDesk

/// The hand-written ID token verifier against tokens signed here with swift-crypto's own signers (and, in
/// `SignInOIDCTests`, against authlib/joserfc's): what it must accept, and every way it must refuse.
final class JWSTests: XCTestCase {
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let ec = P256.Signing.PrivateKey()

    static var keySet: JWKSet {
        let rsaKey = rsa.publicKey
        let primitives = try! rsaKey.getKeyPrimitives()
        let json = """
            {"keys":[
            {"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"\(JWS.base64URLEncode(primitives.modulus))","e":"\(JWS.base64URLEncode(primitives.publicExponent))"},
            {"kty":"EC","kid":"e1","crv":"P-256","x":"\(JWS.base64URLEncode(ec.publicKey.rawRepresentation.prefix(32)))","y":"\(JWS.base64URLEncode(ec.publicKey.rawRepresentation.suffix(32)))"},
            {"kty":"oct","kid":"h1","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}
            ]}
            """
        return try! JWKSet(json: Data(json.utf8))
    }

    func token(header: String, payload: String = #"{"sub":"1"}"#, sign: (Data) throws -> Data) rethrows -> String {
        let input = JWS.base64URLEncode(Data(header.utf8)) + "." + JWS.base64URLEncode(Data(payload.utf8))
        return input + "." + JWS.base64URLEncode(try sign(Data(input.utf8)))
    }

    func rs256(_ input: Data) throws -> Data {
        try Self.rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
    }

    func es256(_ input: Data) throws -> Data {
        try Self.ec.signature(for: SHA256.hash(data: input)).rawRepresentation
    }

    func testTheKeySetKeepsSigningKeysOnly() {
        XCTAssertEqual(Self.keySet.keys.map(\.kid), ["r1", "e1"], "an HMAC secret and an encryption key are skipped")
    }

    func testRS256AndES256TokensVerify() throws {
        try JWS.verify(try JWS.parse(try token(header: #"{"alg":"RS256","kid":"r1"}"#, sign: rs256)), keys: Self.keySet)
        try JWS.verify(try JWS.parse(try token(header: #"{"alg":"ES256","kid":"e1"}"#, sign: es256)), keys: Self.keySet)
        // Without a kid, every key of the algorithm is tried.
        try JWS.verify(try JWS.parse(try token(header: #"{"alg":"ES256"}"#, sign: es256)), keys: Self.keySet)
    }

    func testATamperedPayloadOrSignatureIsRefused() throws {
        let good = try token(header: #"{"alg":"RS256","kid":"r1"}"#, sign: rs256)
        let parts = good.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + JWS.base64URLEncode(Data(#"{"sub":"2"}"#.utf8)) + "." + parts[2]
        XCTAssertThrowsError(try JWS.verify(try JWS.parse(forged), keys: Self.keySet)) { XCTAssertEqual($0 as? JWS.Failure, .badSignature) }
        let short = parts[0] + "." + parts[1] + "." + JWS.base64URLEncode(Data([1, 2, 3]))
        XCTAssertThrowsError(try JWS.verify(try JWS.parse(short), keys: Self.keySet)) { XCTAssertEqual($0 as? JWS.Failure, .badSignature) }
    }

    func testNoneHMACAndAlgorithmConfusionAreRefused() throws {
        let none = try token(header: #"{"alg":"none"}"#) { _ in Data() }
        XCTAssertThrowsError(try JWS.verify(try JWS.parse(none), keys: Self.keySet)) { XCTAssertEqual($0 as? JWS.Failure, .algorithm("none")) }
        let hmac = try token(header: #"{"alg":"HS256","kid":"h1"}"#) { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data("secret".utf8))))
        }
        XCTAssertThrowsError(try JWS.verify(try JWS.parse(hmac), keys: Self.keySet)) { XCTAssertEqual($0 as? JWS.Failure, .algorithm("HS256")) }
        // An ES256 header naming the RSA key: no key fits both, so it is an unknown key, never a verification with the wrong one.
        let confused = try token(header: #"{"alg":"ES256","kid":"r1"}"#, sign: es256)
        XCTAssertThrowsError(try JWS.verify(try JWS.parse(confused), keys: Self.keySet)) { XCTAssertEqual($0 as? JWS.Failure, .unknownKey("r1")) }
    }

    func testAnUnknownKidAsksForTheKeySetAgain() throws {
        let other = try token(header: #"{"alg":"RS256","kid":"r9"}"#, sign: rs256)
        XCTAssertThrowsError(try JWS.verify(try JWS.parse(other), keys: Self.keySet)) { XCTAssertEqual($0 as? JWS.Failure, .unknownKey("r9")) }
    }

    func testMalformedTokensAreRefused() {
        for bad in ["", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", #"eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiYiJdfQ.e30."#] {
            XCTAssertThrowsError(try JWS.parse(bad), bad)
        }
    }
}
