--[[
  Write-through of a movie MongoDB has saved: raises its fence, forgets an absence, and
  installs the copy unless a newer one is cached or a newer write was recorded. The fence must
  be the one the write saw before MongoDB: lost or regenerated since, it may have forgotten a
  newer write (or a repair), so the copy is dropped instead and the next read fills from MongoDB.
  Input:
    KEYS[1] movie copy (hash)
    KEYS[2] write fence
    KEYS[3] absence marker
    ARGV[1] revision
    ARGV[2] fresh for (ms)
    ARGV[3] kept for (s), past fresh for the grace window
    ARGV[4] fence TTL (s)
    ARGV[5] a new fence generation, used if the fence was lost
    ARGV[6] the fence as the write saw it before MongoDB ('' if unknown)
    ARGV[7..] field/value pairs
  Output: 1 if installed, 0 if not (a newer copy or write, or the fence changed generation)
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
local revision = tonumber(ARGV[1])
local fence = redis.call('GET', KEYS[2])
local continuous = fence ~= false and ARGV[6] ~= '' and fence_parse(fence) == fence_parse(ARGV[6])
-- A newer write was recorded: its copy may have been evicted since, so this one must not return.
local superseded = fence_is_newer(KEYS[2], revision)
fence_raise(KEYS[2], revision, ARGV[5], ARGV[4])
redis.call('DEL', KEYS[3])
if not continuous then
  redis.call('DEL', KEYS[1])
  return 0
end
if superseded or copy_is_newer(KEYS[1], revision) then return 0 end
copy_store(KEYS[1], ARGV[2], ARGV[3], 7)
return 1
