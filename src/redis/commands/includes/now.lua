-- Redis's clock in ms: logical expiries and leases are set and compared on one clock.
local function redis_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
