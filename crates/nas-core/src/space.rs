//! Search spaces and genotypes.
//!
//! A space is a flat, labelled list of decisions, and a genotype is one value per decision.
//! Black-box strategies see nothing else: never tensors, never the network. Every method of
//! [`SearchSpace`] except [`SearchSpace::decisions`] has a default built from the decisions,
//! so a new space only overrides what it knows better (an isomorphism-aware fingerprint, its
//! native string form).

use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fmt;

/// One decision of a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// A label for people and for encodings, e.g. `edge 2<-1`.
    pub name: String,
    pub kind: DecisionKind,
}

/// What values a decision takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum DecisionKind {
    /// One of a list of named choices; the value is the choice's index.
    Categorical { choices: Vec<String> },
    /// An integer in `low..=high`.
    Integer { low: i64, high: i64 },
    /// A real number in `low..=high`, sampled on a log scale when `log` is set.
    Real { low: f64, high: f64, log: bool },
}

impl Decision {
    pub fn categorical(name: impl Into<String>, choices: &[&str]) -> Self {
        Decision {
            name: name.into(),
            kind: DecisionKind::Categorical {
                choices: choices.iter().map(|c| c.to_string()).collect(),
            },
        }
    }

    /// The number of discrete values, or `None` for a real-valued decision.
    pub fn cardinality(&self) -> Option<u64> {
        match &self.kind {
            DecisionKind::Categorical { choices } => Some(choices.len() as u64),
            DecisionKind::Integer { low, high } => Some((high - low + 1).max(0) as u64),
            DecisionKind::Real { .. } => None,
        }
    }

    fn check(&self, value: &Value) -> Result<(), String> {
        match (&self.kind, value) {
            (DecisionKind::Categorical { choices }, Value::Index(i)) => {
                if (*i as usize) < choices.len() {
                    Ok(())
                } else {
                    Err(format!("choice {i} out of range 0..{}", choices.len()))
                }
            }
            (DecisionKind::Integer { low, high }, Value::Int(v)) => {
                if low <= v && v <= high {
                    Ok(())
                } else {
                    Err(format!("{v} outside {low}..={high}"))
                }
            }
            (DecisionKind::Real { low, high, .. }, Value::Real(v)) => {
                if v.is_finite() && *low <= *v && *v <= *high {
                    Ok(())
                } else {
                    Err(format!("{v} outside {low}..={high}"))
                }
            }
            (kind, value) => Err(format!("value {value:?} does not fit a {kind:?} decision")),
        }
    }

    /// A value drawn uniformly (log-uniformly for a log-scale real): what the default
    /// [`SearchSpace::sample`] draws per decision, for a space that overrides it and keeps
    /// this draw as one of its modes.
    pub fn sample(&self, rng: &mut Rng) -> Value {
        match &self.kind {
            DecisionKind::Categorical { choices } => Value::Index(rng.index(choices.len()) as u32),
            DecisionKind::Integer { low, high } => {
                Value::Int(low + rng.below((high - low + 1) as u64) as i64)
            }
            DecisionKind::Real { low, high, log } => {
                if *log {
                    Value::Real(rng.uniform_in(low.ln(), high.ln()).exp().clamp(*low, *high))
                } else {
                    Value::Real(rng.uniform_in(*low, *high))
                }
            }
        }
    }

    /// A value different from `current` (when one exists).
    fn resample_other(&self, current: &Value, rng: &mut Rng) -> Value {
        match (&self.kind, current) {
            (DecisionKind::Categorical { choices }, Value::Index(i)) if choices.len() > 1 => {
                let j = rng.index(choices.len() - 1) as u32;
                Value::Index(if j >= *i { j + 1 } else { j })
            }
            (DecisionKind::Integer { low, high }, Value::Int(v)) if high > low => {
                let j = low + rng.below((high - low) as u64) as i64;
                Value::Int(if j >= *v { j + 1 } else { j })
            }
            (DecisionKind::Real { low, high, log }, Value::Real(v)) => {
                // A Gaussian step of a tenth of the range (in log space for log decisions).
                let (a, b, x) = if *log {
                    (low.ln(), high.ln(), v.ln())
                } else {
                    (*low, *high, *v)
                };
                let y = (x + 0.1 * (b - a) * rng.normal()).clamp(a, b);
                Value::Real(if *log { y.exp().clamp(*low, *high) } else { y })
            }
            _ => current.clone(),
        }
    }
}

