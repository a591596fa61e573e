--[[
  A cache-aside fill: stores the copy a miss read from MongoDB, unless it may be stale.
  Input:
    KEYS[1] movie copy (hash)
    KEYS[2] write fence
    ARGV[1] the fence the miss saw before its MongoDB read
    ARGV[2] the copy's revision
    ARGV[3] fresh for (ms)
    ARGV[4] kept for (s): fresh time plus grace
    ARGV[5..] field/value pairs
  Output:
    {'stored'}
    {'cached', field, value, ...}  a newer copy is cached: it wins and is returned
    {'fenced'}    a write newer than this revision was recorded
    {'unfenced'}  the fence was lost or regenerated since the miss saw it
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
local refused = fence_check(KEYS[2], ARGV[1], revision)
if refused then return {refused} end
copy_store(KEYS[1], ARGV[3], ARGV[4], 5)
return {'stored'}
