//! Distributions of the scenario format: every uncertain input of a scenario
//! (a conversion rate, a number of leads, a deal size, a cycle time) is one
//! [`Dist`].
//!
//! A scenario writes a distribution as a bare number (a fixed value) or as an
//! object `{"dist": NAME, ...}`. [`Dist::parse`] validates it against the
//! [`Domain`] of what it feeds and refuses anything impossible with a
//! [`DistError`] that names the JSON path, the offending value and what would
//! be valid. A parsed `Dist` then offers:
//!
//! - sampling ([`Dist::sample`], [`Dist::sample_sum`]): the hot path of the
//!   engine, with no allocation and no special functions;
//! - exact quantities for reporting and for timing ([`Dist::mean`],
//!   [`Dist::sd`], [`Dist::cdf`], [`Dist::sf`], [`Dist::quantile`],
//!   [`Dist::expected_min`]);
//! - the canonical JSON ([`Dist::to_json`]) that parses back to the same
//!   `Dist`.
//!
//! Conventions every caller should know:
//!
//! - `normal` is truncated to the domain's range (`[0, 1]` for a rate,
//!   `[0, ∞)` otherwise); its `mean` and `sd` parameters name the normal
//!   *before* truncation, while [`Dist::mean`], [`Dist::sd`] and the CDF
//!   describe the truncated distribution that is actually sampled.
//! - For [`Domain::Count`], [`Dist::sample`] rounds to the nearest whole
//!   number. Point values (fixed, empirical) are rounded when parsed, so
//!   their statistics are exact; for continuous distributions the
//!   statistics ignore the rounding (it adds about 1/12 to the variance).
//!   `poisson` is whole-valued already and exact.
//! - This module is the only place that knows rand_distr's `Gamma` takes
//!   `(shape, scale)` while statrs's takes `(shape, rate)`.
#![forbid(unsafe_code)]

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::{json, Map, Value};
use statrs::distribution::ContinuousCDF;
use statrs::function::{beta as beta_fn, erf, gamma as gamma_fn};
use std::f64::consts::SQRT_2;

/// The distribution names of the scenario format, in the order messages list them.
const NAMES: [&str; 11] = [
    "fixed",
    "uniform",
    "triangular",
    "pert",
    "normal",
    "lognormal",
    "gamma",
    "beta",
    "observed",
    "poisson",
    "empirical",
];

/// A normal truncated to less than this much of its mass is refused: the
/// parameters almost certainly say something other than what was meant.
const MIN_NORMAL_MASS: f64 = 1e-6;

/// Below this acceptance rate, a truncated normal is not sampled by plain
/// rejection (it would take more than about three draws per value).
const REJECT_MIN_MASS: f64 = 0.3;

/// What an uncertain input feeds; decides its valid range and how values are
/// shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// A probability, such as a stage's conversion rate: every value must lie
    /// in `[0, 1]`.
    Rate,
    /// A number of leads: values `>= 0`, rounded to the nearest whole number
    /// by [`Dist::sample`].
    Count,
    /// Deal sizes and other amounts of money: values `>= 0`.
    Money,
    /// Cycle times in days: values `>= 0`.
    Days,
}

impl Domain {
    /// The noun used in messages.
    fn noun(self) -> &'static str {
        match self {
            Domain::Rate => "a rate",
            Domain::Count => "a count",
            Domain::Money => "an amount of money",
            Domain::Days => "a number of days",
        }
    }

    /// The closed range every value must lie in.
    fn bounds(self) -> (f64, f64) {
        match self {
            Domain::Rate => (0.0, 1.0),
            _ => (0.0, f64::INFINITY),
        }
    }

    /// The range rule, as messages state it.
    fn rule(self) -> String {
        match self {
            Domain::Rate => "a rate must lie in [0, 1]".to_string(),
            _ => format!("{} must be >= 0", self.noun()),
        }
    }

    /// Whether distribution `name` may feed this domain at all.
    fn allows(self, name: &str) -> bool {
        match name {
            "lognormal" | "gamma" => self != Domain::Rate,
            "poisson" => self == Domain::Count,
            "observed" => self == Domain::Rate,
            _ => true,
        }
    }

    /// The distribution names valid for this domain, comma separated.
    fn valid_names(self) -> String {
        let names: Vec<&str> = NAMES.into_iter().filter(|n| self.allows(n)).collect();
        names.join(", ")
    }

    /// Shapes a point value the way [`Dist::sample`] would return it.
    fn shape(self, x: f64) -> f64 {
        if self == Domain::Count {
            x.round()
        } else {
            x
        }
    }
}

/// A scenario value that is not a valid distribution.
///
/// `path` is the JSON path of the offending value (a parameter's path when
/// one parameter is at fault), and `message` names the value and what would
/// be valid, e.g.
/// `segments[0].stages[1].to_next.sd: -0.1 is negative; sd must be > 0`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DistError {
    /// The JSON path of the offending value.
    pub path: String,
    /// What is wrong, with the value and what would be valid.
    pub message: String,
}

fn err(path: &str, message: String) -> DistError {
    DistError {
        path: path.to_string(),
        message,
    }
}

/// A validated distribution of one uncertain input, ready to sample.
///
/// Built by [`Dist::parse`] from a scenario value, or by [`Dist::fixed`].
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    domain: Domain,
    kind: Kind,
}

/// The validated distribution, with its precomputed sampler.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Point(Point),
    Uniform(Uniform),
    Triangular(Triangular),
    Pert(Pert),
    Normal(TruncNormal),
    LogNormal(LogNormal),
    Gamma(Gamma),
    Beta(Beta),
    Poisson(Poisson),
    Empirical(Empirical),
}

impl Dist {
    /// Parses and validates a scenario value: a bare JSON number (fixed), or
    /// an object `{"dist": NAME, ...}` with the parameters of that
    /// distribution.
    ///
    /// `path` is the JSON path of the value, used verbatim as the error's
    /// prefix. Fails on anything impossible or outside `domain`: unknown or
    /// missing names and parameters, non-numbers, parameter sets no
    /// distribution has, values outside the domain's range.
    ///
    /// ```
    /// use revpipe::dist::{Dist, Domain};
    /// use serde_json::json;
    ///
    /// let rate = json!({"dist": "beta", "alpha": 30, "beta": 60});
    /// let d = Dist::parse(&rate, "stages[0].to_next", Domain::Rate).unwrap();
    /// assert!((d.mean() - 1.0 / 3.0).abs() < 1e-12);
    ///
    /// let bad = json!({"dist": "normal", "mean": 0.3, "sd": -0.1});
    /// let e = Dist::parse(&bad, "stages[0].to_next", Domain::Rate).unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     "stages[0].to_next.sd: -0.1 is negative; sd must be > 0"
    /// );
    /// ```
    pub fn parse(value: &Value, path: &str, domain: Domain) -> Result<Dist, DistError> {
        let kind = match value {
            Value::Number(_) => {
                let x = number(value, path, "the value")?;
                Kind::Point(Point::new(support(x, path, domain)?, domain))
            }
            Value::Object(map) => parse_object(map, path, domain)?,
            other => return Err(err(path, not_a_dist(other))),
        };
        let dist = Dist { domain, kind };
        dist.check_finite(path)?;
        Ok(dist)
    }

