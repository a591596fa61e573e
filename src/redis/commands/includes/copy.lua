-- A movie copy is a hash: its fields plus `expiresAt`, when it stops being fresh (Redis time, ms).

-- A newer revision than `revision` is cached under `key`.
local function copy_is_newer(key, revision)
  local current = redis.call('HGET', key, 'revision')
  return current and tonumber(current) > revision
end

-- Replaces the copy with the field/value pairs ARGV[from..]: fresh for fresh_ms, kept keep_s.
local function copy_store(key, fresh_ms, keep_s, from)
  redis.call('DEL', key)
  redis.call('HSET', key, 'expiresAt', redis_now_ms() + tonumber(fresh_ms), unpack(ARGV, from))
  redis.call('EXPIRE', key, keep_s)
end
