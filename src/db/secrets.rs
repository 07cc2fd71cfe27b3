//! Per-installation secrets, created once and kept in the database so every
//! process (and every restart) shares them.

use diesel::prelude::*;

use super::schema::instance_secrets;
use super::{DbConnection, RepoResult};

/// The secret called `name`, created from `generate` the first time.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    generate: impl FnOnce() -> String,
) -> RepoResult<String> {
    let find = |c: &mut DbConnection| -> RepoResult<Option<String>> {
        Ok(instance_secrets::table
            .find(name)
            .select(instance_secrets::value)
            .first(c)
            .optional()?)
    };
    if let Some(value) = find(conn)? {
        return Ok(value);
    }
    let value = generate();
    // Two processes starting at once: the second insert fails and both
    // then read the first one's secret.
    let _ = diesel::insert_into(instance_secrets::table)
        .values((
            instance_secrets::name.eq(name),
            instance_secrets::value.eq(&value),
        ))
        .execute(conn);
    Ok(find(conn)?.unwrap_or(value))
}
