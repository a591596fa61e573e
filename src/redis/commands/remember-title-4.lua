--[[
  Puts a title map entry in place, written first under a key of its own by CACHE_MANAGER, only if
  the title's fence is still the one the title miss saw: a write that moved the title meanwhile
  (another movie got more votes, was inserted or renamed) refuses a mapping read before it. Then it
  ends the title miss: its fill lease is released (one round trip, not two), after the entry is in
  place, so an instance waiting on the lease finds the entry.
  Input:
    KEYS[1] the entry as written (a key of its own, the entry's slot)
    KEYS[2] the title map entry
    KEYS[3] the title's write fence
    KEYS[4] the title's fill lease
    ARGV[1] the fence the title miss saw before its query
    ARGV[2] the lease token, '' if the miss holds no lease
  Output: 1 if in place, 0 if refused (the written entry is dropped)
]]
local placed = 0
if redis.call('GET', KEYS[3]) == ARGV[1] and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  placed = 1
else
  redis.call('DEL', KEYS[1])
end
if ARGV[2] ~= '' and redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
return placed
