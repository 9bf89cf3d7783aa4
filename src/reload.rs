//! What a SIGHUP may change. A reload swaps sites, moderators and their policies; everything else (addresses, the
//! store, timeouts, the learner) is read once at start-up.
//!
//! Two careless reloads are caught before anything is swapped: a file with no sites or no moderators (emptied or
//! truncated by mistake) would lock every tenant or moderator out while health still says SERVING, so it is refused
//! unless that file sets `server.allow_empty_reload = true`; and a changed restart-only key (say `store.redis_url`)
//! cannot take effect, so it is named in a warning (never its value) and the running value stays.

use crate::config::error::Problems;
use crate::config::{Config, ConfigError};
use serde_json::Value;
use std::collections::BTreeSet;

/// Checks `new` against the `running` configuration. `Ok` lists the restart-only keys whose value changed.
pub fn check(running: &Config, new: &Config) -> Result<Vec<String>, ConfigError> {
    let mut p = Problems::default();
    if !new.server.allow_empty_reload {
        for (key, now, then) in [
            ("sites", new.sites.len(), running.sites.len()),
            ("moderators", new.moderators.len(), running.moderators.len()),
        ] {
            if now == 0 && then > 0 {
                p.add(format!(
                    "{key}: the new file has none ({then} running); a reload that removes every one is refused \
                     unless the file sets server.allow_empty_reload = true"
                ));
            }
        }
    }
    p.into_result()?;
    Ok(restart_only_changes(running, new))
}

/// The configuration that runs after a reload: the new tenants with the running process-wide settings.
pub fn applied(running: &Config, new: Config) -> Config {
    Config { sites: new.sites, moderators: new.moderators, ..running.clone() }
}

/// Dotted paths of every key outside `sites` and `moderators` whose value differs.
fn restart_only_changes(running: &Config, new: &Config) -> Vec<String> {
    let process_wide = |c: &Config| {
        let mut value = serde_json::to_value(applied(c, Config::default())).unwrap_or_default();
        if let Some(server) = value.get_mut("server").and_then(Value::as_object_mut) {
            // Read from the new file by the reload itself.
            server.remove("allow_empty_reload");
        }
        value
    };
    let mut changed = Vec::new();
    diff("", &process_wide(running), &process_wide(new), &mut changed);
    changed
}

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()).collect::<BTreeSet<_>>() {
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                diff(&at, x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null), out);
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let site = format!("[[sites]]\nid = \"a\"\napi_key_sha256 = [\"{}\"]\n", crate::config::sha256_hex("k"));
        Config::from_toml(&format!("{text}\n{site}")).expect("valid")
    }

    #[test]
    fn restart_only_keys_are_named() {
        let running = config("[server]\nlisten = \"127.0.0.1:1\"");
        let new = config(
            "[server]\nlisten = \"127.0.0.1:2\"\nallow_empty_reload = true\n[store]\nredis_url = \"redis://h/0\"\n\
             [ratelimit]\nredis_url = \"redis://h/1\"",
        );
        assert_eq!(
            check(&running, &new).expect("allowed"),
            ["ratelimit.redis_url", "server.listen", "store.redis_url"]
        );
        assert_eq!(check(&running, &running).expect("allowed"), Vec::<String>::new());
        let kept = applied(&running, new);
        assert_eq!(kept.server.listen, "127.0.0.1:1", "the running value stays");
    }

    #[test]
    fn emptying_sites_or_moderators_needs_the_opt_in() {
        let running = config("");
        let empty = Config::from_toml("").expect("valid");
        let e = check(&running, &empty).expect_err("refused");
        assert_eq!(e.problems().len(), 1, "{e}");
        assert!(e.problems()[0].starts_with("sites: the new file has none (1 running)"), "{e}");
        let opted_in = Config::from_toml("[server]\nallow_empty_reload = true").expect("valid");
        assert!(check(&running, &opted_in).is_ok());
    }
}
