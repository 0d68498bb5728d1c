//! Decoding a ledger list response into a [`RawPage`]: [`decode_page`].

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::page::RawPage;

/// Decodes a list response of the ledger into a [`RawPage`], the list being under
/// `item_field`.
///
/// Every pageable ledger operation answers an object with its items under a field of its own
/// (`entries`, `collections`, `tags`, `members`, `ledgerUsers`, `functions`), an optional next
/// link and an optional `state`:
///
/// - the next link is read from `nextLink`, or from `@nextLink` as in the early API versions;
///   a missing, `null` or empty link means the last page; both names at once with different
///   values are an error;
/// - `state` is `"Loading"` or `"Ready"`; missing or `null` means ready (most lists have no
///   state), any other value is an error rather than a guess;
/// - a missing or `null` item list is an empty page;
/// - other fields are ignored; trailing data after the object is an error.
///
/// The items are decoded as they are read (no intermediate JSON tree), and `retry_after` is
/// left `None`: it comes from the response headers.
///
/// # Errors
///
/// The `serde_json` error, with line and column, when `body` is not such an object or an item
/// does not decode as `T`.
///
/// # Examples
///
/// ```
/// use confidential_ledger::pager::decode_page;
///
/// let page = decode_page::<String>(
///     br#"{"collections": ["subledger:0", "audit"], "nextLink": "/app/collections?after=audit"}"#,
///     "collections",
/// )?;
/// assert_eq!(page.items, ["subledger:0", "audit"]);
/// assert_eq!(page.next_link.as_deref(), Some("/app/collections?after=audit"));
/// assert!(!page.loading);
///
/// let old = decode_page::<serde_json::Value>(br#"{"@nextLink": "/app/transactions?x=1", "entries": [], "state": "Ready"}"#, "entries")?;
/// assert_eq!(old.next_link.as_deref(), Some("/app/transactions?x=1"));
///
/// let loading = decode_page::<serde_json::Value>(br#"{"state": "Loading", "entries": []}"#, "entries")?;
/// assert!(loading.loading);
///
/// assert!(decode_page::<serde_json::Value>(br#"{"state": "Failed"}"#, "entries").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn decode_page<T>(body: &[u8], item_field: &str) -> Result<RawPage<T>, serde_json::Error>
where
    T: for<'de> Deserialize<'de>,
{
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let page = PageSeed {
        item_field,
        item: PhantomData,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(page)
}

const LOADING: &str = "Loading";
const READY: &str = "Ready";

/// Decodes one page object, knowing the name of its item field.
struct PageSeed<'a, T> {
    item_field: &'a str,
    item: PhantomData<fn() -> T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for PageSeed<'_, T> {
    type Value = RawPage<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for PageSeed<'_, T> {
    type Value = RawPage<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a page object with a `{}` list", self.item_field)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items: Option<Vec<T>> = None;
        let mut next_link: Option<Option<String>> = None;
        let mut old_next_link: Option<Option<String>> = None;
        let mut state: Option<Option<String>> = None;

        while let Some(key) = map.next_key::<String>()? {
            if key == self.item_field {
                if items.is_some() {
                    return Err(de::Error::custom(format_args!(
                        "duplicate field `{}`",
                        self.item_field
                    )));
                }
                items = Some(map.next_value::<Option<Vec<T>>>()?.unwrap_or_default());
                continue;
            }
            match key.as_str() {
                "nextLink" => set_once(&mut next_link, "nextLink", map.next_value()?)?,
                "@nextLink" => set_once(&mut old_next_link, "@nextLink", map.next_value()?)?,
                "state" => set_once(&mut state, "state", map.next_value()?)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let next_link = non_empty(next_link.flatten());
        let old_next_link = non_empty(old_next_link.flatten());
        let next_link = match (next_link, old_next_link) {
            (Some(new), Some(old)) if new != old => {
                return Err(de::Error::custom(format_args!(
                    "the page has both `nextLink` ({new}) and `@nextLink` ({old})"
                )));
            }
            (new, old) => new.or(old),
        };
        let loading = match state.flatten().as_deref() {
            None | Some(READY) => false,
            Some(LOADING) => true,
            Some(other) => return Err(de::Error::unknown_variant(other, &[LOADING, READY])),
        };
        Ok(RawPage {
            items: items.unwrap_or_default(),
            next_link,
            loading,
            retry_after: None,
        })
    }
}

fn set_once<V, E: de::Error>(slot: &mut Option<V>, field: &'static str, value: V) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

fn non_empty(link: Option<String>) -> Option<String> {
    link.filter(|link| !link.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn decode(body: &str, field: &str) -> Result<RawPage<Value>, serde_json::Error> {
        decode_page(body.as_bytes(), field)
    }

    #[test]
    fn a_loading_range_page_as_recorded() {
        let page = decode(
            r#"{"entries": [], "nextLink": "/app/transactions?api-version=2024-08-22-preview&collectionId=0&fromTransactionId=8.6058&toTransactionId=8.6064", "state": "Loading"}"#,
            "entries",
        )
        .unwrap();
        assert!(page.loading);
        assert!(page.items.is_empty());
        assert_eq!(
            page.next_link.as_deref(),
            Some(
                "/app/transactions?api-version=2024-08-22-preview&collectionId=0&fromTransactionId=8.6058&toTransactionId=8.6064"
            )
        );
        assert_eq!(page.retry_after, None);
    }

    #[test]
    fn a_ready_page_with_items_and_no_link_is_the_last() {
        let page = decode(
            r#"{"state": "Ready", "entries": [{"contents": "a", "transactionId": "2.1"}, {"contents": "b"}]}"#,
            "entries",
        )
        .unwrap();
        assert!(!page.loading);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0]["contents"], "a");
        assert_eq!(page.next_link, None);
    }

    #[test]
    fn old_at_next_link_is_read() {
        let page = decode(
            r#"{"@nextLink": "/app/transactions?api-version=0.1-preview&subLedgerId=subledger:0&fromTransactionId=2.203", "entries": [], "state": "Ready"}"#,
            "entries",
        )
        .unwrap();
        assert_eq!(
            page.next_link.as_deref(),
            Some(
                "/app/transactions?api-version=0.1-preview&subLedgerId=subledger:0&fromTransactionId=2.203"
            )
        );
    }

    #[test]
    fn both_link_names_must_agree() {
        let same = decode(r#"{"nextLink": "/a", "@nextLink": "/a"}"#, "x").unwrap();
        assert_eq!(same.next_link.as_deref(), Some("/a"));
        let only_one = decode(r#"{"nextLink": null, "@nextLink": "/a"}"#, "x").unwrap();
        assert_eq!(only_one.next_link.as_deref(), Some("/a"));
        let err = decode(r#"{"nextLink": "/a", "@nextLink": "/b"}"#, "x").unwrap_err();
        assert!(
            err.to_string()
                .contains("both `nextLink` (/a) and `@nextLink` (/b)"),
            "{err}"
        );
    }

    #[test]
    fn missing_null_or_empty_links_end_the_list() {
        for body in [
            r#"{}"#,
            r#"{"nextLink": null}"#,
            r#"{"nextLink": ""}"#,
            r#"{"@nextLink": ""}"#,
        ] {
            assert_eq!(decode(body, "tags").unwrap().next_link, None, "{body}");
        }
    }

    #[test]
    fn lists_without_state_are_ready_and_missing_items_are_empty() {
        let page = decode(
            r#"{"collections": [{"collectionId": "subledger:0"}]}"#,
            "collections",
        )
        .unwrap();
        assert!(!page.loading);
        assert_eq!(page.items, [json!({"collectionId": "subledger:0"})]);

        let page = decode(r#"{"state": null, "collections": null}"#, "collections").unwrap();
        assert!(!page.loading && page.items.is_empty());
        let page = decode(r#"{"state": "Loading"}"#, "collections").unwrap();
        assert!(page.loading && page.items.is_empty());
    }

    #[test]
    fn the_item_field_is_a_parameter() {
        let body = r#"{"ledgerUsers": [1, 2], "members": [3], "functions": [4, 5, 6]}"#;
        assert_eq!(
            decode(body, "ledgerUsers").unwrap().items,
            [json!(1), json!(2)]
        );
        assert_eq!(decode(body, "members").unwrap().items, [json!(3)]);
        assert_eq!(decode(body, "functions").unwrap().items.len(), 3);
        assert!(decode(body, "tags").unwrap().items.is_empty());
    }

    #[test]
    fn unknown_states_are_errors_not_guesses() {
        let err = decode(r#"{"state": "loading"}"#, "entries").unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `loading`"),
            "{err}"
        );
        assert!(decode(r#"{"state": 1}"#, "entries").is_err());
    }

    #[test]
    fn malformed_bodies_are_errors_with_a_position() {
        let err = decode_page::<u32>(br#"{"tags": [1, "two"]}"#, "tags").unwrap_err();
        assert!(err.to_string().contains("line 1 column"), "{err}");
        assert!(decode(r#"{"tags": []} trailing"#, "tags").is_err());
        assert!(decode(r#"[]"#, "tags").is_err());
        assert!(decode(r#"{"tags": [], "tags": []}"#, "tags").is_err());
        assert!(decode(r#"{"state": "Ready", "state": "Loading"}"#, "tags").is_err());
        assert!(decode("", "tags").is_err());
        assert!(decode_page::<u32>(&[0xff, 0xfe], "tags").is_err());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let page = decode(
            r#"{"tags": ["a"], "extra": {"deep": [1, 2, {"x": null}]}, "count": 1}"#,
            "tags",
        )
        .unwrap();
        assert_eq!(page.items, [json!("a")]);
    }

    #[test]
    fn typed_items_decode_directly() {
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Entry {
            contents: String,
            transaction_id: String,
        }
        let page: RawPage<Entry> = decode_page(
            br#"{"entries": [{"contents": "x", "transactionId": "8.6058", "collectionId": "0"}], "state": "Ready"}"#,
            "entries",
        )
        .unwrap();
        assert_eq!(
            page.items,
            [Entry {
                contents: "x".into(),
                transaction_id: "8.6058".into()
            }]
        );
    }
}
