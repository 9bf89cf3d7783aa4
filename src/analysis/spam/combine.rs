//! One calibrated spam probability from the model's evidence and the rule signals: a logistic regression.
//!
//! # Why logistic
//!
//! The inputs are of very different kinds — naive Bayes log-likelihood sums, a link count, phrase strengths, ratios
//! of capital letters — and partly redundant (a phrase the model also knows). A logistic regression learns how much
//! each is worth *given the others*, and its output is a probability: `spam_score >= 0.5` means "more likely spam
//! than not" on data like the training data, which is what the per-site hold (0.5) and reject (0.9) thresholds
//! assume.
//!
//! # How the weights are fitted
//!
//! [`fit`] maximises the likelihood of held-out examples with a Gaussian prior around [`PRIOR`] (Newton's method,
//! a dozen parameters). The Bayes inputs of an example must come from a model that did NOT see that example —
//! in-sample naive Bayes is wildly overconfident — so training scores every example with a model trained on the
//! other folds (`fit.rs`: videos for the YouTube collection, hash folds for `commentguard train`).
//!
//! Rule inputs that the training data rarely or never exercises (Roman Urdu phrases, an author's website,
//! obfuscated links) keep their prior weight. Some weights are boxed in, because the training data is not the data
//! the service sees:
//!
//! * floors ([`FLOOR`]): on English YouTube data the Bayes inputs already explain most of what the phrases say, so
//!   an unconstrained fit could shrink the phrase weight — and with it everything the phrase lists know about
//!   languages the model has never seen;
//! * ceilings ([`CEILING`]): on YouTube nearly every link and every "check out my channel" is spam, so an
//!   unconstrained fit makes one link or one phrase decisive; on a news site readers link their sources and quote
//!   phrases;
//! * the Bayes inputs' total is capped when scoring ([`MAX_BAYES_LOGIT`]): the model alone holds, never rejects.
//!
//! A parameter that reaches a bound stays there (an active-set step of the damped Newton iteration).
//!
//! Behaviour that no training set labels (honeypot, submit time, a site's link limit, reputation) is not fitted:
//! see `mod.rs`.
//!
//! # The fitted base calibration
//!
//! From `commentguard train` on the YouTube collection (five video folds): bias −1.32; per unit of input
//! bayes_word 0.25, bayes_bigram 0.58, bayes_char 0.27, links 3.0 (ceiling), link_kind 2.20, obfuscated_link 2.5
//! (prior), phrase 3.0 (ceiling), repeated 0.22, shouting 0.11, symbols −0.03, obfuscation 2.81, website 1.0
//! (prior). The file stores them; `train` prints them.
//!
//! # Invariants
//!
//! * Every input is finite and bounded (see [`bayes_inputs`] and `signals`), so the probability is never NaN.
//! * [`fit`] never fails: a singular system or non-finite step keeps the previous weights.

use super::model::Evidence;
use super::tokens::{BIGRAM, CHAR, WORD};

/// Number of inputs.
pub const N: usize = 12;
/// Inputs, in order.
pub const BAYES_WORD: usize = 0;
pub const BAYES_BIGRAM: usize = 1;
pub const BAYES_CHAR: usize = 2;
pub const LINKS: usize = 3;
pub const LINK_KIND: usize = 4;
pub const OBFUSCATED_LINK: usize = 5;
pub const PHRASE: usize = 6;
pub const REPEATED: usize = 7;
pub const SHOUTING: usize = 8;
pub const SYMBOLS: usize = 9;
pub const OBFUSCATION: usize = 10;
pub const WEBSITE: usize = 11;

/// Input names, for reports.
pub const NAMES: [&str; N] = [
    "bayes_word",
    "bayes_bigram",
    "bayes_char",
    "links",
    "link_kind",
    "obfuscated_link",
    "phrase",
    "repeated",
    "shouting",
    "symbols",
    "obfuscation",
    "website",
];

