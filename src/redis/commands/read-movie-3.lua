--[[
  A cached copy, fresh or kept for grace, or a remembered absence.
  Input:
    KEYS[1] movie copy (hash)
    KEYS[2] absence marker
    KEYS[3] write fence
  Output:
    {now, fenced, field, value, ...}  the copy; now: Redis time (ms); fenced: 1 if a write
                                      newer than the copy was recorded
    {'absent'}                        known absent
    {}                                a miss
]]
--- @include "now"
--- @include "fence"
local hash = redis.call('HGETALL', KEYS[1])
if #hash > 0 then
  local revision = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
  local fenced = fence_is_newer(KEYS[3], revision) and 1 or 0
  table.insert(hash, 1, fenced)
  table.insert(hash, 1, redis_now_ms())
  return hash
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'absent'} end
return hash
