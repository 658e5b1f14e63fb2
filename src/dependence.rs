//! Shared shocks: dependence between the inputs of a trial.
//!
//! A bad quarter is bad for many deals at once. Three mechanisms, each of
//! which keeps every input's own distribution exactly (they only change how
//! the inputs move together):
//!
//! - **The market factor.** Each trial draws one standard normal `M`. An
//!   input with loading `l` takes the latent normal `l M + sqrt(1 - l^2) e`
//!   (with `e` its own standard normal), and its value is its own quantile
//!   at `Phi(latent)`: a Gaussian copula with one factor.
//! - **A rank-correlation matrix** over named per-trial inputs, applied as a
//!   Gaussian copula: Spearman's `rho` becomes the normal correlation
//!   `2 sin(pi rho / 6)`, which gives back exactly `rho` as the rank
//!   correlation of continuous inputs. A matrix that is not positive
//!   semi-definite is refused, or, when asked, shrunk towards independence
//!   by the smallest amount that makes it valid.
//! - **Deal groups.** Open deals in one group (one buyer, one region) share
//!   a rate: in each trial the group draws `W ~ U(0, 1)`, and a deal whose
//!   chance is `p` wins with the rate `theta = Q(W)`, `Q` the quantile of
//!   Beta(`p (1 - c) / c`, `(1 - p) (1 - c) / c`). `theta` has mean `p`, and
//!   two deals of the group are correlated by `c`; `n` like deals win a
//!   beta-binomial number of times.

use statrs::function::beta::beta_reg;
use statrs::function::erf::erfc;

use crate::dist::Dist;

/// The standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// An input's value as a function of its latent standard normal `z`:
/// `Q(Phi(z))`.
///
/// Continuous distributions are tabulated once on a fine grid in `z` and
/// interpolated linearly (no special function on the hot path); discrete
/// ones (poisson, empirical) call their exact quantile.
#[derive(Debug, Clone)]
pub struct LatentMap {
    dist: Dist,
    table: Option<Vec<f64>>,
}

/// The latent grid: `Z_POINTS` points from `-Z_MAX` to `Z_MAX`. Beyond it
/// lies a probability of 1.3e-16 on each side; the ends are used there.
const Z_MAX: f64 = 8.25;
const Z_POINTS: usize = 16_385;

impl LatentMap {
    /// Builds the map of a distribution.
    pub fn new(dist: &Dist) -> LatentMap {
        let table = dist.is_continuous().then(|| {
            let step = 2.0 * Z_MAX / (Z_POINTS - 1) as f64;
            (0..Z_POINTS)
                .map(|i| {
                    let z = -Z_MAX + step * i as f64;
                    // Use the upper tail for positive z, where 1 - Phi(z)
                    // would lose its digits.
                    let (p, upper) = (normal_cdf(-z.abs()), z > 0.0);
                    let u = if upper { 1.0 - p } else { p };
                    dist.quantile(u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0))
                })
                .collect()
        });
        LatentMap {
            dist: dist.clone(),
            table,
        }
    }

    /// The value at latent `z`.
    pub fn value(&self, z: f64) -> f64 {
        match &self.table {
            Some(t) => interpolate(t, z),
            None => self.dist.quantile(normal_cdf(z).clamp(0.0, 1.0)),
        }
    }
}

fn interpolate(table: &[f64], z: f64) -> f64 {
    let step = 2.0 * Z_MAX / (table.len() - 1) as f64;
    let x = ((z + Z_MAX) / step).clamp(0.0, (table.len() - 1) as f64);
    let i = (x.floor() as usize).min(table.len() - 2);
    let t = x - i as f64;
    table[i] + t * (table[i + 1] - table[i])
}

/// A validated rank-correlation matrix turned into the lower Cholesky
/// factor of its Gaussian-copula correlation.
#[derive(Debug, Clone, PartialEq)]
pub struct Copula {
    /// Row-major lower-triangular factor, `n x n`.
    lower: Vec<f64>,
    n: usize,
    /// How far the matrix was shrunk towards independence (0 when it was
    /// valid as given).
    pub shrink: f64,
}

