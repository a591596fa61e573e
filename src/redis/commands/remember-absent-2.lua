--[[
  Remembers that a lookup found no movie, unless a write happened since the miss began (the
  movie may exist now) or one is in flight.
  Input:
    KEYS[1] absence marker
    KEYS[2] write fence
    ARGV[1] the fence the miss saw before its MongoDB read
    ARGV[2] absence TTL (s)
  Output: 1 if remembered, 0 if not
]]
--- @include "now"
--- @include "fence"
local fence = redis.call('GET', KEYS[2])
if fence ~= ARGV[1] or fence_is_pending(fence_parse(fence), redis_now_ms()) then return 0 end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
return 1
