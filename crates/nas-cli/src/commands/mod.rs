pub mod eval;
pub mod export;
pub mod list;
pub mod report;
pub mod search;
pub mod show;
pub mod worker;
pub mod workers;
