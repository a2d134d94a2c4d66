//! The README's commands are a contract with every new user (issue 8): each `make …` line in its
//! shell blocks names a Makefile target, each `ARGS=…` holds only options the simulator accepts
//! (with their values), and the option table documents exactly the options there are. A renamed
//! target or option fails here.

use call_simulator::cli::{check_options, CALL_OPTIONS, TEXT_OPTIONS};
use std::collections::BTreeSet;

fn repo_file(rel: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Lines of the ```sh blocks of a Markdown text.
fn shell_lines(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in md.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            inside = !inside && t.trim_start_matches('`').trim() == "sh";
            continue;
        }
        if inside {
            out.push(line.trim().to_owned());
        }
    }
    out
}

fn makefile_targets() -> BTreeSet<String> {
    repo_file("Makefile")
        .lines()
        .filter(|l| !l.starts_with(['\t', '#', ' ', '.']) && !l.contains(":="))
        .filter_map(|l| l.split_once(':').map(|(t, _)| t.trim().to_owned()))
        .filter(|t| !t.is_empty() && !t.contains('$'))
        .collect()
}

/// The `make` command lines of the README: target and the words of `ARGS`.
fn make_commands(md: &str) -> Vec<(String, Vec<String>)> {
    shell_lines(md)
        .into_iter()
        .filter(|l| l.starts_with("make "))
        .map(|l| {
            // Words as the shell would split them; a `#` word starts the comment.
            let words = shlex::split(&l).unwrap_or_else(|| panic!("unbalanced quotes: {l}"));
            let words: Vec<String> = words
                .into_iter()
                .take_while(|w| !w.starts_with('#'))
                .collect();
            let target = words.get(1).cloned().unwrap_or_default();
            let args = words
                .iter()
                .find_map(|w| w.strip_prefix("ARGS="))
                .map(|a| shlex::split(a).unwrap_or_else(|| panic!("bad ARGS in {l}")))
                .unwrap_or_default();
            (target, args)
        })
        .collect()
}

#[test]
fn readme_commands_name_real_targets_and_options() {
    let targets = makefile_targets();
    for must in [
        "run", "test", "call", "text", "summary", "bench", "sizes", "soak", "events",
    ] {
        assert!(
            targets.contains(must),
            "Makefile lost target {must}: {targets:?}"
        );
    }
    let readme = repo_file("README.md");
    let commands = make_commands(&readme);
    assert!(
        commands.iter().filter(|(t, _)| t == "call").count() >= 3
            && commands.iter().filter(|(t, _)| t == "text").count() >= 3,
        "the README's call and text examples are gone: {commands:?}"
    );
    for (target, args) in &commands {
        assert!(
            targets.contains(target),
            "README runs `make {target}`, which the Makefile lacks"
        );
        let allowed = match target.as_str() {
            "call" => CALL_OPTIONS,
            "text" => TEXT_OPTIONS,
            _ => continue,
        };
        if let Err(e) = check_options(args, allowed) {
            panic!("README: make {target} ARGS={args:?}: {e}");
        }
    }
}

#[test]
fn readme_option_table_documents_every_option() {
    let readme = repo_file("README.md");
    let documented: BTreeSet<&str> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `--"))
        .filter_map(|rest| rest.split([' ', '`']).next())
        .collect();
    let all: BTreeSet<String> = CALL_OPTIONS
        .iter()
        .chain(TEXT_OPTIONS)
        .map(|o| o.trim_start_matches("--").to_owned())
        .collect();
    let documented: BTreeSet<String> = documented.into_iter().map(str::to_owned).collect();
    assert_eq!(
        documented, all,
        "README option table vs the simulator's options"
    );
}

#[test]
fn the_checker_rejects_a_renamed_option() {
    // What the tests above would report if the README kept an option the simulator renamed.
    let old = vec!["--digit".to_owned(), "1".to_owned()];
    assert!(check_options(&old, CALL_OPTIONS).is_err());
    let (t, a) = make_commands("```sh\nmake call ARGS=\"--digits 1,2 --quiet\"   # x\n```\n")
        .pop()
        .unwrap();
    assert_eq!(
        (t.as_str(), a),
        (
            "call",
            vec![
                "--digits".to_owned(),
                "1,2".to_owned(),
                "--quiet".to_owned()
            ]
        )
    );
}