    /// A point mass at `value`, for code that needs a known value where a
    /// distribution is expected. Its domain is [`Domain::Money`] (no
    /// rounding); use [`Dist::fixed_in`] to choose another.
    ///
    /// # Panics
    ///
    /// If `value` is not finite: this is a programming error, not bad input.
    pub fn fixed(value: f64) -> Dist {
        Dist::fixed_in(value, Domain::Money)
    }

    /// A point mass at `value` feeding `domain` (rounded when the domain is
    /// [`Domain::Count`]). Only finiteness is checked: code may build a point
    /// outside the domain's range.
    ///
    /// # Panics
    ///
    /// If `value` is not finite.
    pub fn fixed_in(value: f64, domain: Domain) -> Dist {
        assert!(value.is_finite(), "Dist::fixed_in: {value} is not finite");
        let kind = Kind::Point(Point::new(value, domain));
        Dist { domain, kind }
    }

    /// The domain this distribution was validated for.
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// `Some(v)` when every draw is `v` (fixed, uniform with `min == max`,
    /// poisson with mean 0, empirical with one distinct value), with `v`
    /// shaped as [`Dist::sample`] returns it; `None` otherwise.
    pub fn fixed_value(&self) -> Option<f64> {
        let v = match &self.kind {
            Kind::Point(p) => p.value,
            Kind::Uniform(u) if u.min == u.max => u.min,
            Kind::Poisson(p) if p.mean == 0.0 => 0.0,
            Kind::Empirical(e) if e.is_point() => e.sorted[0],
            _ => return None,
        };
        Some(self.domain.shape(v))
    }

    /// One draw. The hot path: no allocation, no special functions.
    ///
    /// A point mass returns its value without touching `rng`. For
    /// [`Domain::Count`] the draw is rounded to the nearest whole number.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = match &self.kind {
            Kind::Point(d) => d.value,
            Kind::Uniform(d) => d.sample(rng),
            Kind::Triangular(d) => d.sample(rng),
            Kind::Pert(d) => d.sample(rng),
            Kind::Normal(d) => d.sample(rng),
            Kind::LogNormal(d) => d.sampler.sample(rng),
            Kind::Gamma(d) => d.sampler.sample(rng),
            Kind::Beta(d) => d.unit.sampler.sample(rng),
            Kind::Poisson(d) => d.sample(rng),
            Kind::Empirical(d) => d.sample(rng),
        };
        self.domain.shape(x)
    }

    /// The sum of `k` independent draws (0 when `k == 0`).
    ///
    /// Exact shortcuts where they exist: a point mass gives `k * v`, gamma one
    /// `Gamma(k * shape, scale)` draw, poisson one `Poisson(k * mean)` draw.
    /// Everything else, including gamma feeding a [`Domain::Count`] (each
    /// draw is rounded), loops over `k` draws.
    pub fn sample_sum<R: Rng + ?Sized>(&self, k: u64, rng: &mut R) -> f64 {
        if k == 0 {
            return 0.0;
        }
        if let Some(v) = self.fixed_value() {
            return k as f64 * v;
        }
        match &self.kind {
            Kind::Gamma(g) if self.domain != Domain::Count => g.sample_sum(k, rng),
            Kind::Poisson(p) => p.sample_sum(k, rng),
            _ => (0..k).map(|_| self.sample(rng)).sum(),
        }
    }

    /// The mean of the values [`Dist::sample`] returns (of the truncated
    /// distribution for `normal`).
    pub fn mean(&self) -> f64 {
        self.law().mean()
    }

    /// The standard deviation of the values [`Dist::sample`] returns; 0 for a
    /// point mass.
    pub fn sd(&self) -> f64 {
        self.law().var().max(0.0).sqrt()
    }

    /// `P(X <= x)`: 0 below the support, 1 at and above its top.
    pub fn cdf(&self, x: f64) -> f64 {
        self.law().cdf(x)
    }

    /// `P(X > x)`, computed directly (not as `1 - cdf`) so it stays accurate
    /// far in the upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        self.law().sf(x)
    }

    /// The inverse CDF: the smallest `x` with `cdf(x) >= p` (for continuous
    /// distributions, the `x` with `cdf(x) == p`).
    ///
    /// `quantile(0)` is the bottom of the support and `quantile(1)` its top,
    /// which is infinite for lognormal, gamma, poisson and an untruncated-above
    /// normal.
    ///
    /// # Panics
    ///
    /// If `p` is not in `[0, 1]`.
    pub fn quantile(&self, p: f64) -> f64 {
        assert!(
            (0.0..=1.0).contains(&p),
            "quantile: p = {p} is not in [0, 1]"
        );
        self.law().quantile(p)
    }

    /// `E[min(X, limit)]`.
    ///
    /// The engine uses it for "a lead arriving uniformly in `[0, L)` closes
    /// inside the period", whose probability is `1 - E[min(C, L)] / L`.
    /// Computed in closed form for every distribution (exact for point
    /// masses, empirical, uniform, triangular and poisson; through the
    /// incomplete gamma and beta functions and the normal CDF otherwise,
    /// accurate to about 1e-10 relative, the precision of statrs 0.19's
    /// `erfc`). A `limit` below the support gives
    /// `limit`; an infinite one gives the mean.
    pub fn expected_min(&self, limit: f64) -> f64 {
        self.law().expected_min(limit)
    }

    /// The canonical JSON of this distribution in the scenario format: a bare
    /// number for a fixed value, otherwise `{"dist": NAME, ...}` with the
    /// parameters as given (optional ones only when given). It parses back to
    /// an equal `Dist` in the same domain.
    pub fn to_json(&self) -> Value {
        self.law().to_json()
    }

    /// The distribution behind the cold-path methods.
    fn law(&self) -> &dyn Law {
        match &self.kind {
            Kind::Point(d) => d,
            Kind::Uniform(d) => d,
            Kind::Triangular(d) => d,
            Kind::Pert(d) => d,
            Kind::Normal(d) => d,
            Kind::LogNormal(d) => d,
            Kind::Gamma(d) => d,
            Kind::Beta(d) => d,
            Kind::Poisson(d) => d,
            Kind::Empirical(d) => d,
        }
    }

    /// Refuses parameters whose mean or sd overflow.
    fn check_finite(&self, path: &str) -> Result<(), DistError> {
        let (mean, sd) = (self.mean(), self.sd());
        if mean.is_finite() && sd.is_finite() {
            return Ok(());
        }
        let msg = format!(
            "{} gives mean {mean} and sd {sd}; both must be finite (use smaller parameters)",
            self.to_json()
        );
        Err(err(path, msg))
    }
}

