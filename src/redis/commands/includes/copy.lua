-- A movie copy is a string: the header "v2 <revision> <expiresAt> <settlesAt>\n", then the movie's
-- protobuf encoding (src/movies/cache/movie-copy.codec.ts). It is fresh until expiresAt and
-- unsettled until settlesAt (Redis time, ms; 0: settled), kept for its grace past expiresAt: a hit
-- is one GET, judged on the reader's estimate of Redis's clock, and its bytes are sent on as they are.

-- The revision of the copy under `key`, nil if none.
local function copy_revision(key)
  local value = redis.call('GET', key)
  if not value then return nil end
  return tonumber(string.match(value, '^v2 (%d+) '))
end

-- A newer revision than `revision` is cached under `key`.
local function copy_is_newer(key, revision)
  local current = copy_revision(key)
  return current ~= nil and current > revision
end

-- A copy older than `revision` is cached under `key`.
local function copy_is_older(key, revision)
  local current = copy_revision(key)
  return current ~= nil and current < revision
end

-- The copy holds exactly these encoded bytes.
local function copy_equals(key, bytes)
  local value = redis.call('GET', key)
  return value ~= false and string.match(value, '^v2 [^\n]*\n(.*)$') == bytes
end

-- Replaces the copy: fresh for fresh_ms, then kept for grace_ms more; unsettled until
-- settles_at (Redis time) if that is ahead of now.
local function copy_store(key, revision, bytes, fresh_ms, grace_ms, settles_at, now)
  local expires_at = now + tonumber(fresh_ms)
  if settles_at <= now then settles_at = 0 end
  local header = 'v2 ' .. revision .. ' ' .. expires_at .. ' ' .. settles_at .. '\n'
  redis.call('SET', key, header .. bytes, 'PX', tonumber(fresh_ms) + tonumber(grace_ms))
end
