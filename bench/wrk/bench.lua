-- wrk script of the benchmark (bench/wrk.mjs fills the environment).
--   BENCH_MODE        get (wrk's own static request), put-new (a new key on every request) or
--                     put-overwrite (each thread overwrites its own 64 keys, in turn)
--   BENCH_PATH        path the key is appended to, e.g. /storage/v1/data/set/
--   BENCH_KEY_PREFIX  start of every key, so that the keys of one run are new
--   BENCH_TOKENS      optional: comma-separated bearer tokens, used in turn by the requests (many
--                     tenants); without it the Authorization header comes from wrk -H. done() prints one JSON line for the harness.
local mode = os.getenv("BENCH_MODE") or "get"
local base = os.getenv("BENCH_PATH") or "/"
local key_prefix = os.getenv("BENCH_KEY_PREFIX") or "k"
local body = string.rep("x", 1024)
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end

local next_thread = 1
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

if mode ~= "get" then
  local count = 0
  function request()
    count = count + 1
    local n = count
    if mode == "put-overwrite" then
      n = count % 64
    end
    local headers = nil
    if #tokens > 0 then
      headers = { Authorization = "Bearer " .. tokens[(count % #tokens) + 1] }
    end
    return wrk.format("PUT", base .. key_prefix .. "-" .. thread_id .. "-" .. n, headers, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
