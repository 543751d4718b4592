//! Every built-in plugin crate, named once.
//!
//! Plugins register through `inventory`, and a crate that is linked but never named in
//! the program loses its registrations. Binaries of this workspace (the `nas` CLI, the
//! benchmarks) name this crate instead of each plugin crate (`use nas_builtins as _;`),
//! so a new built-in plugin is added here and nowhere else. Third-party binaries name
//! it the same way, then their own plugin crates.
//!
//! Without the default feature `tensors`, only the plugins that need no burn are linked
//! (spaces, strategies, pruners, the tabular evaluator, the SQLite and PostgreSQL
//! storages).

use nas_eval as _;
use nas_evo as _;
use nas_prune as _;
use nas_rl as _;
use nas_space as _;
use nas_storage_postgres as _;
use nas_storage_sqlite as _;

#[cfg(feature = "tensors")]
use nas_backend_flex as _;
#[cfg(feature = "tensors")]
use nas_backend_ndarray as _;
#[cfg(feature = "tensors")]
use nas_backend_wgpu as _;
#[cfg(feature = "tensors")]
use nas_darts as _;
#[cfg(feature = "tensors")]
use nas_enas as _;
#[cfg(feature = "tensors")]
use nas_policy as _;
