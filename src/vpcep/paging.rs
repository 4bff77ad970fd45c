//! Walking a paged list (`limit`, `offset`, `total_count`) without trusting
//! the server to be consistent: the walk always ends, and a list whose pages
//! do not add up is an error rather than a silent half list.

/// Items asked for per page: the API's maximum for most lists (its default is 10).
pub(crate) const PAGE_LIMIT: u64 = 1000;

/// The whitelist records list takes at most 500 per page (the reference's
/// "Querying Whitelist Records"; the API answers `EndPoint.0006` above it).
pub(crate) const PERMISSIONS_PAGE_LIMIT: u64 = 500;

/// The largest page the list whose items sit under `key` accepts.
pub(crate) fn page_limit(key: &str) -> u64 {
    match key {
        "permissions" => PERMISSIONS_PAGE_LIMIT,
        _ => PAGE_LIMIT,
    }
}

/// Pages read at most when the server sends no `total_count` at all.
const MAX_PAGES_WITHOUT_TOTAL: u64 = 10_000;

/// The state of one walk through a list.
#[derive(Debug)]
pub(crate) struct Pager {
    limit: u64,
    seen: u64,
    pages: u64,
    total: Option<u64>,
}

impl Pager {
    /// A walk asking for `limit` items per page.
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit: limit.max(1),
            seen: 0,
            pages: 0,
            total: None,
        }
    }

    /// The `limit` of every page.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// The `offset` of the next page.
    pub(crate) fn offset(&self) -> u64 {
        self.seen
    }

    /// Records a page of `items` items that reported `total_count`; `Ok(true)`
    /// when another page is needed, `Ok(false)` when the list is complete.
    pub(crate) fn advance(&mut self, items: u64, total_count: Option<u64>) -> Result<bool, String> {
        self.pages += 1;
        self.seen += items;
        if self.pages == 1 {
            self.total = total_count;
        } else if let (Some(first), Some(now)) = (self.total, total_count) {
            if first != now {
                return Err(format!(
                    "total_count changed from {first} to {now} while the list was read"
                ));
            }
        }
        let Some(total) = self.total else {
            if items < self.limit {
                return Ok(false);
            }
            if self.pages >= MAX_PAGES_WITHOUT_TOTAL {
                return Err(format!(
                    "no total_count and no end after {} pages",
                    self.pages
                ));
            }
            return Ok(true);
        };
        if self.seen > total {
            return Err(format!(
                "{} items read but total_count is {total}",
                self.seen
            ));
        }
        if self.seen == total {
            return Ok(false);
        }
        if items < self.limit {
            return Err(format!(
                "the page at offset {} held {items} items, so the list ended after {} of the {total} items total_count announced",
                self.seen - items,
                self.seen
            ));
        }
        if self.pages > total / self.limit {
            return Err(format!("{} pages read for {total} items", self.pages));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(pages: &[(u64, Option<u64>)]) -> Result<Vec<u64>, String> {
        let mut pager = Pager::new(PAGE_LIMIT);
        let mut offsets = vec![0];
        for &(items, total) in pages {
            if !pager.advance(items, total)? {
                return Ok(offsets);
            }
            offsets.push(pager.offset());
        }
        Err("walk wanted more pages".into())
    }

    #[test]
    fn complete_lists_end_exactly_at_total_count() {
        assert_eq!(
            walk(&[(1000, Some(2500)), (1000, Some(2500)), (500, Some(2500))]),
            Ok(vec![0, 1000, 2000])
        );
        assert_eq!(
            walk(&[(1000, Some(2000)), (1000, Some(2000))]),
            Ok(vec![0, 1000])
        );
        assert_eq!(walk(&[(0, Some(0))]), Ok(vec![0]));
        assert_eq!(walk(&[(3, None)]), Ok(vec![0]));
    }

    #[test]
    fn lists_that_do_not_add_up_are_errors() {
        assert!(walk(&[(1000, Some(5000)), (500, Some(5000))]).is_err());
        assert!(walk(&[(1000, Some(1500)), (1000, Some(1500))]).is_err());
        assert!(walk(&[(0, Some(10))]).is_err());
        assert!(walk(&[(5, Some(0))]).is_err());
        assert!(walk(&[(1000, Some(3000)), (1000, Some(2999))]).is_err());
    }

    #[test]
    fn the_limit_decides_what_a_short_page_is() {
        let mut pager = Pager::new(PERMISSIONS_PAGE_LIMIT);
        assert_eq!(pager.advance(500, Some(700)), Ok(true));
        assert_eq!(pager.offset(), 500);
        assert_eq!(pager.advance(200, Some(700)), Ok(false));
    }

    #[test]
    fn a_server_without_total_count_cannot_loop_forever() {
        let mut pager = Pager::new(PAGE_LIMIT);
        let mut pages = 0;
        while let Ok(true) = pager.advance(PAGE_LIMIT, None) {
            pages += 1;
        }
        assert!(pages < MAX_PAGES_WITHOUT_TOTAL);
    }
}
