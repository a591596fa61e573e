--[[
  Write-through of a movie MongoDB has saved: raises its fence, forgets an absence, and
  installs the copy unless a newer one is cached.
  Input:
    KEYS[1] movie copy (hash)
    KEYS[2] write fence
    KEYS[3] absence marker
    ARGV[1] the copy's revision
    ARGV[2] fresh for (ms)
    ARGV[3] kept for (s)
    ARGV[4] fence TTL (s)
    ARGV[5] a new fence generation, used if the fence was lost
    ARGV[6..] field/value pairs
  Output: 1 if installed, 0 if a newer copy is cached
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
local revision = tonumber(ARGV[1])
fence_raise(KEYS[2], revision, ARGV[5], ARGV[4])
redis.call('DEL', KEYS[3])
if copy_is_newer(KEYS[1], revision) then return 0 end
copy_store(KEYS[1], ARGV[2], ARGV[3], 6)
return 1
