--[[
  Publishes an invalidation on the near-cache channel and names the instances that must
  acknowledge it: those registered live at that moment (the others have stopped serving). A
  movie being written is listed among the writes in flight until its window ends, for instances
  that register later.
  Input:
    KEYS[1] registry of live instances
    KEYS[2] writes in flight (sorted set: movie id, end of its write window in Redis time)
    ARGV[1] channel
    ARGV[2] message
    ARGV[3] the movie being written ('' if none)
    ARGV[4] the write window (ms)
  Output: the live instance ids
]]
--- @include "now"
local now = redis_now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
if ARGV[3] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('ZADD', KEYS[2], 'GT', now + tonumber(ARGV[4]), ARGV[3])
end
redis.call('SPUBLISH', ARGV[1], ARGV[2])
return live
