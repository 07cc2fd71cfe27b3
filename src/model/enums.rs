//! Closed vocabularies, stored as their snake_case names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a string-backed enum with `as_str`, `parse` and `ALL`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                match raw.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "'{}' is not one of: {}",
                        crate::model::values::clip(other),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum! {
    /// What an API key may do (see `auth::policy`).
    Role {
        Admin => "admin",
        Editor => "editor",
        Organisation => "organisation",
        Client => "client",
    }
}

text_enum! {
    /// Where a claim or suggestion is in moderation.
    ModerationStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
}

text_enum! {
    /// The kinds of listing a suggestion can change or propose.
    ListingKind {
        Organisation => "organisation",
        Service => "service",
        Location => "location",
    }
}

text_enum! {
    /// Why a listing needs a look (see `model::freshness`).
    FlagKind {
        LinkBroken => "link_broken",
        PossiblyClosed => "possibly_closed",
        Ended => "ended",
        Reopened => "reopened",
    }
}

text_enum! {
    /// How far a listing can be trusted, as users see it.
    FreshnessState {
        Fresh => "fresh",
        DueForReview => "due_for_review",
        Overdue => "overdue",
        PossiblyClosed => "possibly_closed",
        Closed => "closed",
    }
}

text_enum! {
    /// What a member of the public says is wrong with a listing.
    ReportKind {
        NoLongerExists => "no_longer_exists",
        ContactDetailsWrong => "contact_details_wrong",
        InformationWrong => "information_wrong",
        NotInMyArea => "not_in_my_area",
        Other => "other",
    }
}

text_enum! {
    /// Where a problem report is in moderation.
    ReportStatus {
        Open => "open",
        Resolved => "resolved",
        Rejected => "rejected",
    }
}

text_enum! {
    /// Whether a service is running (HSDS `status`, with `temporarily closed` spelt with an underscore).
    ServiceStatus {
        Active => "active",
        TemporarilyClosed => "temporarily_closed",
        Inactive => "inactive",
        Defunct => "defunct",
    }
}

text_enum! {
    /// How people reach a service.
    DeliveryMethod {
        InPerson => "in_person",
        Phone => "phone",
        Online => "online",
        HomeVisit => "home_visit",
    }
}

text_enum! {
    /// HSDS location type.
    LocationType {
        Physical => "physical",
        Virtual => "virtual",
        Postal => "postal",
    }
}

text_enum! {
    /// The vocabularies held in the taxonomy table.
    TaxonomyKind {
        Category => "category",
        CommunityGroup => "community_group",
        Accessibility => "accessibility",
    }
}

text_enum! {
    /// Kinds of coded service area, from most to least specific.
    AreaType {
        CouncilArea => "council_area",
        Hscp => "hscp",
        HealthBoard => "health_board",
        Country => "country",
        Uk => "uk",
    }
}

impl AreaType {
    /// The type of a GSS area code, from its prefix.
    pub fn of_code(code: &str) -> Option<AreaType> {
        match code.get(..3)? {
            "S12" => Some(AreaType::CouncilArea),
            "S37" => Some(AreaType::Hscp),
            "S08" => Some(AreaType::HealthBoard),
            "S92" | "E92" | "W92" | "N92" => Some(AreaType::Country),
            "K02" | "K03" => Some(AreaType::Uk),
            _ => None,
        }
    }
}

/// Parses a list of enum values, reporting each bad one by index.
pub fn parse_list<T: Copy + PartialEq>(
    check: &mut crate::model::values::Checker,
    field: &str,
    raw: Vec<String>,
    parse: fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, value) in raw.iter().enumerate() {
        if let Some(v) = check.check(&format!("{field}[{i}]"), parse(value)) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// Comma-joined storage form of a list of enum values.
pub fn join<T: Copy>(values: &[T], as_str: fn(T) -> &'static str) -> String {
    values
        .iter()
        .map(|v| as_str(*v))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the comma-joined storage form back, skipping anything unknown.
pub fn split<T>(stored: &str, parse: fn(&str) -> Result<T, String>) -> Vec<T> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| parse(s).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_unknown() {
        for status in ServiceStatus::ALL {
            assert_eq!(ServiceStatus::parse(status.as_str()), Ok(*status));
        }
        let err = ServiceStatus::parse("closed").unwrap_err();
        assert!(err.contains("temporarily_closed"), "{err}");
    }

    #[test]
    fn lists_join_and_split() {
        let methods = vec![DeliveryMethod::Phone, DeliveryMethod::Online];
        let stored = join(&methods, DeliveryMethod::as_str);
        assert_eq!(stored, "phone,online");
        assert_eq!(split(&stored, DeliveryMethod::parse), methods);
    }
}
