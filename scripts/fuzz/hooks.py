"""schemathesis hooks for `make fuzz`: valid credentials per route, and real survey tokens and response ids
in about half of the generated paths, so generated bodies reach the handlers instead of stopping at 404."""
import json
import os
import random

import schemathesis

_rng = random.Random(20261201)
_seed = json.loads(open(os.environ["FUZZ_SEED_FILE"]).read()) if os.environ.get("FUZZ_SEED_FILE") else {}


@schemathesis.auth(refresh_interval=None)
class PerRouteToken:
    """Closures take the integration token, the dashboard the manager's, the stream a manager or an analyst."""

    def get(self, case, ctx):
        return "unused"

    def set(self, case, data, ctx):
        path = case.operation.path
        if path.startswith("/api/v1/closures"):
            token = os.environ["FUZZ_INTEGRATION"]
        elif path.startswith("/api/v1/") or path == "/dashboard" or path == "/analyst":
            token = os.environ["FUZZ_MANAGER"] if _rng.random() < 0.6 else os.environ["FUZZ_ANALYST"]
        else:
            return
        case.headers = case.headers or {}
        # Keep a generated Authorization header now and then: malformed credentials are part of the fuzzing.
        if "Authorization" not in case.headers or _rng.random() < 0.8:
            case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters or _rng.random() < 0.5:
        return path_parameters
    if "token" in path_parameters and _seed.get("tokens"):
        path_parameters["token"] = _rng.choice(_seed["tokens"])
    if "id" in path_parameters and _seed.get("responses"):
        path_parameters["id"] = str(_rng.choice(_seed["responses"]))
    return path_parameters
