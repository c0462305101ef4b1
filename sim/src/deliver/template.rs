//! Subject, body and log-line templates: text with `{field}` substitutions, checked when the
//! configuration is read so that a misspelt field is an error there, not an empty mail later.

/// Fields a template may use.
pub const FIELDS: &[(&str, &str)] = &[
    ("destination", "the dialled (destination) number"),
    ("source", "the calling (source) number"),
    ("pages", "pages received"),
    ("status", "SUCCESS or FAILED"),
    ("error", "the exact completion string"),
    ("explanation", "the error in words"),
    ("remote_station", "the far end's station identity"),
    ("local_station", "our station identity"),
    ("time", "when the call started, UTC (YYYY-MM-DD HH:MM:SS)"),
    ("epoch", "when the call started, seconds since 1970"),
    ("call_id", "the per-call id of the pipeline log"),
    ("file", "name of the delivered file"),
    ("rate", "last bit rate"),
    ("modem", "last modem"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; `{{` and `}}` stand for literal braces.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    if !FIELDS.iter().any(|(f, _)| *f == name) {
                        let known: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
                        return Err(format!(
                            "unknown field {{{name}}} (known: {})",
                            known.join(", ")
                        ));
                    }
                    parts.push(Part::Text(std::mem::take(&mut lit)));
                    parts.push(Part::Field(name));
                }
                '}' => return Err("a lone '}' (write '}}' for a brace)".into()),
                c => lit.push(c),
            }
        }
        parts.push(Part::Text(lit));
        Ok(Template { parts })
    }

    /// The text with each field replaced by `value(name)`.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Field(f) => value(f),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_and_braces() {
        let t = Template::parse("{{x}} {destination}/{pages}").unwrap();
        assert_eq!(t.render(|f| f.to_uppercase()), "{x} DESTINATION/PAGES");
        assert!(
            Template::parse("{nope}")
                .unwrap_err()
                .starts_with("unknown field {nope}")
        );
        assert!(Template::parse("a } b").is_err());
    }
}
