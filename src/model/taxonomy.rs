//! Taxonomy terms: the category tree, community groups ("who it is for") and
//! accessibility features.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::enums::TaxonomyKind;
use super::values::{optional_text, Checker, Invalid, Name, Slug, NOTE_MAX};

/// Body of `POST`/`PUT /taxonomy`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub taxonomy: TaxonomyKind,
    #[schema(example = "food-banks")]
    pub slug: String,
    #[schema(example = "Food banks")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Parent term (same taxonomy); absent for a top-level term.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TermDraft {
    pub taxonomy: TaxonomyKind,
    pub slug: Slug,
    pub name: Name,
    pub description: Option<String>,
    pub parent_id: Option<Uuid>,
}

impl TermInput {
    pub fn validate(self) -> Result<TermDraft, Invalid> {
        let mut check = Checker::new();
        let slug = check.check("slug", Slug::parse(self.slug));
        let name = check.check("name", Name::parse(self.name));
        let description = check
            .check("description", optional_text(self.description, NOTE_MAX))
            .flatten();
        if self.parent_id.is_some() && self.parent_id == self.id {
            check.fail("parent_id", "a term cannot be its own parent");
        }
        check.finish()?;
        match (slug, name) {
            (Some(slug), Some(name)) => Ok(TermDraft {
                taxonomy: self.taxonomy,
                slug,
                name,
                description,
                parent_id: self.parent_id,
            }),
            _ => Err(Invalid::one("name", "is required")),
        }
    }
}
