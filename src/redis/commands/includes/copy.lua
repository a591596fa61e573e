-- A movie copy is a hash: its fields plus `expiresAt`, when it stops being fresh (Redis time, ms).

-- A newer revision than `revision` is cached under `key`.
local function copy_is_newer(key, revision)
  local current = redis.call('HGET', key, 'revision')
  return current and tonumber(current) > revision
end

-- A copy older than `revision` is cached under `key`.
local function copy_is_older(key, revision)
  local current = redis.call('HGET', key, 'revision')
  return current and tonumber(current) < revision
end

-- Replaces the copy with the field/value pairs ARGV[from..]: fresh for fresh_ms, kept keep_s;
-- unsettled until settles_at (Redis time) if that is still ahead: a near-cache keeps it only
-- while it knows of no write of the movie in flight.
local function copy_store(key, fresh_ms, keep_s, from, settles_at)
  local now = redis_now_ms()
  redis.call('DEL', key)
  redis.call('HSET', key, 'expiresAt', now + tonumber(fresh_ms), unpack(ARGV, from))
  if settles_at > now then redis.call('HSET', key, 'settlesAt', settles_at) end
  redis.call('EXPIRE', key, keep_s)
end
