//! The order services start in: each after the services it names in `after`, otherwise in the
//! order the package declares them.

use crate::config::Service;
use crate::Error;

/// Indices into `services`, each after its dependencies. An unknown name or a cycle is an error
/// that names it.
pub fn start_order(services: &[Service]) -> Result<Vec<usize>, Error> {
    let index = |name: &str| services.iter().position(|s| s.name == name);
    let mut deps = Vec::with_capacity(services.len());
    for s in services {
        let mut d = Vec::new();
        for a in &s.after {
            match index(a) {
                Some(i) => d.push(i),
                None => {
                    return Err(Error::Config(format!(
                        "service `{}` starts after `{a}`, but there is no service `{a}`",
                        s.name
                    )))
                }
            }
        }
        deps.push(d);
    }
    // Depth-first from each service in declaration order; a service on the current path seen
    // again is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        out: &mut Vec<usize>,
        services: &[Service],
    ) -> Result<(), Error> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::OnPath => {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut names: Vec<&str> = path[from..].iter().map(|&p| services[p].name.as_str()).collect();
                names.push(&services[i].name);
                return Err(Error::Config(format!(
                    "services wait for each other: {}",
                    names.join(" → ")
                )));
            }
            Mark::New => {}
        }
        marks[i] = Mark::OnPath;
        path.push(i);
        for &d in &deps[i] {
            visit(d, deps, marks, path, out, services)?;
        }
        path.pop();
        marks[i] = Mark::Done;
        out.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; services.len()];
    let mut out = Vec::with_capacity(services.len());
    for i in 0..services.len() {
        visit(i, &deps, &mut marks, &mut Vec::new(), &mut out, services)?;
    }
    Ok(out)
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
