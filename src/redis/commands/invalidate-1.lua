--[[
  Publishes an invalidation on the near-cache channel and names the instances that must
  acknowledge it: those registered live at that moment (the others have stopped serving).
  Input:
    KEYS[1] registry of live instances
    ARGV[1] channel
    ARGV[2] message
  Output: the live instance ids
]]
--- @include "now"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', redis_now_ms())
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('SPUBLISH', ARGV[1], ARGV[2])
return live
