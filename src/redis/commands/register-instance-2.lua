--[[
  Registers an instance whose near-cache serves until its lease runs out, and tells it which
  movies are being written (it keeps no unsettled copy of them: see copy.lua).
  Input:
    KEYS[1] registry of live instances (sorted set: lease end, Redis time)
    KEYS[2] writes in flight (sorted set: movie id, end of its write window, Redis time)
    ARGV[1] instance id
    ARGV[2] lease (ms)
  Output: {ms, id, ...}  each movie in flight with how long its window has left (ms)
]]
--- @include "now"
local now = redis_now_ms()
-- No TTL: a key without one survives the volatile-* eviction policies (writers prune it).
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local writes = redis.call('ZRANGEBYSCORE', KEYS[2], now + 1, '+inf', 'WITHSCORES')
local flat = {}
for i = 1, #writes, 2 do
  table.insert(flat, tonumber(writes[i + 1]) - now)
  table.insert(flat, writes[i])
end
return flat
