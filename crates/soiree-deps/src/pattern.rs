//! Shell wildcards (`*`, `?`, `[...]`) for `include` lines in ld.so.conf, matched the way
//! glob(3) matches one path component: a leading `.` only matches a literal `.`.

/// Whether one path component contains wildcards.
pub fn has_wildcards(component: &[u8]) -> bool {
    component.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// Whether `name` (one path component) matches `pattern`.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    match_from(pattern, name)
}

fn match_from(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, name index it covers up to).
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match class(&pattern[p..], name[n]) {
                Some(step) => step,
                None => (name[n] == b'[').then_some(1),
            },
            Some(b'\\') if p + 1 < pattern.len() => (pattern[p + 1] == name[n]).then_some(2),
            Some(c) => (*c == name[n]).then_some(1),
            None => None,
        };
        match step {
            Some(len) => {
                p += len;
                n += 1;
            }
            None => match star {
                Some((after, covered)) => {
                    p = after;
                    n = covered + 1;
                    star = Some((after, covered + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// Matches `c` against the bracket expression at the start of `pattern`: `Some(Some(len))` if
/// it matched (taking `len` pattern bytes), `Some(None)` if not, `None` if the `[` is never
/// closed, which makes it an ordinary character, as in glob(3).
fn class(pattern: &[u8], c: u8) -> Option<Option<usize>> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let lo = *pattern.get(i)?;
        if lo == b']' && !first {
            break;
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|h| *h != b']') {
            let hi = pattern[i + 2];
            hit |= lo <= c && c <= hi;
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
    Some((hit != negate).then_some(i + 1))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn matches_like_glob() {
        let m = |p: &str, n: &str| matches(p.as_bytes(), n.as_bytes());
        assert!(m("*.conf", "libc.conf"));
        assert!(!m("*.conf", ".conf"));
        assert!(!m("*.conf", "libc.conf.bak"));
        assert!(m("x86_64-*.conf", "x86_64-linux-gnu.conf"));
        assert!(m("lib?.conf", "libc.conf"));
        assert!(m("[a-c]*", "bar"));
        assert!(!m("[!a-c]*", "bar"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b", "xxaxxbxxc"));
        assert!(m("*", "anything"));
        assert!(m("a[b", "a[b"));
        assert!(!m("a[b", "ab"));
    }
}