/// The quantities every distribution provides, off the hot path.
trait Law {
    fn mean(&self) -> f64;
    fn var(&self) -> f64;
    fn cdf(&self, x: f64) -> f64;
    fn sf(&self, x: f64) -> f64;
    fn quantile(&self, p: f64) -> f64;
    fn expected_min(&self, limit: f64) -> f64;
    fn to_json(&self) -> Value;
}

// ---------------------------------------------------------------------------
// Parsing

/// The message for a scenario value that is neither a number nor an object.
fn not_a_dist(value: &Value) -> String {
    format!("{value} is not a distribution; expected a number or {{\"dist\": NAME, ...}}")
}

/// Reads a finite number; `key` names it in the message.
fn number(value: &Value, path: &str, key: &str) -> Result<f64, DistError> {
    match value.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        Some(x) => Err(err(
            path,
            format!("{x} is not finite; {key} must be a finite number"),
        )),
        None => Err(err(
            path,
            format!("{value} is not a number; {key} must be a number"),
        )),
    }
}

/// Checks that a point of the support lies in the domain's range.
fn support(x: f64, path: &str, domain: Domain) -> Result<f64, DistError> {
    let (lo, hi) = domain.bounds();
    let what = if x < lo {
        "is negative"
    } else if x > hi {
        "is above 1"
    } else {
        return Ok(x);
    };
    Err(err(path, format!("{x} {what}; {}", domain.rule())))
}

/// What each distribution takes, as messages say it.
fn takes(name: &str) -> &'static str {
    match name {
        "fixed" => "value",
        "uniform" => "min and max",
        "triangular" => "min, mode and max",
        "pert" => "min, mode and max, and optionally lambda",
        "normal" => "mean and sd",
        "poisson" => "mean",
        "lognormal" => "mean and sd, or mu and sigma",
        "gamma" => "shape and scale, or mean and sd",
        "beta" => "alpha and beta, or mean and sd",
        "observed" => "advanced and entered, and optionally prior_alpha and prior_beta",
        _ => "values",
    }
}

/// Reads the `"dist"` name.
fn dist_name(map: &Map<String, Value>, path: &str) -> Result<&'static str, DistError> {
    let valid = NAMES.join(", ");
    match map.get("dist") {
        None => Err(err(path, format!("missing \"dist\"; valid: {valid}"))),
        Some(Value::String(s)) => {
            let known = NAMES.into_iter().find(|n| *n == s.as_str());
            known.ok_or_else(|| err(path, format!("unknown dist {s:?}; valid: {valid}")))
        }
        Some(other) => Err(err(
            path,
            format!("dist {other} is not a name; valid: {valid}"),
        )),
    }
}

/// Refuses a distribution that cannot feed `domain`.
fn check_allowed(name: &str, path: &str, domain: Domain) -> Result<(), DistError> {
    if domain.allows(name) {
        return Ok(());
    }
    let why = match name {
        "observed" => "it gives a conversion rate".to_string(),
        "poisson" => "it gives a count of leads".to_string(),
        _ => format!("its values are not bounded by 1; {}", domain.rule()),
    };
    let msg = format!(
        "{name} is not valid for {}: {why}; valid here: {}",
        domain.noun(),
        domain.valid_names()
    );
    Err(err(path, msg))
}

fn parse_object(map: &Map<String, Value>, path: &str, domain: Domain) -> Result<Kind, DistError> {
    let name = dist_name(map, path)?;
    check_allowed(name, path, domain)?;
    let p = Params { map, path, name };
    match name {
        "fixed" => p.fixed(domain),
        "uniform" => p.uniform(domain),
        "triangular" => p.triangular(domain),
        "pert" => p.pert(domain),
        "normal" => p.normal(domain),
        "lognormal" => p.lognormal(),
        "gamma" => p.gamma(),
        "beta" => p.beta(),
        "observed" => p.observed(),
        "poisson" => p.poisson(),
        _ => p.empirical(domain),
    }
}

/// The parameters of one `{"dist": NAME, ...}` object, with their path.
struct Params<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
    name: &'static str,
}

