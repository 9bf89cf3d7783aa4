//! The small pattern language of the built-in phrase lists (`spam/phrases.rs`) and abuse lexicons
//! (`abuse/lexicon.rs`): `{a|b}` alternatives and `{x}?` optional groups, expanded into every combination at start-up
//! so one Aho-Corasick automaton matches them all. Written by hand because it is ten lines and the lists need nothing
//! more (no regex at match time: the automaton stays linear).
//!
//! An alternative may escape a leading character with `\` (`\$`); an unclosed `{` is literal text.

/// Every combination `spec` stands for, in order. The lists are fixed and their tests bound the product.
pub fn expand(spec: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut rest = spec;
    while !rest.is_empty() {
        let Some(open) = rest.find('{') else {
            out.iter_mut().for_each(|o| o.push_str(rest));
            break;
        };
        let lit = &rest[..open];
        out.iter_mut().for_each(|o| o.push_str(lit));
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            out.iter_mut().for_each(|o| o.push_str(&rest[open..]));
            break;
        };
        let mut alts: Vec<&str> = rest[open + 1..close].split('|').map(|a| a.trim_start_matches('\\')).collect();
        rest = &rest[close + 1..];
        if let Some(r) = rest.strip_prefix('?') {
            alts.push("");
            rest = r;
        }
        out = out.iter().flat_map(|o| alts.iter().map(move |a| format!("{o}{a}"))).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn alternatives_options_escapes_and_broken_groups() {
        assert_eq!(expand("a {b|c} d"), vec!["a b d", "a c d"]);
        assert_eq!(expand("ullu ke {pathay|patthe}"), vec!["ullu ke pathay", "ullu ke patthe"]);
        assert_eq!(expand("x {y}? z"), vec!["x y z", "x  z"]);
        assert_eq!(expand("{10|\\$}"), vec!["10", "$"]);
        assert_eq!(expand("no braces"), vec!["no braces"]);
        assert_eq!(expand("broken {a|b"), vec!["broken {a|b"]);
    }
}
