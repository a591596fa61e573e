--[[
  Repairs an id whose cached copy may be older than MongoDB: the fence keeps its revision and its
  pending writes under a new generation, so every fill begun before now is refused wherever it
  runs; the copy and any absence are dropped.
  Input:
    KEYS[1] movie copy (hash)
    KEYS[2] write fence
    KEYS[3] absence marker
    ARGV[1] a new fence generation
    ARGV[2] fence TTL (s)
  Output: {title, year} of the dropped copy (nil each if none was cached)
]]
--- @include "now"
--- @include "fence"
fence_regenerate(KEYS[2], ARGV[1], ARGV[2], redis_now_ms())
local dropped = redis.call('HMGET', KEYS[1], 'title', 'year')
redis.call('DEL', KEYS[1], KEYS[3])
return dropped