impl Params<'_> {
    /// The path of parameter `key`.
    fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// An error about the distribution as a whole.
    fn fail(&self, message: String) -> DistError {
        err(self.path, message)
    }

    /// Refuses any parameter not in `keys`.
    fn allow(&self, keys: &[&str]) -> Result<(), DistError> {
        let unknown = self
            .map
            .keys()
            .find(|k| *k != "dist" && !keys.contains(&k.as_str()));
        match unknown {
            None => Ok(()),
            Some(k) => Err(self.fail(format!(
                "unknown parameter {k:?} for {}; it takes {}",
                self.name,
                takes(self.name)
            ))),
        }
    }

    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// An optional number.
    fn opt(&self, key: &str) -> Result<Option<f64>, DistError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => number(v, &self.at(key), key).map(Some),
        }
    }

    /// The error for a missing parameter.
    fn missing(&self, key: &str) -> DistError {
        let (name, takes) = (self.name, takes(self.name));
        self.fail(format!("{name} is missing {key:?}; it takes {takes}"))
    }

    /// A required number.
    fn num(&self, key: &str) -> Result<f64, DistError> {
        self.opt(key)?.ok_or_else(|| self.missing(key))
    }

    /// Refuses a number that is not `> 0`.
    fn check_positive(&self, key: &str, x: f64) -> Result<f64, DistError> {
        if x > 0.0 {
            return Ok(x);
        }
        let what = if x < 0.0 { "negative" } else { "zero" };
        Err(err(
            &self.at(key),
            format!("{x} is {what}; {key} must be > 0"),
        ))
    }

    /// A required number `> 0`.
    fn positive(&self, key: &str) -> Result<f64, DistError> {
        self.check_positive(key, self.num(key)?)
    }

    /// An optional number `> 0`.
    fn opt_positive(&self, key: &str) -> Result<Option<f64>, DistError> {
        match self.opt(key)? {
            None => Ok(None),
            Some(x) => self.check_positive(key, x).map(Some),
        }
    }

    /// A required number `>= 0`.
    fn non_negative(&self, key: &str) -> Result<f64, DistError> {
        let x = self.num(key)?;
        if x >= 0.0 {
            return Ok(x);
        }
        Err(err(
            &self.at(key),
            format!("{x} is negative; {key} must be >= 0"),
        ))
    }

    /// A required whole number `>= 0` (up to 2^53, where f64 stays exact).
    fn whole(&self, key: &str) -> Result<u64, DistError> {
        let x = self.num(key)?;
        if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0 {
            return Ok(x as u64);
        }
        let what = if x < 0.0 {
            "negative"
        } else {
            "not a whole number"
        };
        let msg = format!("{x} is {what}; {key} must be a whole number >= 0");
        Err(err(&self.at(key), msg))
    }

    /// A required point of the support, checked against the domain's range.
    fn point(&self, key: &str, domain: Domain) -> Result<f64, DistError> {
        support(self.num(key)?, &self.at(key), domain)
    }

    /// Which of two parameter pairs is given: `true` for `first`. Refuses a
    /// mix of both and neither.
    fn pick(&self, first: [&str; 2], second: [&str; 2]) -> Result<bool, DistError> {
        let has_first = first.iter().any(|k| self.has(k));
        let has_second = second.iter().any(|k| self.has(k));
        let (name, takes) = (self.name, takes(self.name));
        match (has_first, has_second) {
            (true, false) => Ok(true),
            (false, true) => Ok(false),
            (true, true) => Err(self.fail(format!(
                "{name} mixes {} with {}; it takes {takes}, not both",
                first.join("/"),
                second.join("/")
            ))),
            (false, false) => Err(self.fail(format!("{name} has no parameters; it takes {takes}"))),
        }
    }

    fn fixed(&self, domain: Domain) -> Result<Kind, DistError> {
        self.allow(&["value"])?;
        let value = self.point("value", domain)?;
        Ok(Kind::Point(Point::new(value, domain)))
    }

    fn uniform(&self, domain: Domain) -> Result<Kind, DistError> {
        self.allow(&["min", "max"])?;
        let (min, max) = (self.point("min", domain)?, self.point("max", domain)?);
        if min > max {
            let msg = format!("uniform with min {min} and max {max}: min must be <= max");
            return Err(self.fail(msg));
        }
        Ok(Kind::Uniform(Uniform { min, max }))
    }

    /// The min, mode and max of triangular and pert.
    fn three_point(&self, domain: Domain) -> Result<(f64, f64, f64), DistError> {
        let min = self.point("min", domain)?;
        let mode = self.point("mode", domain)?;
        let max = self.point("max", domain)?;
        let name = self.name;
        if min >= max {
            return Err(self.fail(format!(
                "{name} with min {min} and max {max}: min must be below max \
                 (for a known value use a number)"
            )));
        }
        if !(min..=max).contains(&mode) {
            return Err(self.fail(format!(
                "{name} with min {min}, mode {mode} and max {max}: \
                 mode must lie in [min, max] = [{min}, {max}]"
            )));
        }
        Ok((min, mode, max))
    }

    fn triangular(&self, domain: Domain) -> Result<Kind, DistError> {
        self.allow(&["min", "mode", "max"])?;
        let (min, mode, max) = self.three_point(domain)?;
        Ok(Kind::Triangular(Triangular { min, mode, max }))
    }

    fn pert(&self, domain: Domain) -> Result<Kind, DistError> {
        self.allow(&["min", "mode", "max", "lambda"])?;
        let (min, mode, max) = self.three_point(domain)?;
        let lambda = self.opt_positive("lambda")?;
        let pert = Pert::new(min, mode, max, lambda).map_err(|m| self.fail(m))?;
        Ok(Kind::Pert(pert))
    }

    fn normal(&self, domain: Domain) -> Result<Kind, DistError> {
        self.allow(&["mean", "sd"])?;
        let (mean, sd) = (self.num("mean")?, self.positive("sd")?);
        let (lo, hi) = domain.bounds();
        let normal = TruncNormal::new(mean, sd, lo, hi);
        if normal.mass >= MIN_NORMAL_MASS {
            return Ok(Kind::Normal(normal));
        }
        let range = if hi.is_finite() { "[0, 1]" } else { "[0, ∞)" };
        Err(self.fail(format!(
            "normal with mean {mean} and sd {sd} has only {:.1e} of its mass in {range}, \
             too little to truncate to; {}; move the mean into the range or raise sd",
            normal.mass,
            domain.rule()
        )))
    }

    fn lognormal(&self) -> Result<Kind, DistError> {
        self.allow(&["mean", "sd", "mu", "sigma"])?;
        let d = if self.pick(["mean", "sd"], ["mu", "sigma"])? {
            let (mean, sd) = (self.positive("mean")?, self.positive("sd")?);
            LogNormal::from_mean_sd(mean, sd)
        } else {
            LogNormal::new(self.num("mu")?, self.positive("sigma")?, None)
        };
        d.map(Kind::LogNormal).map_err(|m| self.fail(m))
    }

    fn gamma(&self) -> Result<Kind, DistError> {
        self.allow(&["shape", "scale", "mean", "sd"])?;
        let d = if self.pick(["shape", "scale"], ["mean", "sd"])? {
            Gamma::new(self.positive("shape")?, self.positive("scale")?, None)
        } else {
            let (mean, sd) = (self.positive("mean")?, self.positive("sd")?);
            Gamma::new((mean / sd).powi(2), sd * sd / mean, Some((mean, sd)))
        };
        d.map(Kind::Gamma).map_err(|m| self.fail(m))
    }

    fn beta(&self) -> Result<Kind, DistError> {
        self.allow(&["alpha", "beta", "mean", "sd"])?;
        if self.pick(["alpha", "beta"], ["mean", "sd"])? {
            let (a, b) = (self.positive("alpha")?, self.positive("beta")?);
            return self.beta_kind(a, b, BetaSource::Shapes);
        }
        let mean = self.num("mean")?;
        if !(mean > 0.0 && mean < 1.0) {
            let msg = format!("{mean} is outside (0, 1); a beta mean must lie strictly inside");
            return Err(err(&self.at("mean"), msg));
        }
        let sd = self.positive("sd")?;
        let spread = mean * (1.0 - mean);
        if sd * sd >= spread {
            return Err(self.fail(format!(
                "beta with mean {mean} and sd {sd}: no beta distribution has these; \
                 sd must be below sqrt(mean*(1-mean)) = {}",
                spread.sqrt()
            )));
        }
        let nu = spread / (sd * sd) - 1.0;
        self.beta_kind(mean * nu, (1.0 - mean) * nu, BetaSource::MeanSd(mean, sd))
    }

    fn observed(&self) -> Result<Kind, DistError> {
        self.allow(&["advanced", "entered", "prior_alpha", "prior_beta"])?;
        let (advanced, entered) = (self.whole("advanced")?, self.whole("entered")?);
        if advanced > entered {
            return Err(self.fail(format!(
                "observed with advanced {advanced} and entered {entered}: \
                 advanced must be <= entered"
            )));
        }
        let prior_alpha = self.opt_positive("prior_alpha")?;
        let prior_beta = self.opt_positive("prior_beta")?;
        let a = advanced as f64 + prior_alpha.unwrap_or(1.0);
        let b = (entered - advanced) as f64 + prior_beta.unwrap_or(1.0);
        let source = BetaSource::Observed {
            advanced,
            entered,
            prior_alpha,
            prior_beta,
        };
        self.beta_kind(a, b, source)
    }

    fn beta_kind(&self, a: f64, b: f64, source: BetaSource) -> Result<Kind, DistError> {
        let unit = UnitBeta::new(a, b).map_err(|m| self.fail(m))?;
        Ok(Kind::Beta(Beta { unit, source }))
    }

    fn poisson(&self) -> Result<Kind, DistError> {
        self.allow(&["mean"])?;
        let mean = self.non_negative("mean")?;
        let max = rand_distr::Poisson::<f64>::MAX_LAMBDA;
        if mean > max {
            let msg = format!("{mean} is too large; mean must be <= {max:e}");
            return Err(err(&self.at("mean"), msg));
        }
        Ok(Kind::Poisson(Poisson::new(mean)))
    }

    fn empirical(&self, domain: Domain) -> Result<Kind, DistError> {
        self.allow(&["values"])?;
        let path = self.at("values");
        let rule = "values must be a non-empty array of numbers";
        let items = match self.map.get("values") {
            None => return Err(self.missing("values")),
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) => return Err(err(&path, format!("[] is empty; {rule}"))),
            Some(other) => return Err(err(&path, format!("{other} is not an array; {rule}"))),
        };
        let mut values = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}[{i}]");
            values.push(support(number(item, &at, "each value")?, &at, domain)?);
        }
        Ok(Kind::Empirical(Empirical::new(values, domain)))
    }
}