/// The most the statistical model alone can add to the log-odds. With the fitted bias (about −1.3) the model alone
/// reaches ~0.84 at the training prior (~0.59 at a news site's): it can hold a comment, never reject it — a rule,
/// the author's history or the form's behaviour must agree. The base model learned English from YouTube comments, where "check out", "thank you" and "website"
/// are spam words; on a news site they are not, and a held comment costs a moderator a look, a rejected one costs
/// a reader their voice. Applied when scoring, not when fitting (it only binds where YouTube's spam is near-certain).
pub const MAX_BAYES_LOGIT: f64 = 3.0;

/// Parameters: bias and one weight per input.
const P: usize = N + 1;

/// The combination's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub bias: f64,
    pub weights: [f64; N],
}

impl Default for Calibration {
    fn default() -> Self {
        PRIOR
    }
}

/// Hand-set weights before any data: what each input is worth in log-odds per unit. Also the centre of the prior
/// the fit is pulled towards.
pub const PRIOR: Calibration = Calibration {
    bias: -1.0,
    //        word bigram char links kind  obf  phrase rep  shout sym  obfus web
    weights: [1.0, 0.5, 1.0, 1.0, 2.0, 2.5, 2.0, 0.3, 0.5, 0.8, 3.0, 1.0],
};

/// Lower bounds of the fitted weights (see the module docs); `-inf` = unconstrained.
pub const FLOOR: [f64; N] = {
    let mut f = [f64::NEG_INFINITY; N];
    f[LINK_KIND] = 1.5;
    f[OBFUSCATED_LINK] = 2.0;
    f[PHRASE] = 1.5;
    f[OBFUSCATION] = 2.5;
    f[WEBSITE] = 0.5;
    f
};

/// Upper bounds of the fitted weights; `+inf` = unconstrained. The YouTube collection, where nearly every link and
/// every "check out my channel" is spam, would otherwise teach weights under which a news reader's source links
/// hold a comment, and one strong phrase (weight ~5.9 unbounded) rejects it on its own. With these, one strong
/// phrase alone holds at most (≈0.84 at the training prior, ≈0.59 at a news site's, see `DEFAULT_SITE_PRIOR`);
/// rejecting takes more signals that agree.
pub const CEILING: [f64; N] = {
    let mut c = [f64::INFINITY; N];
    c[LINKS] = 3.0;
    c[PHRASE] = 3.0;
    c
};

/// Prior precision per parameter (bias first): how strongly the fit is pulled to [`PRIOR`]. Weak for the bias
/// and the Bayes inputs, which every example exercises; firmer for sparse rule inputs.
const STRENGTH: [f64; P] = [0.01, 0.01, 0.01, 0.01, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0];

impl Calibration {
    /// The log-odds of spam for inputs `x`: the bias, the Bayes inputs' part capped at [`MAX_BAYES_LOGIT`], and
    /// the rule inputs' part.
    pub fn logit(&self, x: &[f64; N]) -> f64 {
        let (bayes, rules) = self.parts(x);
        self.bias + bayes.min(MAX_BAYES_LOGIT) + rules
    }

    /// The Bayes inputs' and the rule inputs' contributions to the log-odds (uncapped).
    pub fn parts(&self, x: &[f64; N]) -> (f64, f64) {
        let c = |r: std::ops::Range<usize>| r.map(|i| self.weights[i] * x[i]).sum::<f64>();
        (c(BAYES_WORD..BAYES_CHAR + 1), c(LINKS..N))
    }

    fn to_params(self) -> [f64; P] {
        let mut p = [0.0; P];
        p[0] = self.bias;
        p[1..].copy_from_slice(&self.weights);
        p
    }

    fn from_params(p: &[f64; P]) -> Calibration {
        let mut weights = [0.0; N];
        weights.copy_from_slice(&p[1..]);
        Calibration { bias: p[0], weights }
    }
}

/// The logistic function, safe for any finite or infinite input.
pub fn sigmoid(z: f64) -> f64 {
    if z.is_nan() {
        return 0.5;
    }
    1.0 / (1.0 + (-z).exp())
}

