-- The write fence of a lookup: "<generation>:<revision>" (src/movies/cache/write-fence.ts).
-- A fill is checked against the fence it saw before reading MongoDB; a write raises the
-- revision; a new generation refuses every fill begun before it.
-- While writes may be in flight the generation is "<id>/<ends>/<writers>": ends is Redis time
-- (ms), writers the nonces of the writes not yet ended; until then no fill is stored.
-- A fence may be lost (evicted, deleted, a restart) while a write runs. So every copy answered
-- from MongoDB raises the revision (a floor) and drops older copies; and an id made when the
-- fence was missing carries "@<Redis time>", so a copy filled soon after is known unsettled: a
-- near-cache keeps it only while no write of the movie is in flight.

local function fence_parse(fence)
  local generation, revision = string.match(fence, '^([^:]*):(.*)$')
  return generation, tonumber(revision)
end

-- A generation's parts: its id, when its writes' window ends (0: none), the set of writers.
local function fence_parts(generation)
  local id, ends, names = string.match(generation, '^([^/]*)/(%d+)/(.*)$')
  local writers = {}
  if not id then return generation, 0, writers end
  for nonce in string.gmatch(names, '[^,]+') do writers[nonce] = true end
  return id, tonumber(ends), writers
end

local function fence_compose(id, ends, writers)
  local names = {}
  for nonce in pairs(writers) do table.insert(names, nonce) end
  if #names == 0 then return id end
  table.sort(names)
  return id .. '/' .. ends .. '/' .. table.concat(names, ',')
end

-- A write named by the generation may not have reached MongoDB yet, or not ended.
local function fence_is_pending(generation, now)
  local _, ends, writers = fence_parts(generation)
  return ends > now and next(writers) ~= nil
end

-- When a fence made while it was missing was made (nil for one that was not).
local function fence_made_at(generation)
  local made = string.match(generation, '^[^/@]*@(%d+)')
  return made and tonumber(made)
end

local function fence_set(key, generation, revision, ttl)
  local fence = generation .. ':' .. revision
  redis.call('SET', key, fence, 'EX', ttl)
  return fence
end

-- A fence for a key that had none (never, expired, or lost).
local function fence_make(key, new_id, revision, ttl, now)
  return fence_set(key, new_id .. '@' .. now, revision, ttl)
end

-- A new id in place of `generation`'s, still saying when the fence was made if it did.
local function fence_renamed(generation, new_id)
  local made = fence_made_at(generation)
  if made then return new_id .. '@' .. made end
  return new_id
end

-- Until when a copy stored under this generation is unsettled (0: settled): a write whose fence
-- was lost before it was made may reach MongoDB within a window of it, after a miss read the
-- movie (a miss lasts less than a window).
local function fence_settles_at(generation, window)
  local made = fence_made_at(generation)
  if made then return made + 2 * window end
  return 0
end

-- Before a miss reads MongoDB: the fence as it is (TTL renewed), or a new one if it was lost.
local function fence_begin(key, new_id, ttl, now)
  local fence = redis.call('GET', key)
  if not fence then return fence_make(key, new_id, 0, ttl, now) end
  redis.call('EXPIRE', key, ttl)
  return fence
end

-- Why a fill of `revision`, read after `seen`, must not be stored; nil if it may be.
local function fence_check(key, seen, revision, now)
  local fence = redis.call('GET', key)
  if not fence then return 'unfenced' end
  local generation, newest = fence_parse(fence)
  if generation ~= fence_parse(seen) then return 'unfenced' end
  if fence_is_pending(generation, now) then return 'pending' end
  if newest > revision then return 'fenced' end
  return nil
end

-- A copy of `revision` is answered: no fill of an older one is stored from now on.
local function fence_floor(key, revision, new_id, ttl, now)
  local fence = redis.call('GET', key)
  if not fence then return fence_make(key, new_id, revision, ttl, now) end
  local generation, newest = fence_parse(fence)
  if newest >= revision then return fence end
  return fence_set(key, generation, revision, ttl)
end

-- A write begins: a new generation naming it, pending until now + window (ms) at least.
local function fence_write_begin(key, nonce, new_id, ttl, now, window)
  local fence = redis.call('GET', key)
  local ends, writers, revision = 0, {}, 0
  if fence then
    local generation
    generation, revision = fence_parse(fence)
    local _
    _, ends, writers = fence_parts(generation)
    if ends <= now then ends, writers = 0, {} end
    new_id = fence_renamed(generation, new_id)
  else
    new_id = new_id .. '@' .. now
  end
  writers[nonce] = true
  local generation = fence_compose(new_id, math.max(ends, now + window), writers)
  return fence_set(key, generation, revision, ttl)
end

-- A write ends: it no longer holds the fence pending, and a saved `revision` raises it (never
-- lowers it). True if its copy may be installed: the fence is the one it began, and no other
-- write is pending.
local function fence_write_end(key, seen, nonce, revision, new_id, ttl, now)
  local fence = redis.call('GET', key)
  if not fence then
    fence_make(key, new_id, revision or 0, ttl, now)
    return false
  end
  local generation, newest = fence_parse(fence)
  local id, ends, writers = fence_parts(generation)
  writers[nonce] = nil
  if ends <= now then writers = {} end
  fence_set(key, fence_compose(id, ends, writers), math.max(newest, revision or 0), ttl)
  local begun = fence_parts(fence_parse(seen))
  return revision ~= nil and id == begun and next(writers) == nil and newest <= revision
end

-- A write of a title (its fence counts writes): one more.
local function fence_bump(key, new_generation, ttl)
  local fence = redis.call('GET', key)
  if not fence then return fence_set(key, new_generation, 1, ttl) end
  local generation, writes = fence_parse(fence)
  return fence_set(key, generation, writes + 1, ttl)
end

-- The same writes pending under a new id, at `revision` (nil: the same): every fill begun
-- before now is refused.
local function fence_regenerate(key, new_id, ttl, now, revision)
  local fence = redis.call('GET', key)
  if not fence then return fence_make(key, new_id, revision or 0, ttl, now) end
  local generation, newest = fence_parse(fence)
  local _, ends, writers = fence_parts(generation)
  local renamed = fence_compose(fence_renamed(generation, new_id), ends, writers)
  return fence_set(key, renamed, revision or newest, ttl)
end

-- A write newer than `revision` was recorded.
local function fence_is_newer(key, revision)
  local fence = redis.call('GET', key)
  if not fence then return false end
  local _, newest = fence_parse(fence)
  return newest > revision
end