// ---------------------------------------------------------------------------
// The standard normal, through statrs's erfc (accurate in both tails)

/// The standard normal density.
fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// `z * phi(z)`, which is 0 at the infinities.
fn z_phi(z: f64) -> f64 {
    if z.is_finite() {
        z * phi(z)
    } else {
        0.0
    }
}

/// `P(Z > z)`.
fn upper(z: f64) -> f64 {
    0.5 * erf::erfc(z / SQRT_2)
}

/// `P(Z <= z)`.
fn lower(z: f64) -> f64 {
    upper(-z)
}

/// `P(a < Z <= b)`, from the tail on the side that keeps its precision.
fn mass(a: f64, b: f64) -> f64 {
    if a >= 0.0 {
        upper(a) - upper(b)
    } else if b <= 0.0 {
        lower(b) - lower(a)
    } else {
        1.0 - upper(b) - lower(a)
    }
}

/// The `z` with `P(Z <= z) = p`.
fn inv_lower(p: f64) -> f64 {
    -SQRT_2 * erf::erfc_inv(2.0 * p)
}

/// The `z` with `P(Z > z) = q`.
fn inv_upper(q: f64) -> f64 {
    SQRT_2 * erf::erfc_inv(2.0 * q)
}

// ---------------------------------------------------------------------------
// The distributions

/// A point mass. `value` is shaped for the domain; `given` is as written.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    value: f64,
    given: f64,
}

impl Point {
    fn new(given: f64, domain: Domain) -> Point {
        let value = domain.shape(given);
        Point { value, given }
    }
}

impl Law for Point {
    fn mean(&self) -> f64 {
        self.value
    }
    fn var(&self) -> f64 {
        0.0
    }
    fn cdf(&self, x: f64) -> f64 {
        if x >= self.value {
            1.0
        } else {
            0.0
        }
    }
    fn sf(&self, x: f64) -> f64 {
        1.0 - self.cdf(x)
    }
    fn quantile(&self, _p: f64) -> f64 {
        self.value
    }
    fn expected_min(&self, limit: f64) -> f64 {
        self.value.min(limit)
    }
    fn to_json(&self) -> Value {
        json!(self.given)
    }
}

/// Uniform on `[min, max]`; a point mass when they are equal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Uniform {
    min: f64,
    max: f64,
}

impl Uniform {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.min == self.max {
            return self.min;
        }
        self.min + (self.max - self.min) * rng.random::<f64>()
    }
}

impl Law for Uniform {
    fn mean(&self) -> f64 {
        0.5 * (self.min + self.max)
    }
    fn var(&self) -> f64 {
        (self.max - self.min).powi(2) / 12.0
    }
    fn cdf(&self, x: f64) -> f64 {
        if x < self.min {
            0.0
        } else if x >= self.max {
            1.0
        } else {
            (x - self.min) / (self.max - self.min)
        }
    }
    fn sf(&self, x: f64) -> f64 {
        if x < self.min {
            1.0
        } else if x >= self.max {
            0.0
        } else {
            (self.max - x) / (self.max - self.min)
        }
    }
    fn quantile(&self, p: f64) -> f64 {
        self.min + p * (self.max - self.min)
    }
    fn expected_min(&self, limit: f64) -> f64 {
        if limit <= self.min {
            limit
        } else if limit >= self.max {
            self.mean()
        } else {
            // limit minus the integral of the CDF over [min, limit]
            limit - (limit - self.min).powi(2) / (2.0 * (self.max - self.min))
        }
    }
    fn to_json(&self) -> Value {
        json!({"dist": "uniform", "min": self.min, "max": self.max})
    }
}

/// Triangular on `[min, max]` with its peak at `mode`; `min < max`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Triangular {
    min: f64,
    mode: f64,
    max: f64,
}

impl Triangular {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.quantile(rng.random::<f64>())
    }

    fn width(&self) -> f64 {
        self.max - self.min
    }
}

impl Law for Triangular {
    fn mean(&self) -> f64 {
        (self.min + self.mode + self.max) / 3.0
    }
    fn var(&self) -> f64 {
        let (a, c, b) = (self.min, self.mode, self.max);
        (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
    }
    fn cdf(&self, x: f64) -> f64 {
        if x <= self.min {
            0.0
        } else if x >= self.max {
            1.0
        } else if x <= self.mode {
            (x - self.min).powi(2) / (self.width() * (self.mode - self.min))
        } else {
            1.0 - self.sf(x)
        }
    }
    fn sf(&self, x: f64) -> f64 {
        if x > self.mode && x < self.max {
            (self.max - x).powi(2) / (self.width() * (self.max - self.mode))
        } else {
            1.0 - self.cdf(x)
        }
    }
    fn quantile(&self, p: f64) -> f64 {
        let left = self.mode - self.min;
        if p * self.width() <= left {
            self.min + (p * self.width() * left).sqrt()
        } else {
            self.max - ((1.0 - p) * self.width() * (self.max - self.mode)).sqrt()
        }
    }
    fn expected_min(&self, limit: f64) -> f64 {
        let (a, c, b, w) = (self.min, self.mode, self.max, self.width());
        if limit <= a {
            limit
        } else if limit >= b {
            self.mean()
        } else if limit <= c {
            // min + integral of the SF over [min, limit]
            limit - (limit - a).powi(3) / (3.0 * w * (c - a))
        } else {
            // the mean less the integral of the SF over [limit, max]
            self.mean() - (b - limit).powi(3) / (3.0 * w * (b - c))
        }
    }
    fn to_json(&self) -> Value {
        json!({"dist": "triangular", "min": self.min, "mode": self.mode, "max": self.max})
    }
}

/// A beta distribution on `[0, 1]`: the core of beta, observed and pert.
#[derive(Debug, Clone, Copy, PartialEq)]
struct UnitBeta {
    alpha: f64,
    beta: f64,
    sampler: rand_distr::Beta<f64>,
}

impl UnitBeta {
    fn new(alpha: f64, beta: f64) -> Result<UnitBeta, String> {
        let refuse = |e: String| format!("beta({alpha}, {beta}) cannot be sampled: {e}");
        let sampler = rand_distr::Beta::new(alpha, beta).map_err(|e| refuse(e.to_string()))?;
        statrs::distribution::Beta::new(alpha, beta).map_err(|e| refuse(e.to_string()))?;
        Ok(UnitBeta {
            alpha,
            beta,
            sampler,
        })
    }