/// One decision's value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Index(u32),
    Int(i64),
    Real(f64),
}

// Reals compare by bit pattern so genotypes can be map keys; the spaces never produce NaN.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Index(a), Value::Index(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Real(a), Value::Real(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}
impl Eq for Value {}
impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Value::Index(v) => (0u8, *v as u64).hash(state),
            Value::Int(v) => (1u8, *v as u64).hash(state),
            Value::Real(v) => (2u8, v.to_bits()).hash(state),
        }
    }
}
impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Value {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Index(_) => 0,
                Value::Int(_) => 1,
                Value::Real(_) => 2,
            }
        }
        match (self, other) {
            (Value::Index(a), Value::Index(b)) => a.cmp(b),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Real(a), Value::Real(b)) => a.total_cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl Value {
    /// The categorical index, if this is one.
    pub fn as_index(&self) -> Option<u32> {
        match self {
            Value::Index(i) => Some(*i),
            _ => None,
        }
    }
}

/// One value per decision of a space, in the space's decision order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Genotype(pub Vec<Value>);

std::thread_local! {
    /// The decisions that genotypes deserialized on this thread are typed by, while
    /// [`typed_by`] runs.
    static DECISIONS: std::cell::RefCell<Option<Vec<Decision>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with every genotype deserialized inside it (a strategy restoring its
/// checkpoint, a journal being read) typed by `decisions` ([`Genotype::conform`]) when it
/// has as many values.
///
/// Why a scope and not a step after reading: JSON stores a value as a bare number, so an
/// integer decision's `3` reads back as a categorical index, and the genotypes a strategy
/// restores sit inside its own checkpoint type, which the runner cannot reach into. Every
/// strategy, ours or a third party's, is covered without doing anything.
pub fn typed_by<R>(decisions: &[Decision], f: impl FnOnce() -> R) -> R {
    let previous = DECISIONS.with(|d| d.replace(Some(decisions.to_vec())));
    let result = f();
    DECISIONS.with(|d| *d.borrow_mut() = previous);
    result
}

impl<'de> Deserialize<'de> for Genotype {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut g = Genotype(Vec::<Value>::deserialize(deserializer)?);
        DECISIONS.with(|d| {
            if let Some(decisions) = &*d.borrow()
                && decisions.len() == g.0.len()
            {
                g.conform(decisions);
            }
        });
        Ok(g)
    }
}

impl Genotype {
    /// The values as `decisions` type them. In JSON (journals) a value is a bare number,
    /// so an integer decision's `3` reads back as `Index(3)` and a real's `2` as an
    /// integer; this puts each back as its decision's kind. Values that fit no kind are
    /// left for [`SearchSpace::validate`] to refuse.
    pub fn conform(&mut self, decisions: &[Decision]) {
        for (value, d) in self.0.iter_mut().zip(decisions) {
            *value = match (&d.kind, &*value) {
                (DecisionKind::Integer { .. }, Value::Index(i)) => Value::Int(*i as i64),
                (DecisionKind::Real { .. }, Value::Index(i)) => Value::Real(*i as f64),
                (DecisionKind::Real { .. }, Value::Int(i)) => Value::Real(*i as f64),
                (DecisionKind::Categorical { .. }, Value::Int(i))
                    if *i >= 0 && *i <= u32::MAX as i64 =>
                {
                    Value::Index(*i as u32)
                }
                _ => value.clone(),
            };
        }
    }

    /// A genotype of categorical indices.
    pub fn from_indices(indices: impl IntoIterator<Item = u32>) -> Self {
        Genotype(indices.into_iter().map(Value::Index).collect())
    }

    /// The categorical indices, or `None` if some value is not categorical.
    pub fn indices(&self) -> Option<Vec<u32>> {
        self.0.iter().map(Value::as_index).collect()
    }
}

/// A hash that is equal for genotypes that compute the same function (isomorphic cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a genotype or a string is not part of a space.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("genotype has {got} values, the space has {expected} decisions")]
    WrongLength { expected: usize, got: usize },
    #[error("decision {index} ({name}): {reason}")]
    BadValue {
        index: usize,
        name: String,
        reason: String,
    },
    /// The input and reason are shortened when shown: the input can be megabytes.
    #[error(
        "cannot parse {:?}: {}",
        crate::text::shorten(input),
        crate::text::shorten(reason)
    )]
    Parse { input: String, reason: String },
}

