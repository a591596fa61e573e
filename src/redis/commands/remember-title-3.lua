--[[
  Puts a title map entry in place, written first under a key of its own by CACHE_MANAGER, only if
  the title's fence is still the one the title miss saw: a write that moved the title meanwhile
  (another movie got more votes, was inserted or renamed) refuses a mapping read before it.
  Input:
    KEYS[1] the entry as written (a key of its own, the entry's slot)
    KEYS[2] the title map entry
    KEYS[3] the title's write fence
    ARGV[1] the fence the title miss saw before its query
  Output: 1 if in place, 0 if refused (the written entry is dropped)
]]
if redis.call('GET', KEYS[3]) == ARGV[1] and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
redis.call('DEL', KEYS[1])
return 0
