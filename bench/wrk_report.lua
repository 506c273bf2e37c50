-- wrk script for the sreshow benchmarks.
--
--   wrk -t1 -c16 -d10s -s bench/wrk_report.lua URL            closed loop (max rate)
--   wrk -t1 -c16 -d10s -s bench/wrk_report.lua URL -- RATE    paced at RATE requests/s
--
-- Either way it ends with one line "WRK_JSON {...}" that bench/app_throughput.py reads.
--
-- Pacing: Debian has no wrk2, so the delay() hook hands out send slots RATE per second
-- from one schedule shared by the thread's connections (use -t1). A slot already in the
-- past is dropped, not caught up. wrk times a request from its actual send, so this is
-- not corrected for coordinated omission the way wrk2 is: a stall delays the requests
-- behind it without counting that wait as latency.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])

local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local interval_ms = nil
local next_slot_ms = nil

function init(args)
  local rate = tonumber(args[1])
  if rate == nil or rate <= 0 then
    -- wrk checks for a delay() function after init(): without one it takes the
    -- plain closed-loop path, with no timer between a response and the next request.
    delay = nil
    return
  end
  interval_ms = 1000 / rate
end

function delay()
  local now = now_ms()
  if next_slot_ms == nil or next_slot_ms < now then
    next_slot_ms = now
  end
  local slot = next_slot_ms
  next_slot_ms = slot + interval_ms
  -- wrk's timers count whole milliseconds; rounding keeps the mean rate exact.
  return math.floor(slot - now + 0.5)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max
  ))
end