/// The Bayes inputs from the model's evidence: each family's log-likelihood sum divided by `sqrt(n + 1)` (`n` the
/// comment's distinct features of that family) and clamped to ±8. Dividing by the square root keeps a long comment
/// from looking certain merely because it is long (the sum of `n` weakly dependent ratios grows like `n`, its noise
/// like `sqrt(n)`).
pub fn bayes_inputs(ev: &Evidence, x: &mut [f64; N]) {
    for (slot, fam) in [(BAYES_WORD, WORD), (BAYES_BIGRAM, BIGRAM), (BAYES_CHAR, CHAR)] {
        let f = fam as usize;
        let v = ev.llr[f] / (f64::from(ev.features[f]) + 1.0).sqrt();
        x[slot] = if v.is_finite() { v.clamp(-8.0, 8.0) } else { 0.0 };
    }
}

/// Fits the calibration to held-out inputs `xs` with labels `ys`, starting from and pulled towards `prior`.
///
/// Damped Newton: a step that does not lower the penalised loss is halved (up to 30 times), so separable data (a
/// fold where one input splits the classes perfectly) cannot send the weights to infinity — the prior keeps the
/// loss bounded below and every accepted step lowers it.
#[allow(clippy::needless_range_loop)] // matrix code: indices read clearer than zipped iterators
pub fn fit(xs: &[[f64; N]], ys: &[bool], prior: &Calibration) -> Calibration {
    let centre = prior.to_params();
    let mut floor = [f64::NEG_INFINITY; P];
    floor[1..].copy_from_slice(&FLOOR);
    let mut ceiling = [f64::INFINITY; P];
    ceiling[1..].copy_from_slice(&CEILING);
    let mut theta = centre;
    for a in 0..P {
        theta[a] = theta[a].clamp(floor[a], ceiling[a]);
    }
    let mut fixed = [false; P];
    let mut current = loss(xs, ys, &theta, &centre);
    for _ in 0..100 {
        let mut g = [0.0f64; P];
        let mut h = [[0.0f64; P]; P];
        for (x, &y) in xs.iter().zip(ys) {
            let v = with_bias(x);
            let p = sigmoid(dot(&theta, &v));
            let r = p - if y { 1.0 } else { 0.0 };
            let w = (p * (1.0 - p)).max(1e-12);
            for a in 0..P {
                g[a] += r * v[a];
                for b in 0..=a {
                    h[a][b] += w * v[a] * v[b];
                }
            }
        }
        for a in 0..P {
            for b in 0..a {
                h[b][a] = h[a][b];
            }
            g[a] += STRENGTH[a] * (theta[a] - centre[a]);
            h[a][a] += STRENGTH[a];
        }
        // Parameters held at a bound leave the system.
        for a in 0..P {
            if fixed[a] {
                g[a] = 0.0;
                for b in 0..P {
                    h[a][b] = 0.0;
                    h[b][a] = 0.0;
                }
                h[a][a] = 1.0;
            }
        }
        let Some(step) = solve(h, g) else { break };
        let mut scale = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let mut next = theta;
            let mut hit_floor = fixed;
            for a in 0..P {
                next[a] = theta[a] - scale * step[a];
                if next[a] < floor[a] || next[a] > ceiling[a] {
                    next[a] = next[a].clamp(floor[a], ceiling[a]);
                    hit_floor[a] = true;
                }
            }
            let l = loss(xs, ys, &next, &centre);
            if l.is_finite() && l <= current {
                accepted = Some((next, hit_floor, l));
                break;
            }
            scale *= 0.5;
        }
        let Some((next, hit_floor, l)) = accepted else { break };
        let moved = theta.iter().zip(&next).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        theta = next;
        fixed = hit_floor;
        let gain = current - l;
        current = l;
        if moved < 1e-9 || gain < 1e-12 {
            break;
        }
    }
    Calibration::from_params(&theta)
}

fn with_bias(x: &[f64; N]) -> [f64; P] {
    let mut v = [1.0f64; P];
    v[1..].copy_from_slice(x);
    v
}

