--[[
  Releases a fill lease, only if this caller still holds it.
  Input:
    KEYS[1] fill lease
    ARGV[1] lease token
  Output: 1 if released, 0 if the lease was someone else's or gone
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
