--[[
  A cache-aside fill: stores the copy a miss read from MongoDB, unless it may be stale. Stored or
  not, the copy is about to be answered: the fence's floor is raised to its revision and an older
  copy dropped, so no read that starts later gets an older one from Redis.
  Input:
    KEYS[1] movie copy (hash)
    KEYS[2] write fence
    ARGV[1] the fence the miss saw before its MongoDB read
    ARGV[2] the copy's revision
    ARGV[3] fresh for (ms)
    ARGV[4] kept for (s): fresh time plus grace
    ARGV[5] fence TTL (s)
    ARGV[6] a new fence generation, used if the fence was lost
    ARGV[7] the write window (ms): how long a fence made after a loss leaves copies unsettled
    ARGV[8..] field/value pairs
  Output:
    {'stored', settlesAt}  settlesAt: until when (Redis time, ms) no near-cache may keep it; 0: now
    {'cached', field, value, ...}  a newer copy is cached: it wins and is returned
    {'fenced'}    a write newer than this revision was recorded
    {'unfenced'}  the fence was lost or regenerated since the miss saw it
    {'pending'}   a write is in flight: nothing is cached until it ends
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
local revision = tonumber(ARGV[2])
if copy_is_newer(KEYS[1], revision) then
  local hash = redis.call('HGETALL', KEYS[1])
  table.insert(hash, 1, 'cached')
  return hash
end
local now = redis_now_ms()
local refused = fence_check(KEYS[2], ARGV[1], revision, now)
local fence = fence_floor(KEYS[2], revision, ARGV[6], ARGV[5], now)
if refused then
  if copy_is_older(KEYS[1], revision) then redis.call('DEL', KEYS[1]) end
  return {refused}
end
local settles_at = fence_settles_at(fence_parse(fence), tonumber(ARGV[7]))
copy_store(KEYS[1], ARGV[3], ARGV[4], 8, settles_at)
if settles_at <= now then settles_at = 0 end
return {'stored', settles_at}
