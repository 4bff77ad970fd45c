//! Walking a list to its end, pages side by side.
//!
//! The first page says how many items there are (`total_count`); the pages
//! after it are then asked for together, a window of [`WINDOW`] at a time
//! under the client's one concurrency limit, and handed over strictly in
//! order, so every consistency check of [`Pager`] holds as when they were
//! read one after another (repeated pages, totals that change, short pages).
//! A page is decoded straight into its typed items: no JSON tree is built.
//! Without a `total_count`, pages are read one after another.

use std::fmt;
use std::marker::PhantomData;

use futures_util::stream::{FuturesOrdered, StreamExt};
use reqwest::Method;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, ApiErrorKind};
use super::lenient;
use super::models::{Connection, Endpoint, EndpointService, Permission};
use super::paging::{page_limit, Pager};
use super::transport::Answer;
use super::Client;

/// How many pages of one list may be asked for at once: enough to keep the
/// concurrency limit busy on a long list, few enough that a walk holds
/// little memory.
pub(crate) const WINDOW: usize = 8;

/// An item of a list: its id tells repeats apart.
pub(crate) trait Listed: DeserializeOwned {
    /// The item's id, when it has one.
    fn list_id(&self) -> Option<&str>;
}

macro_rules! listed_by_id {
    ($($t:ty),*) => {$(
        impl Listed for $t {
            fn list_id(&self) -> Option<&str> {
                Some(self.id.as_str()).filter(|id| !id.is_empty())
            }
        }
    )*};
}
listed_by_id!(Connection, Endpoint, EndpointService, Permission);

/// One page as read: the items under the list's key, and its count.
struct Page<T> {
    items: Option<Vec<T>>,
    total_count: Option<u64>,
}

/// Reads a page's items (under `key`) and `total_count`, skipping the rest.
struct PageSeed<'k, T> {
    key: &'k str,
    item: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Page<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for PageSeed<'_, T> {
    type Value = Page<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a page with a `{}` list", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
        #[derive(Deserialize)]
        struct Count(#[serde(deserialize_with = "lenient::opt_count")] Option<u64>);
        let mut page = Page {
            items: None,
            total_count: None,
        };
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if name == self.key {
                page.items = map.next_value::<Option<Vec<T>>>()?;
            } else if name == "total_count" {
                page.total_count = map.next_value::<Count>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(page)
    }
}

impl Client {
    /// Every item of a list (all pages).
    pub(super) async fn collect<T: Listed>(
        &self,
        action: &'static str,
        target: String,
        segments: &[&str],
        filters: &[(&str, &str)],
        key: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        self.for_each_page(action, target, segments, filters, key, |page| {
            all.extend(page)
        })
        .await?;
        Ok(all)
    }

    /// Walks a list with `limit=1000` (500 for whitelist records) and `offset`
    /// to its end, each item handed over once (see [`Pager`]), pages in order.
    pub(super) async fn for_each_page<T: Listed, F: FnMut(Vec<T>)>(
        &self,
        action: &'static str,
        target: String,
        segments: &[&str],
        filters: &[(&str, &str)],
        key: &str,
        mut f: F,
    ) -> Result<(), ApiError> {
        let mut pager = Pager::new(page_limit(key));
        let limit = pager.limit();
        let fetch = |offset: u64| {
            let (target, limit, offset_text) = (&target, limit.to_string(), offset.to_string());
            async move {
                let mut query = vec![("limit", limit.as_str()), ("offset", offset_text.as_str())];
                query.extend_from_slice(filters);
                let url = self.url(action, target, segments, &query)?;
                let answer = self.call(action, target, Method::GET, url, None).await?;
                Ok::<_, ApiError>((offset, answer))
            }
        };
        let mut in_flight = FuturesOrdered::new();
        in_flight.push_back(fetch(0));
        let mut next = limit;
        while let Some(fetched) = in_flight.next().await {
            let (offset, answer) = fetched?;
            if offset != pager.offset() {
                // A page longer than asked moved the walk: ask again from where it stands.
                in_flight = FuturesOrdered::new();
                in_flight.push_back(fetch(pager.offset()));
                next = pager.offset() + limit;
                continue;
            }
            let page: Page<T> = self.page(action, &target, key, &answer)?;
            let listed = page.items.as_ref().map_or(0, Vec::len) as u64;
            let items: Vec<T> = page
                .items
                .unwrap_or_default()
                .into_iter()
                .filter(|item| pager.is_new(item.list_id()))
                .collect();
            let more = pager
                .advance(listed, items.len() as u64, page.total_count)
                .map_err(|detail| {
                    ApiError::new(
                        action,
                        target.clone(),
                        ApiErrorKind::InconsistentList { detail },
                    )
                })?;
            f(items);
            if !more {
                return Ok(());
            }
            // Ask ahead up to the total this page announced; without one, one page at a time.
            let end = page.total_count.unwrap_or(0);
            next = next.max(pager.offset());
            while in_flight.len() < WINDOW && next < end {
                in_flight.push_back(fetch(next));
                next += limit;
            }
            if in_flight.is_empty() {
                in_flight.push_back(fetch(pager.offset()));
                next = pager.offset() + limit;
            }
        }
        Ok(())
    }

    /// Decodes one page. An answer with neither the list nor a count of
    /// zero is no list at all, never read as an empty one (an empty
    /// whitelist decides); an error object in a 2xx answer is that error.
    fn page<T: Listed>(
        &self,
        action: &'static str,
        target: &str,
        key: &str,
        answer: &Answer,
    ) -> Result<Page<T>, ApiError> {
        let seed = PageSeed {
            key,
            item: PhantomData,
        };
        let mut de = serde_json::Deserializer::from_slice(&answer.body);
        let page = seed
            .deserialize(&mut de)
            .and_then(|page| de.end().map(|()| page))
            .map_err(|e| self.decode_error(action, target, answer, e))?;
        if page.items.is_none() && page.total_count != Some(0) {
            // Small: an error object, or an answer of another shape.
            self.decode::<Value>(action, target, answer)?;
            return Err(ApiError::new(
                action,
                target,
                ApiErrorKind::InconsistentList {
                    detail: format!("the answer holds no `{key}` list and no total_count of 0"),
                },
            ));
        }
        Ok(page)
    }
}
