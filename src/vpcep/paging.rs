//! Walking a paged list (`limit`, `offset`, `total_count`) while it changes
//! and without trusting the server: the walk always ends, items are
//! deduplicated by id, and a list that cannot be right (a truncated page, a
//! repeated page, more items than it announces) is an error rather than a
//! silent half list.
//!
//! Lists change while they are read (other runs, consumers, deletions), so
//! each page is judged by its own `total_count`: one answer's items and count
//! agree with each other even when the list moved between two pages. An item
//! inserted in front of the walk shifts a later page and repeats an item
//! (dropped by id); one deleted behind it may be missed until the next run.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

/// Items asked for per page: the API's maximum for most lists (its default is 10).
pub(crate) const PAGE_LIMIT: u64 = 1000;

/// The whitelist records list takes at most 500 per page (the reference's
/// "Querying Whitelist Records"; the API answers `EndPoint.0006` above it).
pub(crate) const PERMISSIONS_PAGE_LIMIT: u64 = 500;

/// The most distinct items one walk keeps: 200 times the scale of design.md
/// (1,000 connections per service), and small enough that a server sending
/// endless pages cannot exhaust a 256 MB function.
pub(crate) const MAX_LIST_ITEMS: u64 = 200_000;

/// The most pages one walk reads, whatever the server says.
pub(crate) const MAX_PAGES: u64 = 10_000;

/// The largest page the list whose items sit under `key` accepts.
pub(crate) fn page_limit(key: &str) -> u64 {
    match key {
        "permissions" => PERMISSIONS_PAGE_LIMIT,
        _ => PAGE_LIMIT,
    }
}

/// The state of one walk through a list.
#[derive(Debug)]
pub(crate) struct Pager {
    limit: u64,
    offset: u64,
    pages: u64,
    /// A hash of each id read: 8 bytes an item, whatever the id's length. The
    /// keys are drawn afresh for every walk, so the rare collision (about one
    /// in 10^9 for a list of 200,000) cannot repeat run after run.
    seen: HashSet<u64>,
    keys: RandomState,
}

impl Pager {
    /// A walk asking for `limit` items per page.
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit: limit.max(1),
            offset: 0,
            pages: 0,
            seen: HashSet::new(),
            keys: RandomState::new(),
        }
    }

    /// The `limit` of every page.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// The `offset` of the next page.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the item with `id` is new to this walk (an item without an id
    /// is always kept). Repeats are dropped: no id is acted on twice.
    pub(crate) fn is_new(&mut self, id: Option<&str>) -> bool {
        id.is_none_or(|id| self.seen.insert(self.keys.hash_one(id)))
    }

    /// Records a page of `items` items (`fresh` of them new to the walk) that
    /// reported `total_count`; `Ok(true)` when another page is needed,
    /// `Ok(false)` when the list is complete.
    pub(crate) fn advance(
        &mut self,
        items: u64,
        fresh: u64,
        total_count: Option<u64>,
    ) -> Result<bool, String> {
        let offset = self.offset;
        self.pages += 1;
        self.offset += items;
        if items > 0 && fresh == 0 && offset > 0 {
            return Err(format!(
                "the page at offset {offset} repeated {items} items already read (does the server ignore offset?)"
            ));
        }
        if self.seen.len() as u64 > MAX_LIST_ITEMS {
            return Err(format!(
                "more than {MAX_LIST_ITEMS} items: the list is larger than one run reads"
            ));
        }
        if self.pages >= MAX_PAGES && items > 0 {
            return Err(format!("no end after {} pages", self.pages));
        }
        let Some(total) = total_count else {
            return Ok(items >= self.limit);
        };
        if self.offset > total {
            return Err(format!(
                "the page at offset {offset} held {items} items but total_count is {total}"
            ));
        }
        if self.offset == total {
            return Ok(false);
        }
        if items < self.limit {
            return Err(format!(
                "the page at offset {offset} held {items} items, so the list ended after {} of the {total} items total_count announced",
                self.offset
            ));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks pages of fresh items `(count, total_count)`; the offsets asked for.
    fn walk(pages: &[(u64, Option<u64>)]) -> Result<Vec<u64>, String> {
        let mut pager = Pager::new(PAGE_LIMIT);
        let mut offsets = vec![0];
        for &(items, total) in pages {
            if !pager.advance(items, items, total)? {
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
    fn a_list_that_changes_while_it_is_read_is_walked_to_its_new_end() {
        // Grew by 200 after the first page, then shrank by 700.
        assert_eq!(
            walk(&[(1000, Some(2500)), (1000, Some(2700)), (0, Some(2000))]),
            Ok(vec![0, 1000, 2000])
        );
        assert_eq!(
            walk(&[(1000, Some(3000)), (999, Some(1999))]),
            Ok(vec![0, 1000])
        );
    }

    #[test]
    fn lists_that_cannot_be_right_are_errors() {
        // A short page before the announced end: a truncated list.
        assert!(walk(&[(1000, Some(5000)), (500, Some(5000))]).is_err());
        assert!(walk(&[(0, Some(10))]).is_err());
        // More items than the answer itself announces.
        assert!(walk(&[(1000, Some(1500)), (1000, Some(1500))]).is_err());
        assert!(walk(&[(5, Some(0))]).is_err());
    }

    #[test]
    fn a_server_repeating_a_page_is_caught() {
        let mut pager = Pager::new(3);
        let ids = ["a", "b", "c"];
        let fresh = ids.iter().filter(|id| pager.is_new(Some(id))).count() as u64;
        assert_eq!(pager.advance(3, fresh, Some(9)), Ok(true));
        let fresh = ids.iter().filter(|id| pager.is_new(Some(id))).count() as u64;
        assert_eq!(fresh, 0);
        assert!(pager.advance(3, fresh, Some(9)).is_err());
    }

    #[test]
    fn repeated_items_are_kept_once() {
        let mut pager = Pager::new(3);
        assert!(pager.is_new(Some("a")));
        assert!(!pager.is_new(Some("a")));
        assert!(pager.is_new(None));
        assert!(pager.is_new(None));
    }

    #[test]
    fn the_limit_decides_what_a_short_page_is() {
        let mut pager = Pager::new(PERMISSIONS_PAGE_LIMIT);
        assert_eq!(pager.advance(500, 500, Some(700)), Ok(true));
        assert_eq!(pager.offset(), 500);
        assert_eq!(pager.advance(200, 200, Some(700)), Ok(false));
    }

    #[test]
    fn a_server_with_endless_pages_cannot_loop_forever() {
        for total in [None, Some(u64::MAX)] {
            let mut pager = Pager::new(PAGE_LIMIT);
            let mut pages = 0u64;
            let mut next = 0u64;
            loop {
                let fresh = (0..PAGE_LIMIT)
                    .filter(|_| {
                        next += 1;
                        pager.is_new(Some(&next.to_string()))
                    })
                    .count() as u64;
                match pager.advance(PAGE_LIMIT, fresh, total) {
                    Ok(true) => pages += 1,
                    Ok(false) => panic!("an endless list cannot be complete"),
                    Err(_) => break,
                }
            }
            assert!(pages <= MAX_LIST_ITEMS / PAGE_LIMIT);
        }
    }
}
