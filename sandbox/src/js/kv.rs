//! The key-value maps of ledger JavaScript (`ccf.kv`): a snapshot handed to a script and the
//! writes it makes. Keys and values are bytes, held as lowercase hex.

use std::collections::BTreeMap;

/// Every map: name -> key (hex) -> value (hex).
pub(crate) type KvMaps = BTreeMap<String, BTreeMap<String, String>>;

/// A script's writes: name -> key (hex) -> new value (hex), `None` for a deletion.
pub(crate) type KvWrites = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// The snapshot a script sees, as the prelude reads it.
pub(crate) fn snapshot_json(maps: &KvMaps) -> String {
    serde_json::to_string(maps).unwrap_or_else(|_| "{}".into())
}

/// Whether `writes` only names maps an application may write and holds well-formed hex.
pub(crate) fn check_writes(writes: &KvWrites) -> Result<(), String> {
    for (map, entries) in writes {
        if map.starts_with("public:ccf.") {
            return Err(format!("map {map} belongs to the service"));
        }
        let hex_ok =
            |s: &str| s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit());
        for (key, value) in entries {
            if !hex_ok(key) || value.as_deref().is_some_and(|v| !hex_ok(v)) {
                return Err(format!("malformed write to map {map}"));
            }
        }
    }
    Ok(())
}

/// Applies `writes` to `maps` (empty maps are dropped).
pub(crate) fn apply(maps: &mut KvMaps, writes: &KvWrites) {
    for (name, entries) in writes {
        let map = maps.entry(name.clone()).or_default();
        for (key, value) in entries {
            match value {
                Some(v) => {
                    map.insert(key.clone(), v.clone());
                }
                None => {
                    map.remove(key);
                }
            }
        }
        if map.is_empty() {
            maps.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_apply_and_service_maps_are_refused() {
        let mut maps = KvMaps::new();
        let mut w = KvWrites::new();
        w.entry("m".into())
            .or_default()
            .insert("61".into(), Some("62".into()));
        apply(&mut maps, &w);
        assert_eq!(maps["m"]["61"], "62");
        w.entry("m".into()).or_default().insert("61".into(), None);
        apply(&mut maps, &w);
        assert!(maps.is_empty());
        let mut bad = KvWrites::new();
        bad.entry("public:ccf.gov.users".into()).or_default();
        assert!(check_writes(&bad).is_err());
        let mut bad = KvWrites::new();
        bad.entry("m".into()).or_default().insert("zz".into(), None);
        assert!(check_writes(&bad).is_err());
        assert!(check_writes(&w).is_ok());
    }
}
