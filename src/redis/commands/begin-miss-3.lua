--[[
  Starts a miss: reads (or creates) the fence its fill will be checked against, and tries to
  take the fill lease, so one instance reads MongoDB for a cold lookup. While a write is pending
  no fill will be stored, so no lease is taken. A lookup remembered absent needs no miss.
  Input:
    KEYS[1] fill lease
    KEYS[2] write fence
    KEYS[3] absence marker
    ARGV[1] lease token ('' to only read the fence)
    ARGV[2] lease time (ms)
    ARGV[3] a new fence generation, used if the fence was lost
    ARGV[4] fence TTL (s)
    ARGV[5] '1' to answer {'absent'} for a lookup remembered absent
  Output: {leased (1 or 0), fence, pending (1 or 0), made (1 if the fence was missing)}, or
          {'absent'} if remembered absent
]]
--- @include "now"
--- @include "fence"
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return {'absent'} end
local now = redis_now_ms()
local made = redis.call('EXISTS', KEYS[2]) == 0 and 1 or 0
local fence = fence_begin(KEYS[2], ARGV[3], ARGV[4], now)
if fence_is_pending(fence_parse(fence), now) then return {0, fence, 1, made} end
local leased = 0
if ARGV[1] ~= '' and redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then leased = 1 end
return {leased, fence, 0, made}
