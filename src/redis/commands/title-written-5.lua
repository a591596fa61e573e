--[[
  A movie with this title was written: the title's fence counts one more write, so a title
  miss begun before now remembers no absence, and the title's absences are forgotten. A write
  that may have moved the title (made outside the service) also forgets which id it names.
  Input:
    KEYS[1] the title's write fence
    KEYS[2] the title's absence marker (any year)
    KEYS[3] the title's absence marker for the movie's year
    KEYS[4] the title's entry in the title map (any year)
    KEYS[5] the title's entry in the title map for the movie's year
    ARGV[1] fence TTL (s)
    ARGV[2] a new fence generation, used if the fence was lost
    ARGV[3] '1' to forget the title map entries
  Output: 1
]]
--- @include "fence"
fence_bump(KEYS[1], ARGV[2], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
if ARGV[3] == '1' then redis.call('DEL', KEYS[4], KEYS[5]) end
return 1
