#!lua name=finale
-- The audience path's atomic steps on Redis (audience/scale). Every rule is decided by
-- finale.core on the hub node first; these functions only guard it atomically, the way the
-- SQLite store's transaction asks the rule again at commit:
--   * a vote is decided on the poll version the node saw (`stale` when the console has
--     published another one since: the node re-reads the round and asks the core again);
--   * one vote per voter credential per round, the later arrival replaces it (as in SQLite);
--   * a resend of the counted vote (same client message id and label) is a replay: no new
--     record, acknowledged again;
--   * at most `limit` voters counted per origin (voting.devices_per_address), counted exactly
--     as the store counts them: voters whose counted vote came from that origin;
--   * every counted vote is appended to the votes stream, its audit record, which the
--     drainer moves into SQLite exactly once.
-- All keys of one event share the hash tag {event id}.

local function split(entry)
  local _, _, msg, label, origin = string.find(entry, '^(.-)\t(.-)\t(.*)$')
  return msg, label, origin
end

-- KEYS: show hash, votes hash, tally hash, origins hash, votes stream
-- ARGV: round, version, voter, label, msg id ('' for none), cast_at, origin ('' for none),
--       issued_at ('' for none), limit (0: none), arrival JSON ('' for none)
local function vote(keys, args)
  local show, votes, tally, origins, stream = keys[1], keys[2], keys[3], keys[4], keys[5]
  local round, version, voter, label, msg = args[1], args[2], args[3], args[4], args[5]
  local cast_at, origin, issued_at, limit, arrival = args[6], args[7], args[8], tonumber(args[9]), args[10]
  local current = redis.call('HMGET', show, 'round', 'version')
  if current[1] ~= round or current[2] ~= version then
    return {'stale', current[2] or ''}
  end
  local before = redis.call('HGET', votes, voter)
  local old_label, old_origin = nil, nil
  if before then
    local m, l, o = split(before)
    if msg ~= '' and m == msg and l == label then
      return {'replay', ''}
    end
    old_label, old_origin = l, o
  end
  if origin ~= '' and limit > 0 and old_origin ~= origin then
    local crowd = tonumber(redis.call('HGET', origins, origin) or '0')
    if crowd >= limit then
      return {'address_limit', tostring(crowd)}
    end
  end
  if old_label then
    redis.call('HINCRBY', tally, old_label, -1)
  end
  if old_origin and old_origin ~= '' then
    redis.call('HINCRBY', origins, old_origin, -1)
  end
  redis.call('HINCRBY', tally, label, 1)
  if origin ~= '' then
    redis.call('HINCRBY', origins, origin, 1)
  end
  redis.call('HSET', votes, voter, msg .. '\t' .. label .. '\t' .. origin)
  local id = redis.call('XADD', stream, '*', 'round', round, 'voter', voter, 'label', label, 'msg', msg,
                        'cast_at', cast_at, 'origin', origin, 'issued_at', issued_at, 'arrival', arrival)
  return {'ok', id}
end

-- KEYS: show hash. ARGV: round ('' for none), poll version, round JSON, snapshot JSON,
-- snapshot version, nudge channel. The console's one write of the show state: the key first,
-- then the nudge (a nudge may be lost; nodes also poll the snapshot version).
local function publish(keys, args)
  redis.call('HSET', keys[1], 'round', args[1], 'version', args[2], 'round_json', args[3],
             'snapshot', args[4], 'snapshot_version', args[5], 'published_at', args[7])
  redis.call('PUBLISH', args[6], args[5])
  return 'ok'
end

-- KEYS: the origin's credential-rate hash. ARGV: tokens a second, burst. A token bucket on
-- Redis's own clock, so every node takes from the same one (voting.credentials_per_address_per_min).
-- Returns 1 when a token was taken, 0 when the origin has none left.
local function take_token(keys, args)
  local rate, burst = tonumber(args[1]), tonumber(args[2])
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  local held = redis.call('HMGET', keys[1], 'tokens', 'at')
  local tokens, at = tonumber(held[1]) or burst, tonumber(held[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  local taken = 0
  if tokens >= 1 then
    tokens, taken = tokens - 1, 1
  end
  redis.call('HSET', keys[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('EXPIRE', keys[1], math.ceil(burst / rate) + 1)
  return taken
end

redis.register_function('finale_vote', vote)
redis.register_function('finale_take_token', take_token)
redis.register_function('finale_publish', publish)
