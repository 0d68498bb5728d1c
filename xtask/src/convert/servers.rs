//! `servers` from `x-ms-parameterized-host` (or `host`/`basePath`/`schemes`).
//!
//! `{"hostTemplate": "{ledgerEndpoint}", "useSchemePrefix": false, "parameters": [...]}`
//! becomes `[{"url": "{ledgerEndpoint}", "variables": {"ledgerEndpoint": {"default": ""}}}]`.
//! A variable's default is the host parameter's `default` (the identity service has one); a
//! variable without one gets the empty string, which OpenAPI requires to be present. The
//! generated client ignores `servers` (callers pass the base URL); the entry documents it.

use serde_json::{Map, Value, json};

use super::{Converter, Ctx, Result, parameters, refs::RefKind, refs::RefTarget};

/// Build the `servers` array.
pub(crate) fn servers(cx: &mut Converter<'_>, root: &Ctx) -> Result<Value> {
    let main = cx.main;
    let scheme = main
        .get("schemes")
        .and_then(|s| s.get(0))
        .and_then(Value::as_str)
        .unwrap_or("https")
        .to_string();
    let base_path = main
        .get("basePath")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();

    let Some(host) = main.get("x-ms-parameterized-host") else {
        let url = match main.get("host").and_then(Value::as_str) {
            Some(host) => format!("{scheme}://{host}{base_path}"),
            None if base_path.is_empty() => "/".to_string(),
            None => base_path,
        };
        return Ok(json!([{ "url": url }]));
    };

    let ctx = root.child("x-ms-parameterized-host");
    let template = host
        .get("hostTemplate")
        .and_then(Value::as_str)
        .ok_or_else(|| ctx.malformed("hostTemplate is missing"))?;
    let use_scheme_prefix = host
        .get("useSchemePrefix")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let url = if use_scheme_prefix {
        format!("{scheme}://{template}{base_path}")
    } else {
        format!("{template}{base_path}")
    };

    let mut variables = Map::new();
    let empty = Vec::new();
    let params = host
        .get("parameters")
        .map(|p| {
            p.as_array()
                .ok_or_else(|| ctx.child("parameters").malformed("must be an array"))
        })
        .transpose()?
        .unwrap_or(&empty);
    for (i, param) in params.iter().enumerate() {
        let at = ctx.child("parameters").child(&i.to_string());
        let param = match param.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let target = RefTarget::parse(reference, &at)?;
                if target.kind != RefKind::Parameter {
                    return Err(at.malformed("a host parameter must reference #/parameters/..."));
                }
                cx.resolve(&target, &at)?
            }
            None => param.clone(),
        };
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| at.malformed("host parameter without a name"))?;
        let default = match param.get("default") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let mut variable = parameters::extensions(&param);
        variable.insert("default".to_string(), json!(default));
        if let Some(values) = param.get("enum") {
            variable.insert("enum".to_string(), values.clone());
        }
        variables.insert(name.to_string(), Value::Object(variable));
    }
    for name in template_names(&url) {
        if !variables.contains_key(&name) {
            return Err(ctx.malformed(format!(
                "hostTemplate uses {{{name}}} but no parameter defines it"
            )));
        }
    }
    let mut server = Map::new();
    server.insert("url".to_string(), json!(url));
    if !variables.is_empty() {
        server.insert("variables".to_string(), Value::Object(variables));
    }
    Ok(json!([Value::Object(server)]))
}

/// The `{name}`s in a template.
fn template_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                names.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::convert::{NoExternalFiles, convert};

    fn servers_of(extra: Value) -> Value {
        let mut doc =
            json!({"swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": {}});
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        convert(&doc, &NoExternalFiles).unwrap().document["servers"].clone()
    }

    #[test]
    fn parameterized_host_becomes_a_server_with_variables() {
        let servers = servers_of(json!({
            "schemes": ["https"],
            "x-ms-parameterized-host": {
                "hostTemplate": "{certificateEndpoint}", "useSchemePrefix": false,
                "parameters": [{"name": "certificateEndpoint", "in": "path", "required": true,
                    "type": "string", "format": "uri", "description": "d",
                    "default": "https://identity.example", "x-ms-skip-url-encoding": true}]
            }
        }));
        assert_eq!(
            servers,
            json!([{"url": "{certificateEndpoint}", "variables": {"certificateEndpoint": {
                "default": "https://identity.example", "x-ms-skip-url-encoding": true}}}])
        );
    }

    #[test]
    fn scheme_prefix_and_referenced_host_parameters() {
        let servers = servers_of(json!({
            "parameters": {"Endpoint": {"name": "endpoint", "in": "path", "required": true,
                                        "type": "string"}},
            "basePath": "/v1",
            "x-ms-parameterized-host": {"hostTemplate": "{endpoint}.example.net",
                "parameters": [{"$ref": "#/parameters/Endpoint"}]}
        }));
        assert_eq!(
            servers,
            json!([{"url": "https://{endpoint}.example.net/v1",
                    "variables": {"endpoint": {"default": ""}}}])
        );
    }

    #[test]
    fn plain_host_and_no_host() {
        assert_eq!(
            servers_of(json!({"host": "example.net", "schemes": ["http"], "basePath": "/api"})),
            json!([{"url": "http://example.net/api"}])
        );
        assert_eq!(servers_of(json!({})), json!([{"url": "/"}]));
    }
}
