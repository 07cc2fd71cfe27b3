//! `signpost keys …`: create the first admin key on a fresh install, list
//! keys, revoke one. Works on the database directly (the server may be running).

use chrono::{Duration, Utc};
use clap::Subcommand;
use uuid::Uuid;

use crate::auth::token;
use crate::config::Settings;
use crate::db::changes::Stamp;
use crate::db::keys::{self, NewKey};
use crate::db::paging::PageRequest;
use crate::model::accounts::KeyInput;
use crate::model::enums::Role;
use crate::model::Actor;

#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Create a key and print its token (shown this once only).
    Create {
        /// What the key is for, e.g. "Alex (admin)".
        #[arg(long)]
        name: String,
        /// admin, editor, organisation or client.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Organisation(s) an organisation key may edit (repeat the flag).
        #[arg(long = "organisation")]
        organisations: Vec<Uuid>,
        /// Days until the key expires (default: never).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List keys (never their tokens).
    List,
    /// Revoke a key by id or prefix.
    Revoke { key: String },
}

pub fn run(settings: &Settings, action: KeyAction) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database(), 1)?;
    crate::db::migrate(&pool)?;
    let mut conn = pool.get()?;
    let stamp = Stamp {
        actor: Actor::system("cli"),
        at: Utc::now(),
    };
    match action {
        KeyAction::Create {
            name,
            role,
            organisations,
            expires_in_days,
        } => {
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let input = KeyInput {
                name,
                role,
                organisation_ids: organisations,
                expires_at: expires_in_days.map(|d| stamp.at + Duration::days(d)),
            };
            let draft = input
                .validate(stamp.at)
                .map_err(|e| anyhow::anyhow!("{}", e.summary()))?;
            let issued = token::issue()?;
            let key = keys::create(
                &mut conn,
                &stamp,
                NewKey {
                    name: draft.name.into_inner(),
                    role: draft.role,
                    organisation_ids: draft.organisation_ids,
                    expires_at: draft.expires_at,
                },
                &issued,
            )?;
            eprintln!(
                "created {} key {} ({}); its token is below and will not be shown again:",
                key.role.as_str(),
                key.id,
                key.name
            );
            println!("{}", issued.token);
        }
        KeyAction::List => {
            let mut page = PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            };
            loop {
                let keys = keys::list(&mut conn, page)?;
                for k in &keys.items {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else if k.expires_at.is_some_and(|e| e <= stamp.at) {
                        "expired"
                    } else {
                        "active"
                    };
                    println!(
                        "{}  sp_{}_…  {:<12} {:<8} {}",
                        k.id,
                        k.prefix,
                        k.role.as_str(),
                        state,
                        k.name
                    );
                }
                if page.page >= keys.total_pages() {
                    break;
                }
                page.page += 1;
            }
        }
        KeyAction::Revoke { key } => {
            let found = keys::find(&mut conn, key.trim_start_matches("sp_"))?;
            let key = keys::revoke(&mut conn, &stamp, found.id)?;
            println!("revoked {} ({})", key.id, key.name);
        }
    }
    Ok(())
}
