--[[
  Stores where the change feed resumes, only while the caller still leads: a leader that lost
  its lease must not move the position back under the new one.
  Input:
    KEYS[1] leader lease
    KEYS[2] resume token
    ARGV[1] this instance's id
    ARGV[2] the token after the batch just applied
  Output: 1 if stored, 0 if another instance leads (or none)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
