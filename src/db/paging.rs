//! Offset paging with a total, for list endpoints. Callers always order by a
//! key that ends in `id`, so pages are deterministic.

/// A validated page request: `page` from 1, `per_page` 1..=MAX_PER_PAGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: i64 = 20;
    pub const MAX_PER_PAGE: i64 = 100;
    /// Deeper pages are refused rather than scanned (use `modified_after` to sync).
    pub const MAX_PAGE: i64 = 100_000;

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// One page of results and the total across all pages.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub request: PageRequest,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> i64 {
        total_pages(self.total, self.request.per_page)
    }
}

pub fn total_pages(total: i64, per_page: i64) -> i64 {
    (total + per_page - 1) / per_page.max(1)
}
