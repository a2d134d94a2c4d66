//! The command-line options of `make call` and `make text` (the README documents exactly these; a
//! test in `tests/tests/readme.rs` checks the README's commands against them and the Makefile).

/// Options of a call (`make call ARGS=…`). All but `--quiet` take a value.
pub const CALL_OPTIONS: &[&str] = &[
    "--digits",
    "--lang",
    "--known",
    "--at",
    "--dial",
    "--message-seconds",
    "--from",
    "--to",
    "--target",
    "--ai",
    "--forwarded-from",
    "--say",
    "--answered-by",
    "--verstat",
    "--quiet",
];

/// Options of a text (`make text ARGS=…`). All but `--quiet` take a value; `--media` repeats.
pub const TEXT_OPTIONS: &[&str] = &[
    "--body",
    "--media",
    "--from",
    "--to",
    "--target",
    "--quiet",
    "--whatsapp",
];

/// Options of a tenant token (`make token ARGS=…`): `--org` (required), `--name`, `--locale`,
/// `--minutes`. All take a value.
pub const TOKEN_OPTIONS: &[&str] = &["--org", "--name", "--locale", "--minutes"];

/// Options that take no value.
pub const FLAGS: &[&str] = &["--quiet", "--whatsapp"];

/// Checks `args` (after the subcommand) against `allowed`.
///
/// Errors: the first unknown option, or an option missing its value, as a message naming it.
pub fn check_options(args: &[String], allowed: &[&str]) -> Result<(), String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if !a.starts_with("--") {
            return Err(format!("unexpected argument {a:?} (see --help)"));
        }
        if !allowed.contains(&a.as_str()) {
            return Err(format!("unknown option {a} (see --help)"));
        }
        if !FLAGS.contains(&a.as_str()) && it.next().is_none() {
            return Err(format!("option {a} needs a value"));
        }
    }
    Ok(())
}

/// The value of option `name` in `args`, or `default`.
///
/// Panics if `name` is not one of [`CALL_OPTIONS`], [`TEXT_OPTIONS`] or [`TOKEN_OPTIONS`] (so an
/// option renamed here but not in the lists, which the README test reads, fails at once).
pub fn arg(args: &[String], name: &str, default: &str) -> String {
    assert!(
        CALL_OPTIONS.contains(&name)
            || TEXT_OPTIONS.contains(&name)
            || TOKEN_OPTIONS.contains(&name),
        "option {name} is not declared in cli.rs"
    );
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_are_checked() {
        assert!(check_options(&v(&["--digits", "1,2", "--quiet"]), CALL_OPTIONS).is_ok());
        assert!(check_options(&v(&["--body", "hi"]), CALL_OPTIONS)
            .unwrap_err()
            .contains("unknown option --body"));
        assert!(check_options(&v(&["--from"]), TEXT_OPTIONS)
            .unwrap_err()
            .contains("needs a value"));
        assert!(check_options(&v(&["stray"]), TEXT_OPTIONS).is_err());
        assert_eq!(arg(&v(&["--dial", "busy"]), "--dial", "x"), "busy");
        assert_eq!(arg(&v(&[]), "--dial", "x"), "x");
    }
}