    fn statrs(&self) -> statrs::distribution::Beta {
        statrs::distribution::Beta::new(self.alpha, self.beta).expect("validated in new")
    }
}

impl Law for UnitBeta {
    fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }
    fn var(&self) -> f64 {
        let s = self.alpha + self.beta;
        self.alpha * self.beta / (s * s * (s + 1.0))
    }
    fn cdf(&self, y: f64) -> f64 {
        self.statrs().cdf(y)
    }
    fn sf(&self, y: f64) -> f64 {
        self.statrs().sf(y)
    }
    fn quantile(&self, p: f64) -> f64 {
        self.statrs().inverse_cdf(p)
    }
    fn expected_min(&self, limit: f64) -> f64 {
        if limit <= 0.0 {
            limit
        } else if limit >= 1.0 {
            self.mean()
        } else {
            // E[Y; Y <= l] = mean * I_l(alpha + 1, beta)
            let part = self.mean() * beta_fn::beta_reg(self.alpha + 1.0, self.beta, limit);
            part + limit * self.sf(limit)
        }
    }
    fn to_json(&self) -> Value {
        json!({"dist": "beta", "alpha": self.alpha, "beta": self.beta})
    }
}

/// How a beta was written, so that `to_json` gives back the same parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BetaSource {
    Shapes,
    MeanSd(f64, f64),
    Observed {
        advanced: u64,
        entered: u64,
        prior_alpha: Option<f64>,
        prior_beta: Option<f64>,
    },
}

/// `beta` and `observed`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Beta {
    unit: UnitBeta,
    source: BetaSource,
}

impl Law for Beta {
    fn mean(&self) -> f64 {
        self.unit.mean()
    }
    fn var(&self) -> f64 {
        self.unit.var()
    }
    fn cdf(&self, x: f64) -> f64 {
        self.unit.cdf(x)
    }
    fn sf(&self, x: f64) -> f64 {
        self.unit.sf(x)
    }
    fn quantile(&self, p: f64) -> f64 {
        self.unit.quantile(p)
    }
    fn expected_min(&self, limit: f64) -> f64 {
        self.unit.expected_min(limit)
    }
    fn to_json(&self) -> Value {
        match self.source {
            BetaSource::Shapes => self.unit.to_json(),
            BetaSource::MeanSd(mean, sd) => json!({"dist": "beta", "mean": mean, "sd": sd}),
            BetaSource::Observed {
                advanced,
                entered,
                prior_alpha,
                prior_beta,
            } => {
                let mut v = json!({"dist": "observed", "advanced": advanced, "entered": entered});
                put_opt(&mut v, "prior_alpha", prior_alpha);
                put_opt(&mut v, "prior_beta", prior_beta);
                v
            }
        }
    }
}

/// Adds an optional parameter to a JSON object when it was given.
fn put_opt(object: &mut Value, key: &str, value: Option<f64>) {
    if let (Some(x), Some(map)) = (value, object.as_object_mut()) {
        map.insert(key.to_string(), json!(x));
    }
}

/// PERT: a beta scaled to `[min, max]`, peaking at `mode`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pert {
    min: f64,
    mode: f64,
    max: f64,
    lambda: Option<f64>,
    unit: UnitBeta,
}

impl Pert {
    /// `lambda` is 4 unless given; `min < max` and `min <= mode <= max` hold.
    fn new(min: f64, mode: f64, max: f64, lambda: Option<f64>) -> Result<Pert, String> {
        let (l, w) = (lambda.unwrap_or(4.0), max - min);
        let unit = UnitBeta::new(1.0 + l * (mode - min) / w, 1.0 + l * (max - mode) / w)?;
        Ok(Pert {
            min,
            mode,
            max,
            lambda,
            unit,
        })
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.min + self.width() * self.unit.sampler.sample(rng)
    }

    fn width(&self) -> f64 {
        self.max - self.min
    }

    /// The unit-interval point of `x`.
    fn unit_x(&self, x: f64) -> f64 {
        (x - self.min) / self.width()
    }
}

impl Law for Pert {
    fn mean(&self) -> f64 {
        self.min + self.width() * self.unit.mean()
    }
    fn var(&self) -> f64 {
        self.width().powi(2) * self.unit.var()
    }
    fn cdf(&self, x: f64) -> f64 {
        self.unit.cdf(self.unit_x(x))
    }
    fn sf(&self, x: f64) -> f64 {
        self.unit.sf(self.unit_x(x))
    }
    fn quantile(&self, p: f64) -> f64 {
        (self.min + self.width() * self.unit.quantile(p)).clamp(self.min, self.max)
    }
    fn expected_min(&self, limit: f64) -> f64 {
        self.min + self.width() * self.unit.expected_min(self.unit_x(limit))
    }
    fn to_json(&self) -> Value {
        let mut v = json!({"dist": "pert", "min": self.min, "mode": self.mode, "max": self.max});
        put_opt(&mut v, "lambda", self.lambda);
        v
    }
}

/// How a truncated normal is sampled, chosen once from its acceptance rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// Draw normals until one lands inside (acceptance >= 30 %).
    Reject,
    /// The range lies above the mean: exponential proposal (Robert, 1995).
    Tail,
    /// The range lies below the mean: the same, mirrored.
    MirroredTail,
    /// A narrow range around the mean: uniform proposal.
    Flat,
}

/// A normal with `mean` and `sd`, truncated to `[lo, hi]`.
///
/// Standardised, the range is `[a, b]` and holds `mass` of the normal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TruncNormal {
    mean: f64,
    sd: f64,
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
    mass: f64,
    method: Method,
}

impl TruncNormal {
    fn new(mean: f64, sd: f64, lo: f64, hi: f64) -> TruncNormal {
        let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
        let mass = mass(a, b);
        let method = if mass >= REJECT_MIN_MASS {
            Method::Reject
        } else if a >= 0.0 {
            Method::Tail
        } else if b <= 0.0 {
            Method::MirroredTail
        } else {
            Method::Flat
        };
        TruncNormal {
            mean,
            sd,
            lo,
            hi,
            a,
            b,
            mass,
            method,
        }
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let z = match self.method {
            Method::Reject => self.reject(rng),
            Method::Tail => tail_draw(self.a, self.b, rng),
            Method::MirroredTail => -tail_draw(-self.b, -self.a, rng),
            Method::Flat => self.flat(rng),
        };
        (self.mean + self.sd * z).clamp(self.lo, self.hi)
    }

    fn reject<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let z: f64 = StandardNormal.sample(rng);
            if z >= self.a && z <= self.b {
                return z;
            }
        }
    }

    /// Uniform proposal on `[a, b]`, accepted with `phi(z) / phi(0)`; only
    /// used when `a < 0 < b` and the range is narrow (acceptance > 70 %).
    fn flat<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let z = self.a + (self.b - self.a) * rng.random::<f64>();
            if rng.random::<f64>() < (-0.5 * z * z).exp() {
                return z;
            }
        }
    }

    /// `(phi(a) - phi(b)) / mass`: the standardised mean shift.
    fn shift(&self) -> f64 {
        (phi(self.a) - phi(self.b)) / self.mass
    }

    fn std(&self, x: f64) -> f64 {
        (x - self.mean) / self.sd
    }
}

