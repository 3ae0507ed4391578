-- wrk script: the server's own ceiling, POST /bench/noop (201, does nothing), the route the Node
-- driver's no-op run uses (load/driver/lab.ts runNoop).
--   wrk -t2 -c1000 -d10s --latency -s load/wrk/noop.lua <url>
-- No response() callback, so wrk does not hand every answer to Lua; wrk's "Non-2xx or 3xx
-- responses" line counts the failures.
wrk.method = "POST"
wrk.path = "/bench/noop"