/// A search space: decisions plus the operators strategies need.
///
/// Implementations must be deterministic given the `Rng`, so that a seed fixes a search.
///
/// `Any` is a supertrait so that code holding a `dyn SearchSpace` can reach the concrete
/// space it knows ([`downcast_ref`](<dyn SearchSpace>::downcast_ref)): an evaluator built
/// for NB201 cells reads their op codes instead of parsing `render`.
pub trait SearchSpace: Any + Send + Sync + fmt::Debug {
    /// The registered name of this space (`nb201`, ...).
    fn name(&self) -> &str;

    /// The decisions, in genotype order.
    fn decisions(&self) -> &[Decision];

    /// Checks that `g` has one valid value per decision.
    ///
    /// # Errors
    /// Names the first decision whose value is out of range.
    fn validate(&self, g: &Genotype) -> Result<(), SpaceError> {
        let decisions = self.decisions();
        if g.0.len() != decisions.len() {
            return Err(SpaceError::WrongLength {
                expected: decisions.len(),
                got: g.0.len(),
            });
        }
        for (index, (d, v)) in decisions.iter().zip(&g.0).enumerate() {
            d.check(v).map_err(|reason| SpaceError::BadValue {
                index,
                name: d.name.clone(),
                reason,
            })?;
        }
        Ok(())
    }

    /// A random genotype, uniform over genotypes by default.
    ///
    /// Uniform over genotypes is not uniform over functions: where several genotypes
    /// compute the same function (equal [`fingerprint`](SearchSpace::fingerprint)s), a
    /// function with `m` genotypes is drawn `m` times as often as one with a single
    /// genotype. On NAS-Bench-201, a cell whose dead edges may hold any op is drawn more
    /// often than a cell without dead edges. This is the classic random baseline (the
    /// published NB201 random search samples cells this way), so the default keeps it.
    /// A space that can draw its functions uniformly (by sampling a canonical form) may
    /// do so here; strategies that reject what they have seen
    /// ([`Seen::fresh`](crate::seen::Seen::fresh)) then draw uniformly over the functions
    /// not yet proposed, where today they draw uniformly over the genotypes of those
    /// functions.
    fn sample(&self, rng: &mut Rng) -> Genotype {
        Genotype(self.decisions().iter().map(|d| d.sample(rng)).collect())
    }

    /// A copy of `g` with one decision changed to a different value.
    fn mutate(&self, g: &Genotype, rng: &mut Rng) -> Genotype {
        let decisions = self.decisions();
        let mut child = g.clone();
        let mutable: Vec<usize> = (0..decisions.len())
            .filter(|&i| decisions[i].cardinality() != Some(1))
            .collect();
        if mutable.is_empty() {
            return child;
        }
        let i = mutable[rng.index(mutable.len())];
        child.0[i] = decisions[i].resample_other(&g.0[i], rng);
        child
    }

    /// Uniform crossover: each decision from either parent. `None` where the space has no
    /// meaningful crossover.
    fn crossover(&self, a: &Genotype, b: &Genotype, rng: &mut Rng) -> Option<Genotype> {
        Some(Genotype(
            a.0.iter()
                .zip(&b.0)
                .map(|(x, y)| {
                    if rng.chance(0.5) {
                        x.clone()
                    } else {
                        y.clone()
                    }
                })
                .collect(),
        ))
    }

