--[[
  Takes or keeps the change feed's leader lease: one instance of the fleet reads the feed.
  Input:
    KEYS[1] leader lease
    ARGV[1] this instance's id
    ARGV[2] lease time (ms)
  Output: 1 if this instance leads now (taken or renewed), 0 if another one does
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
