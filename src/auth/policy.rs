//! The authorisation rules, in one place:
//!
//! | role           | may                                                                |
//! |----------------|--------------------------------------------------------------------|
//! | anonymous      | read, search, report problems, suggest changes, claim an organisation |
//! | `client`       | read (higher rate limit); no writes                                |
//! | `organisation` | create, edit, close and confirm services and locations of its own organisations; edit its organisations' own records |
//! | `editor`       | edit any listing and taxonomy; moderate claims, suggestions, reports; read the audit log |
//! | `admin`        | everything an editor may, and manage API keys                      |

use uuid::Uuid;

use super::{Caller, KeyHolder};
use crate::model::enums::Role;

/// Why a request may not go ahead: 401 (no usable credentials) or 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Unauthenticated(String),
    Forbidden(String),
}

fn holder(caller: &Caller) -> Result<&KeyHolder, Denied> {
    caller.key().ok_or_else(|| {
        Denied::Unauthenticated(
            "this endpoint needs an API key (Authorization: Bearer <key>)".into(),
        )
    })
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Editor)
}

/// Any write: a key that is not read-only. Checked first, so anonymous
/// callers get 401 and clients 403 before anything else is looked at.
pub fn writer(caller: &Caller) -> Result<&KeyHolder, Denied> {
    let key = holder(caller)?;
    if key.role == Role::Client {
        Err(Denied::Forbidden(
            "a client key is read-only; writes need an organisation, editor or admin key".into(),
        ))
    } else {
        Ok(key)
    }
}

/// Key management.
pub fn admin(caller: &Caller) -> Result<&KeyHolder, Denied> {
    let key = holder(caller)?;
    if key.role == Role::Admin {
        Ok(key)
    } else {
        Err(Denied::Forbidden("only an admin key may do this".into()))
    }
}

/// Moderation, taxonomy, the audit log, and any listing.
pub fn staff(caller: &Caller) -> Result<&KeyHolder, Denied> {
    let key = holder(caller)?;
    if is_staff(key.role) {
        Ok(key)
    } else {
        Err(Denied::Forbidden(
            "only an editor or admin key may do this".into(),
        ))
    }
}

/// Writing a listing owned by `owners` (a service or location: its
/// organisation; a move between organisations: both). Staff may edit any
/// listing; an `organisation` key only listings wholly within its own
/// organisations.
pub fn edit_listing<'a>(caller: &'a Caller, owners: &[Uuid]) -> Result<&'a KeyHolder, Denied> {
    let key = holder(caller)?;
    match key.role {
        role if is_staff(role) => Ok(key),
        Role::Organisation => {
            if owners.iter().all(|o| key.organisations.contains(o)) {
                Ok(key)
            } else {
                Err(Denied::Forbidden(
                    "this key may only change listings of the organisations it is a member of"
                        .into(),
                ))
            }
        }
        _ => Err(Denied::Forbidden(
            "a client key is read-only; writes need an organisation, editor or admin key".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(role: Role, orgs: &[Uuid]) -> Caller {
        Caller::Key(KeyHolder {
            id: Uuid::nil(),
            prefix: "000000000000".into(),
            role,
            organisations: orgs.to_vec(),
        })
    }

    #[test]
    fn the_matrix() {
        let mine = Uuid::from_u128(1);
        let theirs = Uuid::from_u128(2);
        let anon = Caller::Anonymous { ip: None };
        let member = key(Role::Organisation, &[mine]);
        let cases: Vec<(&str, Caller, [bool; 4])> = vec![
            // (who, caller, [admin, staff, edit mine, any write])
            ("anonymous", anon.clone(), [false, false, false, false]),
            (
                "client",
                key(Role::Client, &[mine]),
                [false, false, false, false],
            ),
            ("member", member.clone(), [false, false, true, true]),
            ("editor", key(Role::Editor, &[]), [false, true, true, true]),
            ("admin", key(Role::Admin, &[]), [true, true, true, true]),
        ];
        for (who, caller, [a, s, e, w]) in cases {
            assert_eq!(admin(&caller).is_ok(), a, "{who} admin");
            assert_eq!(staff(&caller).is_ok(), s, "{who} staff");
            assert_eq!(edit_listing(&caller, &[mine]).is_ok(), e, "{who} edit");
            assert_eq!(writer(&caller).is_ok(), w, "{who} write");
        }
        assert!(edit_listing(&member, &[theirs]).is_err());
        assert!(edit_listing(&member, &[mine, theirs]).is_err());
        assert!(matches!(staff(&anon), Err(Denied::Unauthenticated(_))));
        assert!(matches!(staff(&member), Err(Denied::Forbidden(_))));
    }
}
