--[[
  Repairs an id after a write made outside the service, unless its copy is already what MongoDB
  holds now (then nothing changes: the service's own writes come back this way too). Else the
  fence gets a new generation, keeping its pending writes, at the revision MongoDB holds now (an
  import may have lowered it), so every fill begun before now is refused wherever it runs; the
  copy and any absence are dropped.
  Input:
    KEYS[1] movie copy
    KEYS[2] movie copy as versions before 2 kept it (a hash; dropped too)
    KEYS[3] write fence
    KEYS[4] absence marker
    ARGV[1] a new fence generation
    ARGV[2] fence TTL (s)
    ARGV[3] the movie's revision in MongoDB now ('' if it has none, or is gone; '?' if unknown:
            the fence keeps its revision)
    ARGV[4] its encoding in MongoDB now ('' if gone or unknown)
  Output:
    {'current'}  the copy is MongoDB's: nothing repaired
    {copy}       the dropped copy (header and encoding), or {} if none was cached
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
if ARGV[4] ~= '' and copy_equals(KEYS[1], ARGV[4]) then return {'current'} end
local revision = nil
if ARGV[3] ~= '?' then revision = tonumber(ARGV[3]) or 0 end
fence_regenerate(KEYS[3], ARGV[1], ARGV[2], redis_now_ms(), revision)
local dropped = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
if dropped then return {dropped} end
return {}