/// Why a rank-correlation matrix was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatrixError {
    /// Not square with one row per input.
    #[error("has {rows} row(s) for {inputs} input(s); it must be {inputs} x {inputs}")]
    Shape {
        /// Rows found.
        rows: usize,
        /// Inputs named.
        inputs: usize,
    },
    /// A row of the wrong length.
    #[error("row {row} has {len} value(s); every row needs {inputs}")]
    Row {
        /// The row.
        row: usize,
        /// Its length.
        len: usize,
        /// The length needed.
        inputs: usize,
    },
    /// A diagonal entry that is not 1.
    #[error("[{i}][{i}] is {value}; the diagonal must be 1")]
    Diagonal {
        /// The index.
        i: usize,
        /// The value found.
        value: f64,
    },
    /// An entry outside [-1, 1].
    #[error("[{i}][{j}] is {value}; a rank correlation lies in [-1, 1]")]
    Range {
        /// Row.
        i: usize,
        /// Column.
        j: usize,
        /// The value found.
        value: f64,
    },
    /// Not symmetric.
    #[error("[{i}][{j}] is {a} but [{j}][{i}] is {b}; the matrix must be symmetric")]
    Symmetry {
        /// Row.
        i: usize,
        /// Column.
        j: usize,
        /// One value.
        a: f64,
        /// The other.
        b: f64,
    },
    /// Not positive semi-definite, and no repair was asked for.
    #[error(
        "is not positive semi-definite (no set of inputs can have these correlations \
         together); fix the entries, or set \"repair\": true to shrink it towards \
         independence by {needed:.3} (the smallest amount that makes it valid)"
    )]
    NotPsd {
        /// The shrinkage a repair would apply.
        needed: f64,
    },
}

impl Copula {
    /// Checks a rank-correlation matrix over `inputs` inputs and builds the
    /// copula; `repair` allows shrinking an invalid matrix towards the
    /// identity.
    pub fn new(matrix: &[Vec<f64>], inputs: usize, repair: bool) -> Result<Copula, MatrixError> {
        check_matrix(matrix, inputs)?;
        let n = inputs;
        let pearson: Vec<f64> = matrix
            .iter()
            .flatten()
            .map(|&rho| 2.0 * (std::f64::consts::PI * rho / 6.0).sin())
            .collect();
        if let Some(lower) = cholesky(&pearson, n) {
            return Ok(Copula {
                lower,
                n,
                shrink: 0.0,
            });
        }
        let needed = smallest_shrink(&pearson, n);
        if !repair {
            return Err(MatrixError::NotPsd { needed });
        }
        let lower = cholesky(&shrunk(&pearson, n, needed), n).expect("shrunk until valid");
        Ok(Copula {
            lower,
            n,
            shrink: needed,
        })
    }

    /// Correlates independent standard normals in place: `z <- L z`.
    pub fn apply(&self, z: &mut [f64]) {
        for i in (0..self.n).rev() {
            let row = &self.lower[i * self.n..i * self.n + i + 1];
            z[i] = row.iter().zip(&z[..=i]).map(|(l, e)| l * e).sum();
        }
    }

    /// The number of inputs.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether it has no inputs.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

fn check_matrix(matrix: &[Vec<f64>], n: usize) -> Result<(), MatrixError> {
    if matrix.len() != n {
        return Err(MatrixError::Shape {
            rows: matrix.len(),
            inputs: n,
        });
    }
    for (i, row) in matrix.iter().enumerate() {
        if row.len() != n {
            return Err(MatrixError::Row {
                row: i,
                len: row.len(),
                inputs: n,
            });
        }
        for (j, &value) in row.iter().enumerate() {
            if !(-1.0..=1.0).contains(&value) {
                return Err(MatrixError::Range { i, j, value });
            }
            if i == j && value != 1.0 {
                return Err(MatrixError::Diagonal { i, value });
            }
            let b = matrix[j][i];
            if (value - b).abs() > 1e-9 {
                return Err(MatrixError::Symmetry { i, j, a: value, b });
            }
        }
    }
    Ok(())
}

/// The lower Cholesky factor of a correlation matrix, allowing a
/// semi-definite one (a zero pivot gives a zero column); `None` when it is
/// not positive semi-definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    const TOLERANCE: f64 = 1e-10;
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            let rest = a[i * n + j] - dot;
            if i == j {
                if rest < -TOLERANCE {
                    return None;
                }
                l[i * n + i] = rest.max(0.0).sqrt();
            } else if l[j * n + j] > TOLERANCE {
                l[i * n + j] = rest / l[j * n + j];
            } else if rest.abs() > TOLERANCE {
                return None;
            }
        }
    }
    Some(l)
}

fn shrunk(a: &[f64], n: usize, lambda: f64) -> Vec<f64> {
    let mut out: Vec<f64> = a.iter().map(|x| (1.0 - lambda) * x).collect();
    for i in 0..n {
        out[i * n + i] = 1.0;
    }
    out
}

