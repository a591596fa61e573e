--[[
  Registers an instance whose near-cache serves until its lease runs out.
  Input:
    KEYS[1] registry of live instances (sorted set: lease end, Redis time)
    ARGV[1] instance id
    ARGV[2] lease (ms)
  Output: 1
]]
--- @include "now"
redis.call('ZADD', KEYS[1], redis_now_ms() + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], 10 * tonumber(ARGV[2]))
return 1
