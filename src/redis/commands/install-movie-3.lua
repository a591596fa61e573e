--[[
  Write-through of a movie MongoDB has saved: raises its fence, forgets an absence, and
  installs the copy unless a newer one is cached or a newer write was recorded.
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
  Output: 1 if installed, 0 if a newer copy is cached or a newer write recorded
]]
--- @include "now"
--- @include "fence"
--- @include "copy"
local revision = tonumber(ARGV[1])
-- A newer write was recorded: its copy may have been evicted since, so this one must not return.
local superseded = fence_is_newer(KEYS[2], revision)
fence_raise(KEYS[2], revision, ARGV[5], ARGV[4])
redis.call('DEL', KEYS[3])
if superseded or copy_is_newer(KEYS[1], revision) then return 0 end
copy_store(KEYS[1], ARGV[2], ARGV[3], 6)
return 1
