import Crypto
import Foundation
import _CryptoExtras

/// A compact JWS (an OpenID Connect ID token) checked against a JSON Web Key Set: RS256 and ES256 only.
///
/// Hand-written over swift-crypto (`_RSA` from `_CryptoExtras`, `P256`), both already built for postgres-nio,
/// rather than a JWT library: an ID token needs one header, two algorithms and a handful of claims, and the
/// rules that matter (no `none`, no HMAC with a public key, the key chosen by `kid` and `alg` together) are
/// easier to see in 150 lines than to confirm in a library's options.
public enum JWS {
    /// Why a token was refused; the text names the problem for the log and the sign-in page.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case algorithm(String)
        case unknownKey(String)
        case badSignature

        public var description: String {
            switch self {
            case .malformed(let why): "the ID token is malformed: \(why)"
            case .algorithm(let alg): "the ID token is signed with '\(alg)'; only RS256 and ES256 are accepted"
            case .unknownKey(let kid): "the ID token names a key ('\(kid)') the provider does not publish"
            case .badSignature: "the ID token's signature does not verify"
            }
        }
    }

    /// A token split into its parts, before its signature is checked.
    public struct Parsed: Sendable {
        public var alg: String
        public var kid: String?
        public var signingInput: Data
        public var signature: Data
        /// The payload's JSON, to be decoded once the signature holds (`IDTokenClaims`).
        public var payload: Data
    }

    public static func parse(_ token: String) throws(Failure) -> Parsed {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts, got \(parts.count)") }
        guard let headerData = base64URLDecode(parts[0]),
            let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any]
        else { throw .malformed("the header is not base64url JSON") }
        guard let payload = base64URLDecode(parts[1]), (try? JSONSerialization.jsonObject(with: payload)) is [String: Any] else {
            throw .malformed("the payload is not base64url JSON")
        }
        guard let signature = base64URLDecode(parts[2]) else { throw .malformed("the signature is not base64url") }
        guard let alg = header["alg"] as? String else { throw .malformed("the header has no alg") }
        if header["crit"] != nil { throw .malformed("critical header extensions are not supported") }
        return Parsed(
            alg: alg, kid: header["kid"] as? String, signingInput: Data((parts[0] + "." + parts[1]).utf8), signature: signature,
            payload: payload)
    }

    /// Checks the signature with the key of `keys` that matches the token's `kid` and algorithm.
    /// Throws `.unknownKey` when no key fits, so the caller can refetch the key set once and try again.
    public static func verify(_ parsed: Parsed, keys: JWKSet) throws(Failure) {
        guard parsed.alg == "RS256" || parsed.alg == "ES256" else { throw .algorithm(parsed.alg) }
        let candidates = keys.keys.filter { key in
            (parsed.kid == nil || key.kid == parsed.kid) && key.fits(alg: parsed.alg)
        }
        guard !candidates.isEmpty else { throw .unknownKey(parsed.kid ?? "no kid") }
        for key in candidates where key.verifies(parsed.signature, over: parsed.signingInput) { return }
        throw .badSignature
    }

    static func base64URLDecode(_ text: some StringProtocol) -> Data? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base.contains("=") || text.isEmpty else { return nil }
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base)
    }

    static func base64URLEncode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A JSON Web Key Set (RFC 7517) as published at the provider's `jwks_uri`: RSA and P-256 signing keys.
/// Keys of other types, or meant for encryption, are skipped rather than refused.
public struct JWKSet: Sendable {
    public struct Key: Sendable {
        public enum Material: Sendable {
            case rsa(_RSA.Signing.PublicKey)
            case p256(P256.Signing.PublicKey)
        }
        public var kid: String?
        /// The key's own `alg`, when it names one.
        public var alg: String?
        public var material: Material

        func fits(alg: String) -> Bool {
            if let own = self.alg, own != alg { return false }
            switch material {
            case .rsa: return alg == "RS256"
            case .p256: return alg == "ES256"
            }
        }

        func verifies(_ signature: Data, over input: Data) -> Bool {
            switch material {
            case .rsa(let key):
                return key.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
            case .p256(let key):
                guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
                return key.isValidSignature(ecdsa, for: SHA256.hash(data: input))
            }
        }
    }

    public var keys: [Key]

    public init(keys: [Key]) { self.keys = keys }

    /// Parses `{"keys": [...]}`; throws when the document is not a key set at all.
    public init(json: Data) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any], let list = object["keys"] as? [[String: Any]] else {
            throw JWS.Failure.malformed("the provider's key set is not JSON {\"keys\": [...]}")
        }
        keys = list.compactMap(Self.key)
    }

    static func key(_ jwk: [String: Any]) -> Key? {
        if let use = jwk["use"] as? String, use != "sig" { return nil }
        let kid = jwk["kid"] as? String
        let alg = jwk["alg"] as? String
        switch jwk["kty"] as? String {
        case "RSA":
            // RSA keys under 2048 bits are refused by swift-crypto itself.
            guard let n = (jwk["n"] as? String).flatMap(JWS.base64URLDecode), let e = (jwk["e"] as? String).flatMap(JWS.base64URLDecode),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { return nil }
            return Key(kid: kid, alg: alg, material: .rsa(key))
        case "EC":
            guard jwk["crv"] as? String == "P-256", let x = (jwk["x"] as? String).flatMap(JWS.base64URLDecode),
                let y = (jwk["y"] as? String).flatMap(JWS.base64URLDecode), x.count == 32, y.count == 32,
                let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { return nil }
            return Key(kid: kid, alg: alg, material: .p256(key))
        default:
            return nil
        }
    }
}