/// A standard normal truncated to `[a, b]` with `0 <= a`, from a truncated
/// exponential proposal of rate `alpha` accepted with
/// `exp(g(z) - max g)`, `g(z) = alpha z - z^2 / 2`: exact, and efficient
/// whether the range is wide or narrow.
fn tail_draw<R: Rng + ?Sized>(a: f64, b: f64, rng: &mut R) -> f64 {
    let alpha = 0.5 * (a + (a * a + 4.0).sqrt());
    let g = |z: f64| z * (alpha - 0.5 * z);
    let g_max = g(alpha.clamp(a, b));
    let span = (-alpha * (b - a)).exp_m1();
    loop {
        let z = a - (rng.random::<f64>() * span).ln_1p() / alpha;
        if rng.random::<f64>() < (g(z) - g_max).exp() {
            return z.min(b);
        }
    }
}

impl Law for TruncNormal {
    fn mean(&self) -> f64 {
        self.mean + self.sd * self.shift()
    }
    fn var(&self) -> f64 {
        let tilt = (z_phi(self.a) - z_phi(self.b)) / self.mass;
        self.sd * self.sd * (1.0 + tilt - self.shift().powi(2))
    }
    fn cdf(&self, x: f64) -> f64 {
        if x <= self.lo {
            0.0
        } else if x >= self.hi {
            1.0
        } else {
            mass(self.a, self.std(x)) / self.mass
        }
    }
    fn sf(&self, x: f64) -> f64 {
        if x < self.lo {
            1.0
        } else if x >= self.hi {
            0.0
        } else {
            mass(self.std(x), self.b) / self.mass
        }
    }
    fn quantile(&self, p: f64) -> f64 {
        if p <= 0.0 {
            return self.lo;
        }
        if p >= 1.0 {
            return self.hi;
        }
        // Invert from whichever tail keeps the target probability small.
        let below = lower(self.a) + p * self.mass;
        let above = upper(self.b) + (1.0 - p) * self.mass;
        let z = if below <= above {
            inv_lower(below)
        } else {
            inv_upper(above)
        };
        (self.mean + self.sd * z.clamp(self.a, self.b)).clamp(self.lo, self.hi)
    }
    fn expected_min(&self, limit: f64) -> f64 {
        if limit <= self.lo {
            return limit;
        }
        if limit >= self.hi {
            return self.mean();
        }
        let t = self.std(limit);
        let part = self.mean * mass(self.a, t) + self.sd * (phi(self.a) - phi(t));
        part / self.mass + limit * self.sf(limit)
    }
    fn to_json(&self) -> Value {
        json!({"dist": "normal", "mean": self.mean, "sd": self.sd})
    }
}

/// A lognormal: `ln X` is normal with `mu` and `sigma`. `given` holds the
/// mean and sd when it was written that way.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogNormal {
    mu: f64,
    sigma: f64,
    given: Option<(f64, f64)>,
    sampler: rand_distr::LogNormal<f64>,
}

impl LogNormal {
    fn new(mu: f64, sigma: f64, given: Option<(f64, f64)>) -> Result<LogNormal, String> {
        let sampler = rand_distr::LogNormal::new(mu, sigma)
            .map_err(|e| format!("lognormal with mu {mu} and sigma {sigma}: {e}"))?;
        Ok(LogNormal {
            mu,
            sigma,
            given,
            sampler,
        })
    }

    fn from_mean_sd(mean: f64, sd: f64) -> Result<LogNormal, String> {
        let s2 = (sd / mean).powi(2).ln_1p();
        LogNormal::new(mean.ln() - 0.5 * s2, s2.sqrt(), Some((mean, sd)))
    }

    fn std(&self, x: f64) -> f64 {
        (x.ln() - self.mu) / self.sigma
    }
}

impl Law for LogNormal {
    fn mean(&self) -> f64 {
        (self.mu + 0.5 * self.sigma * self.sigma).exp()
    }
    fn var(&self) -> f64 {
        self.mean().powi(2) * (self.sigma * self.sigma).exp_m1()
    }
    fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            0.0
        } else {
            lower(self.std(x))
        }
    }
    fn sf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            1.0
        } else {
            upper(self.std(x))
        }
    }
    fn quantile(&self, p: f64) -> f64 {
        (self.mu + self.sigma * inv_lower(p)).exp()
    }
    fn expected_min(&self, limit: f64) -> f64 {
        if limit <= 0.0 {
            return limit;
        }
        if limit == f64::INFINITY {
            return self.mean();
        }
        let t = self.std(limit);
        self.mean() * lower(t - self.sigma) + limit * upper(t)
    }
    fn to_json(&self) -> Value {
        match self.given {
            Some((mean, sd)) => json!({"dist": "lognormal", "mean": mean, "sd": sd}),
            None => json!({"dist": "lognormal", "mu": self.mu, "sigma": self.sigma}),
        }
    }
}

/// A gamma with `shape` and `scale`. `given` holds the mean and sd when it
/// was written that way.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Gamma {
    shape: f64,
    scale: f64,
    given: Option<(f64, f64)>,
    sampler: rand_distr::Gamma<f64>,
}

impl Gamma {
    fn new(shape: f64, scale: f64, given: Option<(f64, f64)>) -> Result<Gamma, String> {
        let refuse = |e: String| format!("gamma with shape {shape} and scale {scale}: {e}");
        let sampler = rand_distr::Gamma::new(shape, scale).map_err(|e| refuse(e.to_string()))?;
        statrs::distribution::Gamma::new(shape, 1.0 / scale).map_err(|e| refuse(e.to_string()))?;
        Ok(Gamma {
            shape,
            scale,
            given,
            sampler,
        })
    }

    /// statrs's gamma takes a rate, the reciprocal of the scale.
    fn statrs(&self) -> statrs::distribution::Gamma {
        statrs::distribution::Gamma::new(self.shape, 1.0 / self.scale).expect("validated in new")
    }

    /// A sum of `k >= 1` draws is one `Gamma(k * shape, scale)` draw.
    fn sample_sum<R: Rng + ?Sized>(&self, k: u64, rng: &mut R) -> f64 {
        match rand_distr::Gamma::new(k as f64 * self.shape, self.scale) {
            Ok(sum) => sum.sample(rng),
            Err(_) => (0..k).map(|_| self.sampler.sample(rng)).sum(),
        }
    }
}

