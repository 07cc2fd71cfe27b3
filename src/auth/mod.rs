//! Who is calling and what they may do: API key tokens, the caller of a
//! request, the authorisation rules, and rate limits.

pub mod limits;
pub mod policy;
pub mod token;

use std::net::IpAddr;

use uuid::Uuid;

use crate::model::enums::Role;
use crate::model::Actor;

/// The authenticated holder of an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub id: Uuid,
    pub prefix: String,
    pub role: Role,
    /// Organisations this key is a member of (for the `organisation` role).
    pub organisations: Vec<Uuid>,
}

/// Who made a request: a key holder or an anonymous client, by IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous { ip: Option<IpAddr> },
    Key(KeyHolder),
}

impl Caller {
    /// How the caller is named in the audit log.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::Anonymous { .. } => Actor::anonymous(),
            Caller::Key(key) => Actor::key(key.id),
        }
    }

    pub fn key(&self) -> Option<&KeyHolder> {
        match self {
            Caller::Key(key) => Some(key),
            Caller::Anonymous { .. } => None,
        }
    }
}
