--[[
  The top of a ranking, with the ties at its boundary, so the caller can break ties by id.
  The key count is the call's first argument.
  Input:
    KEYS[1] the ranked set; for a window, a scratch key (deleted again)
    KEYS[2..] buckets summed into the scratch key (a window)
    ARGV[1] limit
  Output: member, score, ... : everything above the limit-th score, then the ties at that
          score in member order
]]
local key, limit = KEYS[1], tonumber(ARGV[1])
local union = #KEYS > 1
if union then
  redis.call('DEL', key)
  local i = 2
  while i <= #KEYS do
    local j = math.min(i + 999, #KEYS)
    if redis.call('EXISTS', key) == 1 then
      redis.call('ZUNIONSTORE', key, j - i + 2, key, unpack(KEYS, i, j))
    else
      redis.call('ZUNIONSTORE', key, j - i + 1, unpack(KEYS, i, j))
    end
    i = j + 1
  end
end
local top = redis.call('ZREVRANGE', key, 0, limit - 1, 'WITHSCORES')
local result = top
if #top == limit * 2 then
  local boundary = top[#top]
  result = redis.call('ZRANGEBYSCORE', key, '(' .. boundary, '+inf', 'WITHSCORES')
  local tied = redis.call('ZRANGEBYSCORE', key, boundary, boundary, 'WITHSCORES', 'LIMIT', 0, limit - #result / 2)
  for _, value in ipairs(tied) do table.insert(result, value) end
end
if union then redis.call('DEL', key) end
return result
