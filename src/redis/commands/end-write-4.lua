--[[
  An UpdateRating ends. Saved: the fence is raised to its revision and the copy installed, if the
  fence is still the one the write began and no other write is pending (else the copy is dropped:
  the next read fills from MongoDB). Not saved (revision ''): the write only leaves the fence.
  Input:
    KEYS[1] movie copy
    KEYS[2] movie copy as versions before 2 kept it (a hash; dropped)
    KEYS[3] write fence
    KEYS[4] absence marker
    ARGV[1] the fence begin-write returned
    ARGV[2] the write's nonce
    ARGV[3] revision saved ('' if none)
    ARGV[4] fresh for (ms)
    ARGV[5] grace (ms)
    ARGV[6] fence TTL (s)
    ARGV[7] a new fence generation, used if the fence was lost
    ARGV[8] the write window (ms): how long a fence made after a loss leaves copies unsettled
    ARGV[9] the movie's encoding ('' if not saved)
  Output: 1 if installed, 0 if not
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
local revision = tonumber(ARGV[3])
local now = redis_now_ms()
local alone = fence_write_end(KEYS[3], ARGV[1], ARGV[2], revision, ARGV[7], ARGV[6], now)
if revision == nil then return 0 end
redis.call('DEL', KEYS[2], KEYS[4])
if copy_is_newer(KEYS[1], revision) then return 0 end
if not alone then
  redis.call('DEL', KEYS[1])
  return 0
end
local generation = fence_parse(redis.call('GET', KEYS[3]))
local settles_at = fence_settles_at(generation, tonumber(ARGV[8]))
copy_store(KEYS[1], ARGV[3], ARGV[9], ARGV[4], ARGV[5], settles_at, now)
return 1
