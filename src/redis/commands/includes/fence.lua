-- The write fence of a lookup: "<generation>:<revision>" (src/movies/cache/write-fence.ts).
-- A fill is checked against the fence it saw before reading MongoDB; a write raises the
-- revision; a new generation refuses every fill begun before it.

local function fence_parse(fence)
  local generation, revision = string.match(fence, '^([^:]*):(.*)$')
  return generation, tonumber(revision)
end

local function fence_set(key, generation, revision, ttl)
  local fence = generation .. ':' .. revision
  redis.call('SET', key, fence, 'EX', ttl)
  return fence
end

-- Before a miss reads MongoDB: the fence as it is (TTL renewed), or a new one if it was lost.
local function fence_begin(key, new_generation, ttl)
  local fence = redis.call('GET', key)
  if not fence then return fence_set(key, new_generation, 0, ttl) end
  redis.call('EXPIRE', key, ttl)
  return fence
end

-- Why a fill of `revision`, read after `seen`, must not be stored; nil if it may be.
local function fence_check(key, seen, revision)
  local fence = redis.call('GET', key)
  if not fence then return 'unfenced' end
  local generation, newest = fence_parse(fence)
  if generation ~= fence_parse(seen) then return 'unfenced' end
  if newest > revision then return 'fenced' end
  return nil
end

-- A write of `revision`: the fence is raised to it (never lowered), in its generation.
local function fence_raise(key, revision, new_generation, ttl)
  local fence = redis.call('GET', key)
  if not fence then return fence_set(key, new_generation, revision, ttl) end
  local generation, newest = fence_parse(fence)
  return fence_set(key, generation, math.max(newest, revision), ttl)
end

-- A write of a title (its fence counts writes): one more.
local function fence_bump(key, new_generation, ttl)
  local fence = redis.call('GET', key)
  if not fence then return fence_set(key, new_generation, 1, ttl) end
  local generation, writes = fence_parse(fence)
  return fence_set(key, generation, writes + 1, ttl)
end

-- The same revision under a new generation: every fill begun before now is refused.
local function fence_regenerate(key, new_generation, ttl)
  local fence = redis.call('GET', key)
  local revision = 0
  if fence then revision = select(2, fence_parse(fence)) end
  return fence_set(key, new_generation, revision, ttl)
end

-- A write newer than `revision` was recorded.
local function fence_is_newer(key, revision)
  local fence = redis.call('GET', key)
  if not fence then return false end
  local _, newest = fence_parse(fence)
  return newest > revision
end
