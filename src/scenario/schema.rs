//! JSON Schemas of scenario files and profiles, for editors (yaml-language-server in VS Code,
//! IntelliJ, Neovim): generated from the model types, so a key added to the model is in the
//! schema. Where a type is read by a hand-written visitor (a shorthand, a status pattern, a
//! step shaped from a raw map), its schema is written here, beside the others, as what the
//! visitor accepts. The loader stays the judge: a schema sees shapes, not an undefined `{{name}}`
//! or a capture used before it is made.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::model::*;
use super::profile::Profile;
use super::template::Template;

/// The schema of one scenario document (a file holds one or more, `---` apart).
pub fn scenario() -> serde_json::Value {
    root::<Scenario>(
        "contend scenario",
        "A contend scenario: steps sent in order, concurrent groups and workloads, what each \
         response must show (docs/scenario-format.md).",
    )
}

/// The schema of a target profile (`contend.yaml`).
pub fn profile() -> serde_json::Value {
    root::<Profile>(
        "contend profile",
        "How contend tests one server: its URL, credentials, capabilities and resource model \
         (docs/profiles.md).",
    )
}

fn root<T: JsonSchema>(title: &str, description: &str) -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    schema.to_value()
}

/// What YAML reads as text where contend wants text: `X-Count: 5` and `true` are text too.
fn scalar() -> Schema {
    json_schema!({ "type": ["string", "number", "boolean"] })
}

macro_rules! named {
    ($name:literal) => {
        fn schema_name() -> Cow<'static, str> {
            $name.into()
        }
    };
}

impl JsonSchema for Template {
    named!("Template");
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut schema = scalar();
        schema.insert(
            "description".into(),
            "Text; `{{name}}` is replaced by a variable's value.".into(),
        );
        schema
    }
}

impl JsonSchema for Need {
    named!("Need");
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A capability: a built-in one, or the team's own (`x-team.name`), which a profile lists in `own_capabilities`.",
            "anyOf": [
                generator.subschema_for::<Capability>(),
                { "type": "string", "pattern": "^x-" },
            ],
        })
    }
}

impl<T: JsonSchema> JsonSchema for Shorthand<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Shorthand_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // string_or_map: any scalar is the short form, a map (or a YAML tag) the long one.
        json_schema!({ "anyOf": [scalar(), generator.subschema_for::<T>()] })
    }
}

impl JsonSchema for Step {
    named!("Step");
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // A step is read as written (`shape.rs`), then shaped: its schema is the written form's,
        // with what shaping refuses that a schema can say: one action per step, counts of
        // outcomes only on a group, no expectation on a workload (its steps have their own),
        // `after` only in a `requests` list.
        let mut schema = super::shape::raw_step_schema(generator);
        let no_after = serde_json::json!({ "properties": { "after": false } });
        let group_keys = [
            "exactly",
            "at_least",
            "at_most",
            "others",
            "each",
            "identical_2xx",
        ]
        .map(|key| serde_json::json!({ "required": [key] }));
        schema.insert(
            "oneOf".into(),
            serde_json::json!([
                {
                    "required": ["request"],
                    "properties": {
                        "request": no_after,
                        "expect": { "not": { "anyOf": group_keys } },
                    },
                },
                {
                    "required": ["concurrent"],
                    "properties": { "concurrent": { "properties": { "request": no_after } } },
                },
                { "required": ["workload"], "not": { "required": ["expect"] } },
            ]),
        );
        schema
    }
}

impl JsonSchema for MethodName {
    named!("Method");
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An HTTP method (RFC 9110 9): GET when absent.",
            "pattern": r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$",
            "examples": ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "MKCOL"],
        })
    }
}

impl JsonSchema for FieldName {
    named!("FieldName");
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$" })
    }
}

impl JsonSchema for StatusPattern {
    named!("StatusPattern");
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A status code (412), a class (2xx), `stale` (the profile's stale-version status) or `replaced` (its replace status).",
            "anyOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                { "type": "string", "pattern": "^[1-5][0-9][0-9]$" },
                { "type": "string", "pattern": "^[1-5][xX][xX]$" },
                { "enum": ["stale", "replaced"] },
            ],
        })
    }
}

impl JsonSchema for StatusSet {
    named!("StatusSet");
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<StatusPattern>();
        json_schema!({
            "anyOf": [one.clone(), { "type": "array", "items": one, "minItems": 1 }],
        })
    }
}

impl JsonSchema for Pattern {
    named!("Regex");
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "regex" })
    }
}

impl JsonSchema for JsonQuery {
    named!("JsonQuery");
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A JSON pointer (`/items/0/id`) or a JSONPath query (`$.items[0].id`).",
            "pattern": r"^($|/|\$)",
        })
    }
}

impl JsonSchema for JsonExpect {
    named!("JsonExpect");
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // Any value is one to equal; a map of only check names is checks.
        json_schema!({ "anyOf": [generator.subschema_for::<JsonChecks>(), true] })
    }
}

impl<K: JsonSchema, V: JsonSchema> JsonSchema for OrderedMap<K, V> {
    fn schema_name() -> Cow<'static, str> {
        std::collections::BTreeMap::<K, V>::schema_name()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        std::collections::BTreeMap::<K, V>::json_schema(generator)
    }
}

impl JsonSchema for RoundsBudget {
    named!("RoundsBudget");
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Rounds to hunt a race: a number (3), or `{ max: 1000, time: 20s }`.",
            "anyOf": [
                { "type": "integer", "minimum": 1 },
                {
                    "type": "object",
                    "properties": {
                        "max": { "type": "integer", "minimum": 1 },
                        "time": generator.subschema_for::<DurationText>(),
                    },
                    "additionalProperties": false,
                    "minProperties": 1,
                },
            ],
        })
    }
}
