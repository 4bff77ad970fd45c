//! Walking a paged list (`limit`, `offset`, `total_count`) without trusting
//! the server to be consistent: the walk always ends, and a list whose pages
//! do not add up is an error rather than a silent half list.

/// Items asked for per page: the API's maximum (its default is 10).
pub(crate) const PAGE_LIMIT: u64 = 1000;

/// Pages read at most when the server sends no `total_count` at all.
const MAX_PAGES_WITHOUT_TOTAL: u64 = 10_000;

/// The state of one walk through a list.
#[derive(Debug, Default)]
pub(crate) struct Pager {
    seen: u64,
    pages: u64,
    total: Option<u64>,
}

impl Pager {
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
            if items < PAGE_LIMIT {
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
        if items < PAGE_LIMIT {
            return Err(format!(
                "the page at offset {} held {items} items, so the list ended after {} of the {total} items total_count announced",
                self.seen - items,
                self.seen
            ));
        }
        if self.pages > total / PAGE_LIMIT {
            return Err(format!("{} pages read for {total} items", self.pages));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(pages: &[(u64, Option<u64>)]) -> Result<Vec<u64>, String> {
        let mut pager = Pager::default();
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
    fn a_server_without_total_count_cannot_loop_forever() {
        let mut pager = Pager::default();
        let mut pages = 0;
        while let Ok(true) = pager.advance(PAGE_LIMIT, None) {
            pages += 1;
        }
        assert!(pages < MAX_PAGES_WITHOUT_TOTAL);
    }
}
