--[[
  A read of an id that also tells an absence: its copy as it is stored, or whether the id is
  remembered absent (a hit alone is a plain GET).
  Input:
    KEYS[1] movie copy
    KEYS[2] absence marker
  Output:
    {copy}  a copy
    {1}     remembered absent
    {0}     a miss
]]
local copy = redis.call('GET', KEYS[1])
if copy then return {copy} end
return {redis.call('EXISTS', KEYS[2])}