/// The smallest `lambda` (to 1e-6, rounded up) for which
/// `(1 - lambda) A + lambda I` is positive semi-definite, by bisection.
fn smallest_shrink(a: &[f64], n: usize) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while hi - lo > 1e-6 {
        let mid = 0.5 * (lo + hi);
        if cholesky(&shrunk(a, n, mid), n).is_some() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Whether a deal of a group wins, given its chance `p`, the group's
/// correlation `c` in (0, 1), the group's shared uniform `w` and the deal's
/// own uniform `u`: `u < Q(w)` with `Q` the Beta(`p (1-c)/c`, `(1-p)(1-c)/c`)
/// quantile, decided as `F(u) < w` (`F` increasing), which needs the
/// regularised incomplete beta function rather than its inverse.
pub fn group_deal_wins(p: f64, c: f64, w: f64, u: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    if p >= 1.0 {
        return true;
    }
    if c <= 0.0 {
        return u < p;
    }
    let k = (1.0 - c) / c;
    beta_reg(p * k, (1.0 - p) * k, u) < w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Domain;
    use serde_json::json;

    #[test]
    fn latent_map_reproduces_the_quantile() {
        let d = Dist::parse(
            &json!({"dist": "beta", "alpha": 30, "beta": 60}),
            "x",
            Domain::Rate,
        )
        .unwrap();
        let map = LatentMap::new(&d);
        for z in [-3.0, -1.2345, 0.0, 0.5, 2.2, 4.0] {
            let exact = d.quantile(normal_cdf(z));
            assert!(
                (map.value(z) - exact).abs() < 1e-7,
                "z {z}: {} vs {exact}",
                map.value(z)
            );
        }
        let size = Dist::parse(
            &json!({"dist": "lognormal", "mean": 40000, "sd": 25000}),
            "x",
            Domain::Money,
        )
        .unwrap();
        let map = LatentMap::new(&size);
        for z in [-2.0, 0.3, 3.0] {
            let exact = size.quantile(normal_cdf(z));
            assert!((map.value(z) / exact - 1.0).abs() < 1e-6, "z {z}");
        }
    }

    #[test]
    fn discrete_inputs_use_their_exact_quantile() {
        let d = Dist::parse(&json!({"dist": "poisson", "mean": 40}), "x", Domain::Count).unwrap();
        let map = LatentMap::new(&d);
        assert_eq!(map.value(0.0), d.quantile(0.5));
    }

    #[test]
    fn a_valid_matrix_factors_and_correlates() {
        let c = Copula::new(&[vec![1.0, 0.5], vec![0.5, 1.0]], 2, false).unwrap();
        assert_eq!(c.shrink, 0.0);
        // Normal correlation 2 sin(pi/12) for a rank correlation of 0.5.
        let r = 2.0 * (std::f64::consts::PI / 12.0).sin();
        let mut z = [1.0, 0.0];
        c.apply(&mut z);
        assert!(
            (z[0] - 1.0).abs() < 1e-12 && (z[1] - r).abs() < 1e-12,
            "{z:?}"
        );
    }

    #[test]
    fn an_impossible_matrix_is_refused_or_shrunk() {
        // x and y move together, y and z together, but x and z oppositely.
        let m = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        let err = Copula::new(&m, 3, false).unwrap_err();
        assert!(
            err.to_string().contains("not positive semi-definite"),
            "{err}"
        );
        let MatrixError::NotPsd { needed } = err else {
            panic!()
        };
        let c = Copula::new(&m, 3, true).unwrap();
        assert_eq!(c.shrink, needed);
        assert!(needed > 0.0 && needed < 1.0);
    }

    #[test]
    fn perfect_correlation_is_semi_definite_and_allowed() {
        let c = Copula::new(&[vec![1.0, 1.0], vec![1.0, 1.0]], 2, false).unwrap();
        let mut z = [0.7, -5.0];
        c.apply(&mut z);
        assert!((z[0] - z[1]).abs() < 1e-9);
    }

    #[test]
    fn bad_matrices_name_the_entry() {
        let e = Copula::new(&[vec![1.0, 0.2], vec![0.3, 1.0]], 2, false).unwrap_err();
        assert_eq!(
            e,
            MatrixError::Symmetry {
                i: 0,
                j: 1,
                a: 0.2,
                b: 0.3
            }
        );
        let e = Copula::new(&[vec![1.0, 1.5], vec![1.5, 1.0]], 2, false).unwrap_err();
        assert!(matches!(e, MatrixError::Range { value, .. } if value == 1.5));
        let e = Copula::new(&[vec![0.9, 0.0], vec![0.0, 1.0]], 2, false).unwrap_err();
        assert!(matches!(e, MatrixError::Diagonal { i: 0, .. }));
        let e = Copula::new(&[vec![1.0]], 2, false).unwrap_err();
        assert_eq!(e, MatrixError::Shape { rows: 1, inputs: 2 });
    }

    #[test]
    fn group_deals_win_with_their_own_chance() {
        // P(win) = E[Q(W)] = p, whatever the correlation.
        let (p, c) = (0.3, 0.4);
        let n = 200;
        let mut wins = 0;
        for i in 0..n {
            for j in 0..n {
                let w = (i as f64 + 0.5) / n as f64;
                let u = (j as f64 + 0.5) / n as f64;
                wins += usize::from(group_deal_wins(p, c, w, u));
            }
        }
        let share = wins as f64 / (n * n) as f64;
        assert!((share - p).abs() < 2e-3, "{share}");
    }
}
