--[[
  A cache-aside fill: stores the copy a miss read from MongoDB, unless it may be stale, and ends
  the miss (its fill lease released). Stored or not, the copy is about to be answered: the fence's
  floor is raised to its revision and an older copy dropped, so no read that starts later gets an
  older one from Redis.
  Input:
    KEYS[1] movie copy
    KEYS[2] write fence
    KEYS[3] fill lease
    ARGV[1] the fence the miss saw before its MongoDB read
    ARGV[2] the copy's revision
    ARGV[3] fresh for (ms)
    ARGV[4] grace (ms): kept that much longer, served only if MongoDB fails
    ARGV[5] fence TTL (s)
    ARGV[6] a new fence generation, used if the fence was lost
    ARGV[7] the write window (ms): how long a fence made after a loss leaves copies unsettled
    ARGV[8] the lease token ('' if the miss holds none)
    ARGV[9] the movie's encoding
  Output:
    {'stored', unsettled (1 or 0)}
    {'cached', copy}  a newer copy is cached: it wins and is returned (header and encoding)
    {'fenced'}    a write newer than this revision was recorded
    {'unfenced'}  the fence was lost or regenerated since the miss saw it
    {'pending'}   a write is in flight: nothing is cached until it ends
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
if ARGV[8] ~= '' and redis.call('GET', KEYS[3]) == ARGV[8] then redis.call('DEL', KEYS[3]) end
local revision = tonumber(ARGV[2])
if copy_is_newer(KEYS[1], revision) then return {'cached', redis.call('GET', KEYS[1])} end
local now = redis_now_ms()
local refused = fence_check(KEYS[2], ARGV[1], revision, now)
local fence = fence_floor(KEYS[2], revision, ARGV[6], ARGV[5], now)
if refused then
  if copy_is_older(KEYS[1], revision) then redis.call('DEL', KEYS[1]) end
  return {refused}
end
local settles_at = fence_settles_at(fence_parse(fence), tonumber(ARGV[7]))
copy_store(KEYS[1], ARGV[2], ARGV[9], ARGV[3], ARGV[4], settles_at, now)
return {'stored', settles_at > now and 1 or 0}
