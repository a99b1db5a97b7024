-- wrk script of benchmarks/bench_pages.py: counts every answer that is not 2xx (wrk itself
-- lets 3xx pass, and a redirect to the login page is a failure here) and prints one line of
-- figures that the benchmark reads, latencies in microseconds. The first argument after `--` is
-- a think time in milliseconds: each connection waits a random 0–2× that between its requests
-- (0: none, the next request goes out on the answer).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  think = tonumber(args[1] or "0")
end

function delay()
  if think > 0 then
    return math.random(0, 2 * think)
  end
  return 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    for status, n in pairs(counted) do
      bad[status] = (bad[status] or 0) + n
    end
  end
  local e = summary.errors
  io.write(string.format(
    "DUBAN requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
  for status, n in pairs(bad) do
    io.write(string.format("DUBAN_STATUS %d %d\n", status, n))
  end
end
