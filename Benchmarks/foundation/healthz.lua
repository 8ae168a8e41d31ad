-- GET /healthz: the ceiling, a route that does nothing.
wrk.method = "GET"
