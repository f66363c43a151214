//! The order services start in: each after the services it names in `after`, otherwise in the
//! order the package declares them.

use crate::config::Service;
use crate::Error;

/// Indices into `services`, each after its dependencies. An unknown name or a cycle is an error
/// that names it.
pub fn start_order(services: &[Service]) -> Result<Vec<usize>, Error> {
    for s in services {
        if let Some(a) = s.after.iter().find(|a| !services.iter().any(|o| &o.name == *a)) {
            return Err(Error::Config(format!(
                "service `{}` starts after `{a}`, but there is no service `{a}`",
                s.name
            )));
        }
    }
    let nodes: Vec<(&str, &[String])> = services
        .iter()
        .map(|s| (s.name.as_str(), s.after.as_slice()))
        .collect();
    dependency_order(&nodes)
        .map_err(|cycle| Error::Config(format!("services wait for each other: {}", cycle.join(" → "))))
}

/// The one check of `after` that both the supervisor and `soiree-pack check` make: node indices
/// in start order, each after what it names (names that are not nodes are passed over), visiting
/// nodes and their `after` lists in the order given. A cycle is returned as the names along it,
/// first name repeated at the end (`a → b → a`).
pub fn dependency_order<'a>(nodes: &[(&'a str, &[String])]) -> Result<Vec<usize>, Vec<&'a str>> {
    let index = |name: &str| nodes.iter().position(|(n, _)| *n == name);
    let deps: Vec<Vec<usize>> = nodes
        .iter()
        .map(|(_, after)| after.iter().filter_map(|a| index(a)).collect())
        .collect();
    // Depth-first from each node in order; a node on the current path seen again is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    struct Walk<'n, 'a> {
        nodes: &'n [(&'a str, &'n [String])],
        deps: Vec<Vec<usize>>,
        marks: Vec<Mark>,
        path: Vec<usize>,
        out: Vec<usize>,
    }
    impl<'a> Walk<'_, 'a> {
        fn visit(&mut self, i: usize) -> Result<(), Vec<&'a str>> {
            match self.marks[i] {
                Mark::Done => return Ok(()),
                Mark::OnPath => {
                    let from = self.path.iter().position(|&p| p == i).unwrap_or(0);
                    let mut names: Vec<&'a str> =
                        self.path[from..].iter().map(|&p| self.nodes[p].0).collect();
                    names.push(self.nodes[i].0);
                    return Err(names);
                }
                Mark::New => {}
            }
            self.marks[i] = Mark::OnPath;
            self.path.push(i);
            for k in 0..self.deps[i].len() {
                self.visit(self.deps[i][k])?;
            }
            self.path.pop();
            self.marks[i] = Mark::Done;
            self.out.push(i);
            Ok(())
        }
    }
    let mut walk = Walk {
        nodes,
        deps,
        marks: vec![Mark::New; nodes.len()],
        path: Vec::new(),
        out: Vec::with_capacity(nodes.len()),
    };
    for i in 0..nodes.len() {
        walk.visit(i)?;
    }
    Ok(walk.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn order(spec: &[(&str, &[&str])]) -> Result<Vec<String>, String> {
        let services: Vec<String> = spec
            .iter()
            .map(|(n, after)| format!(r#"{{"name": "{n}", "command": ["x"], "after": {after:?}}}"#))
            .collect();
        let json = format!(r#"{{"package": "p", "services": [{}]}}"#, services.join(","));
        let c: Config = serde_json::from_str(&json).unwrap();
        start_order(&c.services)
            .map(|o| o.into_iter().map(|i| c.services[i].name.clone()).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn dependencies_first_then_declaration_order() {
        assert_eq!(
            order(&[
                ("web", &["db", "cache"]),
                ("db", &[]),
                ("cache", &["db"]),
                ("side", &[])
            ])
            .unwrap(),
            ["db", "cache", "web", "side"]
        );
        assert_eq!(order(&[("a", &[]), ("b", &[])]).unwrap(), ["a", "b"]);
    }

    #[test]
    fn cycles_and_unknown_names_are_errors() {
        assert_eq!(
            order(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]).unwrap_err(),
            "services.json: services wait for each other: a → b → c → a"
        );
        assert_eq!(
            order(&[("a", &["a"])]).unwrap_err(),
            "services.json: services wait for each other: a → a"
        );
        assert!(order(&[("a", &["nope"])])
            .unwrap_err()
            .contains("there is no service `nope`"));
    }
}
