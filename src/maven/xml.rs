//! A small element tree read with `quick-xml`: enough for POMs and `maven-metadata.xml`.
//!
//! Only elements and their text are kept (attributes, comments and processing instructions are
//! dropped). A document type declaration is skipped and never processed: no entity it declares is
//! expanded, so no file or URL is ever read through one. The five predefined entities and
//! character references are decoded; any other entity reference is an error.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::error::XmlError;

/// One element: its local name, its text and its child elements in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child named `name`, if it has any.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// The element at a path of child names, like `["versioning", "versions"]`.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter()
            .try_fold(self, |element, name| element.child(name))
    }
}

/// How deeply elements may nest: far more than any POM or `maven-metadata.xml` needs (a POM
/// nests six deep), and few enough that walking or dropping the tree recursively is safe.
pub const MAX_DEPTH: usize = 256;

/// An error if one more element inside the open ones in `stack` would nest past [`MAX_DEPTH`].
fn refuse_deeper(stack: &[Element]) -> Result<(), XmlError> {
    if stack.len() >= MAX_DEPTH {
        return Err(XmlError::TooDeep(MAX_DEPTH));
    }
    Ok(())
}

/// Parses a document into its root element (iteratively, with an explicit stack of the open
/// elements; a document nesting deeper than [`MAX_DEPTH`] is refused).
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|source| XmlError::NotWellFormed {
                position: reader.error_position(),
                source,
            })?;
        match event {
            Event::Start(start) => {
                refuse_deeper(&stack)?;
                stack.push(Element {
                    name: start.local_name().as_ref().to_string(),
                    ..Element::default()
                })
            }
            Event::Empty(start) => {
                refuse_deeper(&stack)?;
                let element = Element {
                    name: start.local_name().as_ref().to_string(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or(XmlError::UnmatchedEnd)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&data.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                let decoded = if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .map_err(XmlError::BadCharacterReference)?
                        .map(String::from)
                } else {
                    quick_xml::escape::resolve_predefined_entity(&reference.xml10_content())
                        .map(str::to_string)
                };
                let Some(decoded) = decoded else {
                    return Err(XmlError::DeclaredEntity(
                        reference.xml10_content().to_string(),
                    ));
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&decoded);
                }
            }
            Event::Eof => return Err(XmlError::Truncated),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_text_and_references() {
        let root = parse(
            r#"<?xml version="1.0"?>
            <!-- a comment -->
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <name>a &amp; b &#x41;<![CDATA[<c>]]></name>
              <empty/>
              <dependencies><dependency><artifactId>x</artifactId></dependency></dependencies>
            </project>"#,
        )
        .unwrap();
        assert_eq!(root.name, "project");
        assert_eq!(root.text_of("name").unwrap(), "a & b A<c>");
        assert!(root.child("empty").is_some());
        assert_eq!(
            root.at(&["dependencies", "dependency"])
                .unwrap()
                .text_of("artifactId")
                .unwrap(),
            "x"
        );
    }

    #[test]
    fn declared_entities_are_never_expanded() {
        let xxe = r#"<?xml version="1.0"?>
            <!DOCTYPE project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <project><name>&secret;</name></project>"#;
        let error = parse(xxe).unwrap_err().to_string();
        assert!(error.contains("&secret;"), "{error}");
        assert!(parse("<project><name>").is_err());
    }

    #[test]
    fn nesting_is_bounded_without_recursion() {
        let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(parse(&nested(256)).is_ok());
        let error = parse(&nested(257)).unwrap_err().to_string();
        assert!(error.contains("256"), "{error}");
        // A tree this deep used to be built, then dropped recursively: the stack overflowed.
        let error = parse(&nested(200_000)).unwrap_err().to_string();
        assert!(error.contains("nested more than 256"), "{error}");
    }
}
