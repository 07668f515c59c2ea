//! The Lua scripts: one per operation, each run atomically by the server (`EVAL`), so every
//! operation is linearizable on one primary. `docs/VALKEY.md` describes the keys they touch.
//!
//! Every script takes the bucket's keys in `KEYS` (all carry the bucket's hash tag, so a cluster
//! keeps them in one slot) and uses `redis.call` (Redis 7.0 has no `server.call`). No script does
//! arithmetic on a value or a version: Lua numbers are doubles, exact only to 2^53. Versions are
//! read back from the counter as decimal strings (`INCR`, then `GET`) and compared as strings.
//!
//! Layout: `KEYS[1]` is the bucket's key index (sorted set), `KEYS[2]` its version counter, and
//! `KEYS[3..]` the entries (hashes with fields `val` and `ver`); `ARGV` carries the keys' index
//! members (hash prefix and key) and the values.

/// `KEYS` = entries: each value, or nil.
pub const GET: &str = r"
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGET', KEYS[i], 'val')
end
return out
";

/// `KEYS` = one entry: 1 if it has a value.
pub const EXISTS: &str = r"
return redis.call('HEXISTS', KEYS[1], 'val')
";

/// `KEYS` = one entry: its version, or nil (the value's bytes stay on the server).
pub const VERSION: &str = r"
return redis.call('HGET', KEYS[1], 'ver')
";

/// `KEYS` = one entry: `{version or nil, value or nil}` (`HMGET`'s nils are Lua false, and a
/// table of falses crosses back as nils, where a Lua nil would end the array).
pub const READ: &str = r"
return redis.call('HMGET', KEYS[1], 'ver', 'val')
";

/// `KEYS` = index, counter, entries; `ARGV` = index member, value for each entry. Each entry gets a fresh
/// version, and its name joins the index. Returns the number of entries set.
pub const SET: &str = r"
for i = 3, #KEYS do
  redis.call('INCR', KEYS[2])
  local ver = redis.call('GET', KEYS[2])
  redis.call('HSET', KEYS[i], 'val', ARGV[2 * i - 4], 'ver', ver)
  redis.call('ZADD', KEYS[1], 0, ARGV[2 * i - 5])
end
return #KEYS - 2
";

/// `KEYS` = index, counter, entries; `ARGV` = the entries' index members. An entry with a value becomes a
/// tombstone (its version alone, fresh), so that a version read before the delete never matches
/// again; an absent entry is left as it is. Returns the number deleted.
pub const DELETE: &str = r"
local n = 0
for i = 3, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'val') == 1 then
    redis.call('INCR', KEYS[2])
    local ver = redis.call('GET', KEYS[2])
    redis.call('HDEL', KEYS[i], 'val')
    redis.call('HSET', KEYS[i], 'ver', ver)
    redis.call('ZREM', KEYS[1], ARGV[i - 2])
    n = n + 1
  end
end
return n
";

/// `KEYS` = index, counter, entry; `ARGV` = index member, expected version, value. Sets the value with a
/// fresh version only if the entry's version (`0` if it never had one) is still the expected one.
/// Returns 1 if it did, 0 if another write got there first.
pub const SWAP: &str = r"
local cur = redis.call('HGET', KEYS[3], 'ver') or '0'
if cur ~= ARGV[2] then
  return 0
end
redis.call('INCR', KEYS[2])
local ver = redis.call('GET', KEYS[2])
redis.call('HSET', KEYS[3], 'val', ARGV[3], 'ver', ver)
redis.call('ZADD', KEYS[1], 0, ARGV[1])
return 1
";

/// `KEYS` = index; `ARGV` = lower bound (`-`, `(` and the last member listed, or `[` and a hash
/// prefix), most keys, most key bytes, and how many leading characters make a position (0: the
/// whole member). Returns `{more, members}`: the members after the bound in byte order, stopping
/// once the page holds the most keys or the most bytes, but never between two members at the same
/// position; `more` is 1 if members are left after the page.
pub const LIST: &str = r"
local limit = tonumber(ARGV[2])
local max_bytes = tonumber(ARGV[3])
local width = tonumber(ARGV[4])
local out = {}
local bytes = 0
local last = nil
local bound = ARGV[1]
while true do
  local names = redis.call('ZRANGEBYLEX', KEYS[1], bound, '+', 'LIMIT', 0, limit + 1)
  if #names == 0 then
    return {0, out}
  end
  for i = 1, #names do
    local full = #out >= limit or bytes >= max_bytes
    if full and (width == 0 or string.sub(names[i], 1, width) ~= string.sub(last, 1, width)) then
      return {1, out}
    end
    out[#out + 1] = names[i]
    bytes = bytes + #names[i]
    last = names[i]
  end
  bound = '(' .. last
end
";
