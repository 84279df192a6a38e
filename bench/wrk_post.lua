-- wrk script for the bench harness: POSTs a Volley-shaped delivery body with
-- Volley's header set (fixed values) over keep-alive connections.
-- The data size comes from the environment: BENCH_DATA_SIZE (bytes, default 100).
local size = tonumber(os.getenv("BENCH_DATA_SIZE") or "100")
local pad = string.rep("x", math.max(0, size - 32))

wrk.method = "POST"
wrk.body = '{"id":"evt_3f2a9c1b7d4e5f60000000000000a1b2","type":"bench.event",'
  .. '"timestamp":"2026-01-01T00:00:00.000Z","data":{"t":0000000000000000000,"p":"'
  .. pad .. '"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "volley/0.1.0"
wrk.headers["webhook-id"] = "evt_3f2a9c1b7d4e5f60000000000000a1b2"
wrk.headers["webhook-timestamp"] = "1767225600"
wrk.headers["X-Webhook-ID"] = "evt_3f2a9c1b7d4e5f60000000000000a1b2"
wrk.headers["X-Webhook-Timestamp"] = "1767225600"
wrk.headers["X-Event-Type"] = "bench.event"
wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
wrk.headers["X-Webhook-Signature"] =
  "sha256=2b9a197f337de59f5456ed44b1f4267d5350867919da98fda3d34337f1ffa48e"
