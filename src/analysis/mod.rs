//! The analysis core: pure and synchronous. Text + context in, findings out. No I/O, no clock, no globals, never
//! fails: whatever the input, it returns findings (possibly none). `commentguard serve` and `commentguard check` call
//! the same [`analyze`].

pub mod normalize;
