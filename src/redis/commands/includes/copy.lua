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

-- The copy holds exactly the field/value pairs ARGV[from..] (besides its own expiresAt and
-- settlesAt).
local function copy_equals(key, from)
  local hash = redis.call('HGETALL', key)
  if #hash == 0 then return false end
  local cached = {}
  for i = 1, #hash, 2 do
    if hash[i] ~= 'expiresAt' and hash[i] ~= 'settlesAt' then cached[hash[i]] = hash[i + 1] end
  end
  for i = from, #ARGV, 2 do
    if cached[ARGV[i]] ~= ARGV[i + 1] then return false end
    cached[ARGV[i]] = nil
  end
  return next(cached) == nil
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
