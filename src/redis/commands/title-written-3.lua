--[[
  A movie with this title was written: the title's fence counts one more write, so a title
  miss begun before now remembers no absence, and the title's absences are forgotten.
  Input:
    KEYS[1] the title's write fence
    KEYS[2] the title's absence marker (any year)
    KEYS[3] the title's absence marker for the movie's year
    ARGV[1] fence TTL (s)
    ARGV[2] a new fence generation, used if the fence was lost
  Output: 1
]]
--- @include "fence"
fence_bump(KEYS[1], ARGV[2], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return 1