fn dot(a: &[f64; P], b: &[f64; P]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Negative log-likelihood plus the prior's penalty.
fn loss(xs: &[[f64; N]], ys: &[bool], theta: &[f64; P], centre: &[f64; P]) -> f64 {
    let mut l = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        let z = dot(theta, &with_bias(x));
        // log(1 + e^-z) for spam, log(1 + e^z) for ham, computed stably.
        let m = if y { -z } else { z };
        l += if m > 0.0 { m + (-m).exp().ln_1p() } else { m.exp().ln_1p() };
    }
    l + (0..P).map(|a| 0.5 * STRENGTH[a] * (theta[a] - centre[a]).powi(2)).sum::<f64>()
}

/// Solves `h · s = g` by Gaussian elimination with partial pivoting; `None` if singular.
#[allow(clippy::needless_range_loop)] // matrix code: indices read clearer than zipped iterators
fn solve(mut h: [[f64; P]; P], mut g: [f64; P]) -> Option<[f64; P]> {
    for col in 0..P {
        let pivot = (col..P).max_by(|&a, &b| h[a][col].abs().total_cmp(&h[b][col].abs()))?;
        if h[pivot][col].abs() < 1e-12 {
            return None;
        }
        h.swap(col, pivot);
        g.swap(col, pivot);
        for row in col + 1..P {
            let f = h[row][col] / h[col][col];
            for k in col..P {
                h[row][k] -= f * h[col][k];
            }
            g[row] -= f * g[col];
        }
    }
    let mut s = [0.0; P];
    for row in (0..P).rev() {
        let rest: f64 = (row + 1..P).map(|k| h[row][k] * s[k]).sum();
        s[row] = (g[row] - rest) / h[row][row];
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_separating_weight() {
        // Spam iff the shouting input is positive (with some label noise); other inputs are zeros.
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..200 {
            let v = (i as f64 - 100.0) / 25.0;
            let mut x = [0.0; N];
            x[SHOUTING] = v;
            xs.push(x);
            ys.push(v + if i % 7 == 0 { -1.0 } else { 0.0 } > 0.0);
        }
        let c = fit(&xs, &ys, &PRIOR);
        assert!(c.weights[SHOUTING] > 1.0, "{c:?}");
        assert!(sigmoid(c.logit(&xs[190])) > 0.9);
        assert!(sigmoid(c.logit(&xs[10])) < 0.1);
        // Unexercised inputs keep their prior weight.
        assert!((c.weights[WEBSITE] - PRIOR.weights[WEBSITE]).abs() < 1e-9);
    }

    #[test]
    fn the_model_alone_never_rejects() {
        let mut x = [0.0; N];
        x[BAYES_WORD] = 8.0;
        x[BAYES_CHAR] = 8.0;
        let c = Calibration { bias: 0.0, weights: [1.0; N] };
        assert_eq!(c.logit(&x), MAX_BAYES_LOGIT);
        x[PHRASE] = 1.0;
        assert_eq!(c.logit(&x), MAX_BAYES_LOGIT + 1.0, "rules add on top");
        x[BAYES_WORD] = -8.0;
        assert_eq!(c.logit(&x), 1.0, "the cap is on the sum, and only from above");
    }

    #[test]
    fn floors_hold_even_when_data_disagrees() {
        let mut x_spam = [0.0; N];
        x_spam[PHRASE] = 1.0;
        let xs = vec![x_spam; 50];
        let ys = vec![false; 50];
        let c = fit(&xs, &ys, &PRIOR);
        assert!(c.weights[PHRASE] >= FLOOR[PHRASE]);
    }

    #[test]
    fn degenerate_input_keeps_finite_weights() {
        let c = fit(&[], &[], &PRIOR);
        assert_eq!(c, PRIOR);
        let xs = vec![[0.0; N]; 10];
        let c = fit(&xs, &[true; 10], &PRIOR);
        assert!(c.bias.is_finite() && c.weights.iter().all(|w| w.is_finite()));
        assert_eq!(sigmoid(f64::NAN), 0.5);
    }
}
