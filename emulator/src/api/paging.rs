//! Query strings, paging (`limit`, `offset`) and ordering (`sort_key`, `sort_dir`)
//! as the VPCEP list APIs define them.

use std::cmp::Ordering;

use super::wire::ApiError;
use crate::state::Listed;

/// The decoded query string.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes `a=1&b=x%20y`.
    pub fn parse(raw: &str) -> Self {
        Self(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// The default page size of every list API.
pub(crate) const DEFAULT_LIMIT: usize = 10;

/// A page: at most `limit` items from `offset`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub limit: usize,
    pub offset: usize,
}

impl Page {
    /// Reads `limit` (0..=`max`, default 10; else `EndPoint.0006`) and
    /// `offset` (a non-negative integer, default 0; else `EndPoint.0010`).
    pub fn from_query(q: &Query, max: usize) -> Result<Self, ApiError> {
        let limit = match q.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| {
                    ApiError::bad(
                        "EndPoint.0006",
                        format!("Invalid limit: {v:?}; expected an integer from 0 to {max}"),
                    )
                })?,
        };
        let offset = match q.get("offset") {
            None => 0,
            Some(v) => v.parse::<usize>().map_err(|_| {
                ApiError::bad(
                    "EndPoint.0010",
                    format!("Invalid offset: {v:?}; expected a non-negative integer"),
                )
            })?,
        };
        Ok(Self { limit, offset })
    }
}

/// Which timestamp orders a list, and which way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sort {
    by_updated: bool,
    desc: bool,
}

impl Sort {
    /// Reads `sort_key` (`created_at` default, `updated_at`; the newer spellings
    /// `create_at` / `update_at` too; else `EndPoint.0017`) and `sort_dir`
    /// (`desc` default, `asc`; else `EndPoint.0018`).
    pub fn from_query(q: &Query) -> Result<Self, ApiError> {
        let by_updated = match q.get("sort_key") {
            None | Some("created_at" | "create_at") => false,
            Some("updated_at" | "update_at") => true,
            Some(v) => {
                return Err(ApiError::bad(
                    "EndPoint.0017",
                    format!("Invalid sort_key: {v:?}; expected created_at or updated_at"),
                ))
            }
        };
        let desc = match q.get("sort_dir").map(str::to_ascii_lowercase).as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(v) => {
                return Err(ApiError::bad(
                    "EndPoint.0018",
                    format!("Invalid sort_dir: {v:?}; expected asc or desc"),
                ))
            }
        };
        Ok(Self { by_updated, desc })
    }

    fn compare<T: Listed>(&self, a: &T, b: &T) -> Ordering {
        let (ka, kb) = if self.by_updated {
            (a.updated_at(), b.updated_at())
        } else {
            (a.created_at(), b.created_at())
        };
        let order = ka.cmp(&kb).then_with(|| a.id().cmp(b.id()));
        if self.desc {
            order.reverse()
        } else {
            order
        }
    }
}

/// Sorts `items` (ties broken by id, so pages never overlap) and returns the
/// total count with the requested page.
pub(crate) fn sort_page<T: Listed>(mut items: Vec<&T>, sort: Sort, page: Page) -> (usize, Vec<&T>) {
    let total = items.len();
    items.sort_unstable_by(|a, b| sort.compare(*a, *b));
    let page_items = items
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .collect();
    (total, page_items)
}

/// Whether `haystack` contains `needle`, ignoring case (the API's fuzzy name match).
pub(crate) fn fuzzy(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_and_offset_are_checked() {
        let page = |q: &str| Page::from_query(&Query::parse(q), 1000);
        assert_eq!(page("").unwrap().limit, 10);
        assert_eq!(page("limit=1000&offset=5").unwrap().offset, 5);
        assert_eq!(page("limit=1001").unwrap_err().code, "EndPoint.0006");
        assert_eq!(page("limit=x").unwrap_err().code, "EndPoint.0006");
        assert_eq!(page("limit=-1").unwrap_err().code, "EndPoint.0006");
        assert_eq!(page("offset=-1").unwrap_err().code, "EndPoint.0010");
    }

    #[test]
    fn sort_options_are_checked() {
        assert!(Sort::from_query(&Query::parse("sort_key=updated_at&sort_dir=ASC")).is_ok());
        let e = Sort::from_query(&Query::parse("sort_key=name")).unwrap_err();
        assert_eq!(e.code, "EndPoint.0017");
        let e = Sort::from_query(&Query::parse("sort_dir=up")).unwrap_err();
        assert_eq!(e.code, "EndPoint.0018");
    }
}
