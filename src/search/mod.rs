//! Search: a tantivy index kept in step with the database by the indexer.
//! The database stays the source of truth; the index can always be rebuilt.

pub mod cells;
pub mod index;
pub mod indexer;
pub mod query;
pub mod schema;
pub mod slots;
pub mod summary;
pub mod synonyms;
mod term_bitset;

pub use index::SearchIndex;
pub use indexer::Indexer;