impl Law for Gamma {
    fn mean(&self) -> f64 {
        self.shape * self.scale
    }
    fn var(&self) -> f64 {
        self.shape * self.scale * self.scale
    }
    fn cdf(&self, x: f64) -> f64 {
        self.statrs().cdf(x)
    }
    fn sf(&self, x: f64) -> f64 {
        self.statrs().sf(x)
    }
    fn quantile(&self, p: f64) -> f64 {
        let gamma = self.statrs();
        let x = gamma.inverse_cdf(p);
        if x > 0.0 && x.is_finite() {
            polish_quantile(&gamma, p, x)
        } else {
            x
        }
    }
    fn expected_min(&self, limit: f64) -> f64 {
        if limit <= 0.0 {
            return limit;
        }
        if limit == f64::INFINITY {
            return self.mean();
        }
        // E[X; X <= L] = shape * scale * P(shape + 1, L / scale)
        let x = limit / self.scale;
        self.mean() * gamma_fn::gamma_lr(self.shape + 1.0, x) + limit * self.sf(limit)
    }
    fn to_json(&self) -> Value {
        match self.given {
            Some((mean, sd)) => json!({"dist": "gamma", "mean": mean, "sd": sd}),
            None => json!({"dist": "gamma", "shape": self.shape, "scale": self.scale}),
        }
    }
}

/// Newton steps from `x` towards the `x` with `cdf(x) == p`, on the CDF
/// below the median and the SF above it so neither tail loses precision.
///
/// statrs's gamma `inverse_cdf` stops on an absolute tolerance, which leaves
/// small quantiles (shape < 1, p = 1e-4) off by 4e-5 in probability.
fn polish_quantile(d: &statrs::distribution::Gamma, p: f64, mut x: f64) -> f64 {
    use statrs::distribution::Continuous;
    for _ in 0..20 {
        let gap = if p <= 0.5 {
            d.cdf(x) - p
        } else {
            (1.0 - p) - d.sf(x)
        };
        let next = x - gap / d.pdf(x);
        let next = if next > 0.0 && next.is_finite() {
            next
        } else {
            0.5 * x
        };
        let done = (next - x).abs() <= 1e-15 * x;
        x = next;
        if done {
            break;
        }
    }
    x
}

/// A Poisson count; no sampler when the mean is 0.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Poisson {
    mean: f64,
    sampler: Option<rand_distr::Poisson<f64>>,
}

impl Poisson {
    /// `0 <= mean <= MAX_LAMBDA` holds.
    fn new(mean: f64) -> Poisson {
        let sampler = rand_distr::Poisson::new(mean).ok();
        Poisson { mean, sampler }
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.sampler {
            Some(s) => s.sample(rng),
            None => 0.0,
        }
    }

    /// A sum of `k >= 1` draws is one `Poisson(k * mean)` draw, split into
    /// equal parts past rand_distr's largest mean.
    fn sample_sum<R: Rng + ?Sized>(&self, k: u64, rng: &mut R) -> f64 {
        let total = k as f64 * self.mean;
        let parts = (total / rand_distr::Poisson::<f64>::MAX_LAMBDA)
            .ceil()
            .max(1.0);
        let part = Poisson::new(total / parts);
        (0..parts as u64).map(|_| part.sample(rng)).sum()
    }
}

impl Law for Poisson {
    fn mean(&self) -> f64 {
        self.mean
    }
    fn var(&self) -> f64 {
        self.mean
    }
    fn cdf(&self, x: f64) -> f64 {
        if x < 0.0 {
            0.0
        } else if self.mean == 0.0 || x == f64::INFINITY {
            1.0
        } else {
            gamma_fn::gamma_ur(x.floor() + 1.0, self.mean)
        }
    }
    fn sf(&self, x: f64) -> f64 {
        if x < 0.0 {
            1.0
        } else if self.mean == 0.0 || x == f64::INFINITY {
            0.0
        } else {
            gamma_fn::gamma_lr(x.floor() + 1.0, self.mean)
        }
    }
    fn quantile(&self, p: f64) -> f64 {
        if self.mean == 0.0 || p == 0.0 {
            return 0.0;
        }
        if p == 1.0 {
            return f64::INFINITY;
        }
        // Start from the normal approximation, then step to the exact answer.
        let guess = self.mean + self.mean.sqrt() * inv_lower(p);
        let mut n = guess.round().max(0.0);
        while n > 0.0 && self.cdf(n - 1.0) >= p {
            n -= 1.0;
        }
        while self.cdf(n) < p {
            n += 1.0;
        }
        n
    }
    fn expected_min(&self, limit: f64) -> f64 {
        if limit <= 0.0 {
            return limit;
        }
        if limit == f64::INFINITY {
            return self.mean;
        }
        // E[min(X, n)] = mean * P(X <= n - 2) + n * P(X >= n) for whole n,
        // then linear between whole numbers.
        let n = limit.floor();
        let whole = self.mean * self.cdf(n - 2.0) + n * self.sf(n - 1.0);
        whole + (limit - n) * self.sf(n)
    }
    fn to_json(&self) -> Value {
        json!({"dist": "poisson", "mean": self.mean})
    }
}

/// Resampling from observed values. `sorted` holds them shaped for the
/// domain; `given` as written.
#[derive(Debug, Clone, PartialEq)]
struct Empirical {
    given: Vec<f64>,
    sorted: Vec<f64>,
    mean: f64,
    var: f64,
}

impl Empirical {
    /// `given` is non-empty.
    fn new(given: Vec<f64>, domain: Domain) -> Empirical {
        let mut sorted: Vec<f64> = given.iter().map(|&x| domain.shape(x)).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let mean = sorted.iter().sum::<f64>() / n;
        let var = sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        Empirical {
            given,
            sorted,
            mean,
            var,
        }
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.sorted.len() == 1 {
            return self.sorted[0];
        }
        self.sorted[rng.random_range(0..self.sorted.len())]
    }

    fn is_point(&self) -> bool {
        self.sorted[0] == self.sorted[self.sorted.len() - 1]
    }

    /// How many values are `<= x`.
    fn count_le(&self, x: f64) -> usize {
        self.sorted.partition_point(|&v| v <= x)
    }

    fn fraction(&self, count: usize) -> f64 {
        count as f64 / self.sorted.len() as f64
    }
}

impl Law for Empirical {
    fn mean(&self) -> f64 {
        self.mean
    }
    fn var(&self) -> f64 {
        self.var
    }
    fn cdf(&self, x: f64) -> f64 {
        self.fraction(self.count_le(x))
    }
    fn sf(&self, x: f64) -> f64 {
        self.fraction(self.sorted.len() - self.count_le(x))
    }
    fn quantile(&self, p: f64) -> f64 {
        // The smallest k with k / n >= p, computed as cdf computes fractions.
        let n = self.sorted.len();
        let mut k = ((p * n as f64).ceil() as usize).clamp(1, n);
        while k > 1 && self.fraction(k - 1) >= p {
            k -= 1;
        }
        while k < n && self.fraction(k) < p {
            k += 1;
        }
        self.sorted[k - 1]
    }
    fn expected_min(&self, limit: f64) -> f64 {
        let total: f64 = self.sorted.iter().map(|&x| x.min(limit)).sum();
        total / self.sorted.len() as f64
    }
    fn to_json(&self) -> Value {
        json!({"dist": "empirical", "values": self.given})
    }
}
