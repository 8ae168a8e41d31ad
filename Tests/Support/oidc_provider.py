#!/usr/bin/env python3
"""A real OpenID Connect provider on loopback for happydesk's sign-in tests, built on authlib's OAuth 2 / OIDC
server (authorization code grant, PKCE S256 checked by authlib's CodeChallenge, ID tokens signed by joserfc).

Prints "READY <port>" once listening. The issuer is http://127.0.0.1:<port>.
  GET  /.well-known/openid-configuration   discovery
  GET  /jwks                               an RS256 key (rs1) and an ES256 key (ec1); in mode "rotate" also rs2
  GET  /authorize                          auto-approves the configured user (no consent page)
  POST /token                              code + code_verifier (+ client_secret_basic or _post) → tokens
  POST /control  {"mode": …, "user": {…}}  switches the fault mode and the signed-in user (JSON)
  GET  /control                            the current mode and counters (token and JWKS requests)
Modes: ok (RS256), es256, tampered (signature bytes changed), wrong_audience, expired, wrong_nonce,
unknown_kid (signed by a key not in the JWKS), rotate (signed by rs2, which appears in the JWKS only now),
unverified (email_verified false), azp_mismatch (two audiences, azp of another client).
Every request is appended as a JSON line to --log (method, path, no bodies: they hold codes).
"""
import argparse
import os

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
import base64
import json
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import ECKey, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "happydesk-test"
CLIENT_SECRET = "s3cret-for-tests"

lock = threading.Lock()
state = {
    "mode": "ok",
    "user": {"sub": "u-1", "email": "sam@example.com", "name": "Sam Analyst", "groups": [], "email_verified": True},
    "token_requests": 0,
    "jwks_requests": 0,
}
keys = {
    "rs1": RSAKey.generate_key(2048, parameters={"kid": "rs1", "use": "sig", "alg": "RS256"}),
    "rs2": RSAKey.generate_key(2048, parameters={"kid": "rs2", "use": "sig", "alg": "RS256"}),
    "ec1": ECKey.generate_key("P-256", parameters={"kid": "ec1", "use": "sig", "alg": "ES256"}),
    "ghost": RSAKey.generate_key(2048, parameters={"kid": "ghost", "use": "sig", "alg": "RS256"}),
}
codes = {}
issuer = None


def mode():
    with lock:
        return state["mode"]


def signing_kid():
    return {"es256": "ec1", "unknown_kid": "ghost", "rotate": "rs2"}.get(mode(), "rs1")


class Client(ClientMixin):
    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile", "groups"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri.endswith("/signin/oidc/callback")

    def check_client_secret(self, client_secret):
        return client_secret == CLIENT_SECRET

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


CLIENT = Client()


class Code:
    def __init__(self, code, req, user):
        self.code = code
        self.redirect_uri = req.payload.redirect_uri
        self.scope = req.payload.scope
        self.nonce = req.payload.data.get("nonce")
        self.code_challenge = req.payload.data.get("code_challenge")
        self.code_challenge_method = req.payload.data.get("code_challenge_method")
        self.user = user
        self.created = time.time()

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return int(self.created)

    def get_acr(self):
        return None

    def get_amr(self):
        return None

    def is_expired(self):
        return time.time() - self.created > 120


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, req):
        with lock:
            codes[code] = Code(code, req, dict(state["user"]))

    def query_authorization_code(self, code, client):
        with lock:
            return codes.get(code)

    def delete_authorization_code(self, authorization_code):
        with lock:
            codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class HappyOpenIDCode(OpenIDCode):
    def resolve_client_private_key(self, client):
        return keys[signing_kid()]

    def get_client_algorithm(self, client):
        return "ES256" if signing_kid() == "ec1" else "RS256"

    def get_encode_header(self, client):
        return {"alg": self.get_client_algorithm(client), "kid": signing_kid()}

    def get_client_claims(self, client):
        now = int(time.time())
        m = mode()
        claims = {"iss": issuer, "aud": [CLIENT_ID], "iat": now, "exp": now + 300}
        if m == "wrong_audience":
            claims["aud"] = ["someone-else"]
        elif m == "azp_mismatch":
            claims["aud"] = [CLIENT_ID, "someone-else"]
            claims["azp"] = "someone-else"
        elif m == "expired":
            claims["iat"] = now - 7200
            claims["exp"] = now - 3600
        return claims

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        if mode() == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-you-sent"
        return claims

    def exists_nonce(self, nonce, req):
        return False

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user["sub"], name=user["name"], email=user["email"], email_verified=bool(user.get("email_verified", True)))
        info["groups"] = list(user.get("groups", []))
        if mode() == "unverified":
            info["email_verified"] = False
        return info

    def process_token(self, grant, response):
        token = super().process_token(grant, response)
        if mode() == "tampered" and "id_token" in token:
            header, payload, signature = token["id_token"].split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims["email"] = "mallory@example.com"
            forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
            token["id_token"] = ".".join([header, forged, signature])
        return token


app = Flask(__name__)
server = AuthorizationServer(app, query_client=lambda client_id: CLIENT if client_id == CLIENT_ID else None, save_token=lambda t, r: None)
server.register_grant(CodeGrant, [CodeChallenge(required=True), HappyOpenIDCode(require_nonce=True)])


@app.before_request
def log_request():
    if args.log:
        with lock, open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": request.method, "path": request.path, "mode": state["mode"]}) + "\n")


@app.get("/.well-known/openid-configuration")
def discovery():
    return jsonify({
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "jwks_uri": issuer + "/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [args.auth_method] if args.auth_method else ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile", "groups"],
    })


@app.get("/jwks")
def jwks():
    with lock:
        state["jwks_requests"] += 1
    published = ["rs1", "ec1"] + (["rs2"] if mode() == "rotate" else [])
    return jsonify({"keys": [keys[k].as_dict(private=False) for k in published]})


@app.get("/authorize")
def authorize():
    return server.create_authorization_response(grant_user=dict(state["user"]))


@app.post("/token")
def token():
    with lock:
        state["token_requests"] += 1
    return server.create_token_response()


@app.route("/control", methods=["GET", "POST"])
def control():
    if request.method == "POST":
        body = request.get_json(force=True)
        with lock:
            if "mode" in body:
                state["mode"] = body["mode"]
            if "user" in body:
                state["user"] = {**state["user"], **body["user"]}
    with lock:
        return jsonify({k: v for k, v in state.items()})


def main():
    global args, issuer
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", default="")
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--email", default=None)
    parser.add_argument("--name", default=None)
    parser.add_argument("--groups", default=None, help="comma-separated")
    parser.add_argument("--auth-method", default=None, help="client_secret_basic or client_secret_post only")
    args = parser.parse_args()
    state["mode"] = args.mode
    if args.email:
        state["user"]["email"] = args.email
    if args.name:
        state["user"]["name"] = args.name
    if args.groups is not None:
        state["user"]["groups"] = [g for g in args.groups.split(",") if g]
    httpd = make_server("127.0.0.1", args.port, app, threaded=True)
    issuer = f"http://127.0.0.1:{httpd.server_port}"
    print(f"READY {httpd.server_port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
