//! `revpipe fit` through the binary: the two-command path on the bundled
//! data, and refusals that exit 2 and write nothing.

mod common;

use common::{revpipe, scratch, stderr};

use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn fit_then_run_on_the_maven_export() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/maven-crm-sales-opportunities/sales_pipeline.csv");
    if !data.exists() {
        eprintln!("skipped: {} not found", data.display());
        return;
    }
    let dir = scratch("maven");
    let out = dir.join("maven.json");
    let args = [
        "fit",
        s(&data),
        "--target",
        "2000000",
        "--period-days",
        "90",
        "-o",
        s(&out),
    ];
    let fit = revpipe(&args);
    assert_eq!(fit.status.code(), Some(0), "{}", stderr(&fit));
    let err = stderr(&fit);
    assert!(
        err.contains("maven layout, 8800 rows read, 8800 used, 0 set aside"),
        "{err}"
    );
    assert!(
        err.contains("stale: 1291 open deals older than 138 days (rule: Lost)"),
        "{err}"
    );
    let run = revpipe(&["run", s(&out), "--trials", "2000"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains("P(hit target)"));

    // Again without --force: refused, exit 2, the file untouched.
    let before = std::fs::read(&out).unwrap();
    let again = revpipe(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists; pass --force to overwrite it"));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

// Each bad input exits 2 with `needle` on stderr and writes no scenario.
fn refused(test: &str, csv: &str, extra: &[&str], needle: &str) {
    let dir = scratch(test);
    let input = dir.join("in.csv");
    std::fs::write(&input, csv).unwrap();
    let out = dir.join("out.json");
    let mut args = vec![
        "fit",
        s(&input),
        "--target",
        "100",
        "--period-days",
        "30",
        "-o",
        s(&out),
    ];
    args.extend_from_slice(extra);
    let o = revpipe(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    assert!(!out.exists(), "nothing is written on an error");
    std::fs::remove_dir_all(&dir).unwrap();
}

const SF: &str = "Id,StageName,Amount,CreatedDate,CloseDate\n";

#[test]
fn refusals_exit_2_and_write_nothing() {
    refused(
        "layout",
        "a,b\n1,2\n",
        &[],
        "unknown export layout (columns: a,b)",
    );
    let dates = format!("{SF}x,Closed Won,5,01/02/2024,03/04/2024\n");
    refused("dates", &dates, &[], "pass --date-format dmy or mdy");
    let comma = format!("{SF}x,Closed Won,\"5,5\",2024-01-01,2024-01-09\n");
    refused("comma", &comma, &[], "reads as a decimal comma number");
    let few = format!("{SF}x,Closed Won,5,2024-01-01,2024-01-09\n");
    refused(
        "few",
        &few,
        &[],
        "a lognormal or gamma fit needs at least 8",
    );
    refused(
        "prior",
        &few,
        &["--prior", "0,1"],
        "--prior: \"0,1\": expected uniform",
    );
    refused(
        "asof",
        &few,
        &["--as-of", "2024-13-01"],
        "--as-of: \"2024-13-01\"",
    );
    let stage = format!("{SF}x,Closed Won,5,2024-01-01,2024-01-09\ny,Pitch,5,2024-01-01,\n");
    refused(
        "stage",
        &stage,
        &["--deal-size", "empirical"],
        "\"Pitch\" (1)",
    );
}

#[test]
fn a_custom_export_mapped_by_flags() {
    let dir = scratch("custom");
    let input = dir.join("deals.csv");
    let mut text = String::from("Ref;Phase;Wert;Start;Ende\n");
    for i in 0..10 {
        text.push_str(&format!(
            "d{i};Gewonnen;\"1.{i}00,50 €\";0{}.03.2024;2{i}.03.2024\n",
            i % 9 + 1
        ));
    }
    text.push_str("o1;Angebot;\"2.000,00 €\";15.03.2024;\n");
    // Semicolons are not commas: the csv reader sees one column, and the
    // fit refuses to guess.
    std::fs::write(&input, &text).unwrap();
    let out = dir.join("s.json");
    let base = [
        "fit",
        s(&input),
        "--target",
        "100",
        "--period-days",
        "30",
        "-o",
        s(&out),
    ];
    let o = revpipe(&base);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown export layout"));

    std::fs::write(&input, text.replace(';', ",")).unwrap();
    let mut args = base.to_vec();
    args.extend([
        "--col",
        "id=Ref",
        "--col",
        "stage=Phase",
        "--col",
        "amount=Wert",
        "--col",
        "created=Start",
        "--col",
        "closed=Ende",
        "--stages",
        "Angebot",
        "--won",
        "Gewonnen",
        "--lost",
        "Verloren",
        "--decimal-comma",
        "--date-format",
        "dmy",
    ]);
    let o = revpipe(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let scenario: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(scenario["currency"], "EUR");
    assert_eq!(
        scenario["segments"][0]["open_pipeline"][0]["amount"],
        2000.0
    );
    assert_eq!(scenario["segments"][0]["stages"][1]["name"], "Gewonnen");
    std::fs::remove_dir_all(&dir).unwrap();
}
