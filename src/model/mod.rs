//! Domain types. Request bodies are parsed into these once, at the edge, so the
//! repositories and search can trust them.

pub mod accounts;
pub mod enums;
pub mod freshness;
pub mod location;
pub mod opening;
pub mod organisation;
pub mod read;
pub mod service;
pub mod taxonomy;
pub mod values;

pub use values::{FieldError, Invalid};

/// Who made a change, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    pub fn anonymous() -> Self {
        Actor("anonymous".into())
    }

    /// The holder of an API key, by key id (never the secret).
    pub fn key(id: uuid::Uuid) -> Self {
        Actor(format!("key:{id}"))
    }

    /// A system process (demo loader, importer, background job).
    pub fn system(name: &str) -> Self {
        Actor(format!("system:{name}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
