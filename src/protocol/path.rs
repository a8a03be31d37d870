//! Where a value sits in a document, kept as borrowed links up to the root and rendered into
//! text only when an error needs it: building a path string for every member of every request
//! was a measurable share of the hot path.

#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    Root,
    /// A structure member, by model name.
    Member(&'a Path<'a>, &'a str),
    /// A list element, 0-based.
    Index(&'a Path<'a>, usize),
    /// A map entry, by key.
    Key(&'a Path<'a>, &'a str),
}

impl<'a> Path<'a> {
    pub fn member(&'a self, name: &'a str) -> Path<'a> {
        Path::Member(self, name)
    }

    pub fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    pub fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    fn segments(&self) -> Vec<Path<'a>> {
        let mut out = Vec::new();
        let mut at = *self;
        loop {
            match at {
                Path::Root => break,
                Path::Member(parent, _) | Path::Index(parent, _) | Path::Key(parent, _) => {
                    out.push(at);
                    at = *parent;
                }
            }
        }
        out.reverse();
        out
    }

    fn render(&self, mut segment: impl FnMut(&Path<'a>) -> String) -> String {
        self.segments()
            .iter()
            .map(&mut segment)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// `a.b.0.c`: member names and 0-based indexes.
    pub fn dotted(&self) -> String {
        self.render(|s| match s {
            Path::Member(_, n) | Path::Key(_, n) => (*n).to_string(),
            Path::Index(_, i) => i.to_string(),
            Path::Root => String::new(),
        })
    }

    /// `MetricData.member.1.Unit`: as the query protocol names parameters.
    pub fn query_style(&self) -> String {
        self.render(|s| match s {
            Path::Member(_, n) | Path::Key(_, n) => (*n).to_string(),
            Path::Index(_, i) => format!("member.{}", i + 1),
            Path::Root => String::new(),
        })
    }

    /// `logEvents.1.member.message`: as AWS's JSON services name fields in validation errors.
    pub fn coral_style(&self) -> String {
        self.render(|s| match s {
            Path::Member(_, n) => lower_first(n),
            Path::Key(_, n) => (*n).to_string(),
            Path::Index(_, i) => format!("{}.member", i + 1),
            Path::Root => String::new(),
        })
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_style() {
        let root = Path::Root;
        let data = root.member("MetricData");
        let first = data.index(0);
        let unit = first.member("Unit");
        assert_eq!(unit.dotted(), "MetricData.0.Unit");
        assert_eq!(unit.query_style(), "MetricData.member.1.Unit");
        assert_eq!(unit.coral_style(), "metricData.1.member.unit");
        assert_eq!(Path::Root.dotted(), "");
    }
}
