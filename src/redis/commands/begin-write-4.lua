--[[
  An UpdateRating begins, before MongoDB is written: the fence names the write and stays
  pending for the write's window, the copy and any absence are dropped. Until the write ends,
  no fill is stored, so no instance caches the movie as it was before or during the write.
  Input:
    KEYS[1] movie copy
    KEYS[2] movie copy as versions before 2 kept it (a hash; dropped too)
    KEYS[3] write fence
    KEYS[4] absence marker
    ARGV[1] the write's nonce
    ARGV[2] a new fence generation
    ARGV[3] fence TTL (s)
    ARGV[4] the write window (ms): MongoDB must have the write (or refuse it) within it
  Output: the fence as this write left it
]]
--- @include "now"
--- @include "fence"
local fence = fence_write_begin(KEYS[3], ARGV[1], ARGV[2], ARGV[3], redis_now_ms(), ARGV[4])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
return fence
