//! `backtest` on the real exports in `../shared/data/`. The actuals were
//! computed independently with a short Python script (csv module: won
//! `close_value` / `Amount` summed by close month); the forecasts are
//! only checked for being well formed. Where the data folder is absent
//! the tests say so and pass.

mod common;

use common::data;

use revpipe::backtest::{self, Backtest, BacktestOptions, PeriodKind};
use revpipe::fit::{self, LoadOptions};

fn opts(period: PeriodKind) -> BacktestOptions {
    BacktestOptions {
        period,
        trials: 500,
        ..BacktestOptions::default()
    }
}

fn actuals(b: &Backtest) -> Vec<(String, f64)> {
    b.periods
        .iter()
        .map(|p| (p.period.clone(), p.actual.unwrap().revenue))
        .collect()
}

// Every scored row is internally consistent.
fn well_formed(b: &Backtest) {
    for (p, f) in b.scored() {
        let actual = p.actual.unwrap().revenue;
        assert!(f.p10 <= f.p25 && f.p25 <= f.p50 && f.p50 <= f.p75 && f.p75 <= f.p90);
        assert!((0.0..=1.0).contains(&f.pit), "{}", p.period);
        assert_eq!(f.in_p10_p90, f.p10 <= actual && actual <= f.p90);
        assert!(f.crps >= 0.0);
        assert_eq!(p.as_of, p.start.plus_days(-1));
    }
}

#[test]
fn maven_monthly_and_quarterly() {
    let Some(file) = data("maven-crm-sales-opportunities/sales_pipeline.csv") else {
        return;
    };
    let deals = fit::load_deals(&file, &LoadOptions::default()).unwrap();

    let months = backtest::backtest(&deals, None, None, &opts(PeriodKind::Month)).unwrap();
    well_formed(&months);
    let want = [
        ("2017-04", 721_932.0),
        ("2017-05", 1_025_713.0),
        ("2017-06", 1_338_466.0),
        ("2017-07", 696_932.0),
        ("2017-08", 1_050_059.0),
        ("2017-09", 1_235_264.0),
        ("2017-10", 731_980.0),
        ("2017-11", 938_943.0),
        ("2017-12", 1_131_573.0),
    ];
    let got = actuals(&months);
    assert_eq!(got.len(), want.len());
    for ((p, a), (wp, wa)) in got.iter().zip(want) {
        assert_eq!(p, wp);
        assert!((a - wa).abs() < 0.01, "{p}: {a} != {wa}");
    }
    assert_eq!(months.scores.as_ref().unwrap().periods, 9);
    // March 2017 holds the first close; the run rate of April is March's.
    assert_eq!(months.periods[0].target, Some(1_134_672.0));
    assert_eq!(months.periods[0].baselines.last_period, Some(1_134_672.0));
    // The same month of the last quarter exists from June on.
    assert!(months.periods[1].baselines.cycle_back.is_none());
    assert_eq!(months.periods[2].baselines.cycle_back, Some(1_134_672.0));
    assert!(months
        .notes
        .iter()
        .any(|n| n.starts_with("500 deal(s) have no created date")));

    let quarters = backtest::backtest(&deals, None, None, &opts(PeriodKind::Quarter)).unwrap();
    well_formed(&quarters);
    let got = actuals(&quarters);
    let want = [
        ("2017-Q2", 3_086_111.0),
        ("2017-Q3", 2_982_255.0),
        ("2017-Q4", 2_802_496.0),
    ];
    assert_eq!(got.len(), 3);
    for ((p, a), (wp, wa)) in got.iter().zip(want) {
        assert_eq!((p.as_str(), a.round()), (wp, wa));
    }
    // No quarter of 2016 has a record of closes.
    assert_eq!(quarters.baselines[1].periods, 0);

    // From January: no record of closes before March, and no win known
    // on the last day of February to size deals with.
    let early = BacktestOptions {
        from: fit::Date::parse_iso("2017-01-01"),
        to: fit::Date::parse_iso("2017-05-31"),
        ..opts(PeriodKind::Month)
    };
    let b = backtest::backtest(&deals, None, None, &early).unwrap();
    let skipped: Vec<(&str, Option<&str>)> = b
        .periods
        .iter()
        .map(|p| (p.period.as_str(), p.skipped.as_deref()))
        .collect();
    assert_eq!(skipped.len(), 5);
    for (p, why) in &skipped[..2] {
        assert!(why.unwrap().contains("no record of closes"), "{p}: {why:?}");
    }
    assert!(b.periods[0].actual.is_none());
    assert!(
        skipped[2].1.unwrap().contains("0 won deals"),
        "{:?}",
        skipped[2]
    );
    assert_eq!(b.periods[2].actual.unwrap().revenue, 1_134_672.0);
    assert_eq!(b.scores.as_ref().unwrap().periods, 2);
}

#[test]
fn salesforce_monthly_with_history() {
    let dir = "preppin-salesforce-opportunity-history";
    let (Some(opps), Some(hist)) = (
        data(&format!("{dir}/Opportunity.csv")),
        data(&format!("{dir}/Opportunity_History.csv")),
    ) else {
        return;
    };
    let load = LoadOptions::default();
    let deals = fit::load_deals(&opps, &load).unwrap();
    let history = fit::load_history(&hist, &load).unwrap();
    let b = backtest::backtest(&deals, Some(&history), None, &opts(PeriodKind::Month)).unwrap();
    well_formed(&b);
    // February 2022 is forecast from January's 3 wins: too few to size
    // deals, so it is skipped with the reason; March to November score.
    assert_eq!(b.periods[0].period, "2022-02");
    let reason = b.periods[0].skipped.as_deref().unwrap();
    assert!(
        reason.contains("3 won deals with a positive amount"),
        "{reason}"
    );
    assert_eq!(b.periods[0].actual.unwrap().revenue, 4_382_030.0);
    assert_eq!(b.scores.as_ref().unwrap().periods, 9);
    let last = b.periods.last().unwrap();
    assert_eq!(
        (last.period.as_str(), last.actual.unwrap().revenue),
        ("2022-11", 1_289_850.0)
    );
    assert_eq!(last.actual.unwrap().won_deals, 4);
}
