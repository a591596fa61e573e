--[[
  A read of an id: its copy as it is stored and how long Redis keeps it, or whether the id is
  remembered absent. One command, so concurrent reads share their writes to Redis.
  Input:
    KEYS[1] movie copy
    KEYS[2] absence marker
  Output:
    {copy, PTTL (ms)}  a copy
    {1}                remembered absent
    {0}                a miss
]]
local copy = redis.call('GET', KEYS[1])
if copy then return {copy, redis.call('PTTL', KEYS[1])} end
return {redis.call('EXISTS', KEYS[2])}
