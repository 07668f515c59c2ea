//! The limits the engine enforces. `docs/FORMAT.md` states the same numbers; a test keeps them equal.

/// Longest key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 8 * 1024;

/// Largest value, in bytes. Values cross the component boundary twice (into the app and the
/// provider), so both linear memories hold a copy.
pub const MAX_VALUE_BYTES: usize = 32 * 1024 * 1024;

/// Most keys in one `get-many`, `set-many` or `delete-many`.
pub const MAX_BATCH_KEYS: usize = 10_000;

/// Most keys in one `list-keys` page.
pub const MAX_PAGE_KEYS: usize = 1_000;

/// Most key bytes in one `list-keys` page (a page ends early once it holds this much).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Most key directories one `list-keys` call examines, counting deleted keys, before it returns a
/// shorter page with a cursor (bounds the work of a call over a store full of tombstones).
pub const MAX_PAGE_SCAN: usize = 10_000;

/// How often a write retries after losing the race for a key before it gives up.
pub const MAX_ATTEMPTS: u32 = 100_000;