    /// Every genotype that differs from `g` in one discrete decision, in decision order.
    /// Real-valued decisions have no finite neighborhood and are skipped.
    fn neighbors(&self, g: &Genotype) -> Vec<Genotype> {
        let mut out = Vec::new();
        for (i, d) in self.decisions().iter().enumerate() {
            match (&d.kind, &g.0[i]) {
                (DecisionKind::Categorical { choices }, Value::Index(v)) => {
                    for c in 0..choices.len() as u32 {
                        if c != *v {
                            let mut n = g.clone();
                            n.0[i] = Value::Index(c);
                            out.push(n);
                        }
                    }
                }
                (DecisionKind::Integer { low, high }, Value::Int(v)) => {
                    for c in [v - 1, v + 1] {
                        if *low <= c && c <= *high {
                            let mut n = g.clone();
                            n.0[i] = Value::Int(c);
                            out.push(n);
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Equal for genotypes that compute the same function, and (up to 64-bit hash
    /// collisions) different for different functions. The default hashes the values,
    /// which is right for spaces without symmetries; a space with isomorphic or inert
    /// parts (NB201's dead edges, a chain's unused layers) hashes a canonical form.
    ///
    /// Strategies never propose two genotypes with the same fingerprint
    /// ([`Seen`](crate::seen::Seen)) and store fingerprints in their checkpoints, so a
    /// fingerprint must not change between runs or versions: build it with
    /// [`StableHasher`], never with `DefaultHasher`. Changing what a space's fingerprint
    /// hashes makes stored checkpoints of that space mean something else.
    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        use std::hash::{Hash, Hasher};
        let mut h = StableHasher::default();
        g.hash(&mut h);
        Fingerprint(h.finish())
    }

    /// Features for controllers and predictors: one-hot per categorical decision, the value
    /// scaled to `[0, 1]` for numeric ones.
    fn encode(&self, g: &Genotype) -> Vec<f32> {
        let mut out = Vec::new();
        for (d, v) in self.decisions().iter().zip(&g.0) {
            match (&d.kind, v) {
                (DecisionKind::Categorical { choices }, Value::Index(i)) => {
                    out.extend((0..choices.len()).map(|c| if c == *i as usize { 1.0 } else { 0.0 }))
                }
                (DecisionKind::Integer { low, high }, Value::Int(x)) => {
                    out.push(((x - low) as f32) / ((high - low).max(1) as f32))
                }
                (DecisionKind::Real { low, high, .. }, Value::Real(x)) => {
                    out.push(((x - low) / (high - low)) as f32)
                }
                _ => out.push(0.0),
            }
        }
        out
    }

    /// The space's native string form. The default is the values joined by commas, with
    /// categorical values written by choice name.
    fn render(&self, g: &Genotype) -> String {
        let parts: Vec<String> = self
            .decisions()
            .iter()
            .zip(&g.0)
            .map(|(d, v)| match (&d.kind, v) {
                (DecisionKind::Categorical { choices }, Value::Index(i)) => choices
                    .get(*i as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("#{i}")),
                (_, Value::Int(x)) => x.to_string(),
                (_, Value::Real(x)) => format!("{x:?}"),
                (_, Value::Index(i)) => format!("#{i}"),
            })
            .collect();
        parts.join(",")
    }

    /// Reads the native string form back.
    ///
    /// # Errors
    /// Says which part of the string does not fit which decision.
    fn parse(&self, s: &str) -> Result<Genotype, SpaceError> {
        let decisions = self.decisions();
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let err = |reason: String| SpaceError::Parse {
            input: s.to_string(),
            reason,
        };
        if parts.len() != decisions.len() {
            return Err(err(format!(
                "{} comma-separated values, expected {}",
                parts.len(),
                decisions.len()
            )));
        }
        let mut values = Vec::with_capacity(parts.len());
        for (d, p) in decisions.iter().zip(parts) {
            let v = match &d.kind {
                DecisionKind::Categorical { choices } => choices
                    .iter()
                    .position(|c| c == p)
                    .map(|i| Value::Index(i as u32))
                    .ok_or_else(|| {
                        err(format!("{p:?} is not one of {choices:?} for {}", d.name))
                    })?,
                DecisionKind::Integer { .. } => Value::Int(
                    p.parse()
                        .map_err(|_| err(format!("{p:?} is not an integer for {}", d.name)))?,
                ),
                DecisionKind::Real { .. } => Value::Real(
                    p.parse()
                        .map_err(|_| err(format!("{p:?} is not a number for {}", d.name)))?,
                ),
            };
            values.push(v);
        }
        let g = Genotype(values);
        self.validate(&g).map_err(|e| err(e.to_string()))?;
        Ok(g)
    }

    /// The number of genotypes, if finite and representable. It counts genotypes, not
    /// functions: it is at least [`distinct_functions`](SearchSpace::distinct_functions)
    /// and larger where genotypes share a fingerprint (NB201: 15,625 cells, 8,765
    /// functions).
    fn size(&self) -> Option<u128> {
        self.decisions().iter().try_fold(1u128, |acc, d| {
            d.cardinality().and_then(|c| acc.checked_mul(c as u128))
        })
    }

    /// How many distinct [`fingerprint`](SearchSpace::fingerprint)s the space has, if
    /// finite; where the space does not know the exact count, an upper bound.
    ///
    /// [`Seen::covered`](crate::seen::Seen::covered) compares against it, so a strategy
    /// that never repeats a function knows it has tried them all. The default is
    /// [`size`](SearchSpace::size), exact for spaces without symmetries and an upper
    /// bound otherwise: with an upper bound, a strategy only learns that the space is
    /// covered after many samples in a row that were all seen before
    /// ([`COVERED_AFTER_MISSES`](crate::seen::COVERED_AFTER_MISSES)). A space that
    /// overrides `fingerprint` and can count its functions should override this too. It
    /// must never be below the true count: the search would stop with functions left.
    fn distinct_functions(&self) -> Option<u128> {
        self.size()
    }

    /// The architecture `g` as graphs to look at: a cell as a DAG with an operation on
    /// each edge, a chain network as its layers. The report draws them and `nas export`
    /// writes them as Graphviz DOT. The default, for a space that does not say, is none.
    fn draw(&self, g: &Genotype) -> Vec<crate::drawing::ArchGraph> {
        let _ = g;
        Vec::new()
    }
}

impl dyn SearchSpace {
    /// The concrete space, if it is a `T`.
    ///
    /// ```
    /// # use nas_core::{Decision, SearchSpace};
    /// #[derive(Debug)]
    /// struct Mine(Vec<Decision>);
    /// impl SearchSpace for Mine {
    ///     fn name(&self) -> &str { "mine" }
    ///     fn decisions(&self) -> &[Decision] { &self.0 }
    /// }
    /// let space: Box<dyn SearchSpace> = Box::new(Mine(Vec::new()));
    /// assert!(space.downcast_ref::<Mine>().is_some());
    /// ```
    pub fn downcast_ref<T: SearchSpace>(&self) -> Option<&T> {
        let any: &dyn Any = self;
        any.downcast_ref()
    }
}

/// FNV-1a: a hasher whose output never changes between Rust versions or runs, unlike
/// `DefaultHasher`, so fingerprints can be stored in journals.
#[derive(Debug, Clone)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for StableHasher {
    fn finish(&self) -> u64 {
        crate::rng::splitmix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_genotype_read_back_from_json_is_typed_by_its_decisions_again() {
        let decisions = vec![
            Decision::categorical("op", &["a", "b", "c"]),
            Decision {
                name: "depth".into(),
                kind: DecisionKind::Integer { low: 1, high: 4 },
            },
            Decision {
                name: "rate".into(),
                kind: DecisionKind::Real {
                    low: 0.0,
                    high: 10.0,
                    log: false,
                },
            },
        ];
        let g = Genotype(vec![Value::Index(2), Value::Int(3), Value::Real(2.0)]);
        let json = serde_json::to_string(&g).unwrap_or_default();
        let mut back: Genotype = serde_json::from_str(&json).unwrap_or(Genotype(Vec::new()));
        assert_ne!(back, g, "untyped JSON numbers: {json}");
        back.conform(&decisions);
        assert_eq!(back, g);
        for (d, v) in decisions.iter().zip(&back.0) {
            assert!(d.check(v).is_ok());
        }
    }
}
