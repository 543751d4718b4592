//! [`JointSpace`]: a space's decisions followed by the hyperparameters'.

use super::Hyperparameters;
use crate::rng::Rng;
use crate::space::{Decision, Fingerprint, Genotype, SearchSpace, SpaceError, StableHasher, Value};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A space with hyperparameters: its genotypes are the inner space's values followed by
/// one value per hyperparameter.
///
/// The inner space keeps its own operators on its part of a genotype (NB201's canonical
/// fingerprint, a space's own sampling), and the hyperparameters get the defaults every
/// space's decisions get. `name` is the inner space's, so that what is looked up by name
/// (a registered network) is found; code that downcasts must use
/// [`inner`](JointSpace::inner), which is why the evaluator is built against it.
#[derive(Debug)]
pub struct JointSpace {
    inner: Arc<dyn SearchSpace>,
    hps: Hyperparameters,
    /// The inner space's decisions, then the hyperparameters'.
    decisions: Vec<Decision>,
    /// The hyperparameters as a space of their own, for the default operators.
    suffix: HyperSpace,
}

/// The hyperparameters' decisions with every operator the trait's default.
#[derive(Debug)]
struct HyperSpace {
    decisions: Vec<Decision>,
}

impl SearchSpace for HyperSpace {
    fn name(&self) -> &str {
        "hyperparameters"
    }
    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }
}

impl JointSpace {
    pub fn new(inner: Arc<dyn SearchSpace>, hps: Hyperparameters) -> Self {
        let decisions = inner
            .decisions()
            .iter()
            .chain(hps.decisions())
            .cloned()
            .collect();
        JointSpace {
            suffix: HyperSpace {
                decisions: hps.decisions().to_vec(),
            },
            inner,
            hps,
            decisions,
        }
    }

    /// The space the experiment's `[space]` table builds: what evaluators are built
    /// against and may downcast.
    pub fn inner(&self) -> &Arc<dyn SearchSpace> {
        &self.inner
    }

    pub fn hyperparameters(&self) -> &Hyperparameters {
        &self.hps
    }

    /// The inner space's genotype and the hyperparameters' values.
    pub fn split<'a>(&self, g: &'a Genotype) -> (Genotype, &'a [Value]) {
        let n = self.inner.decisions().len().min(g.0.len());
        let (prefix, suffix) = g.0.split_at(n);
        (Genotype(prefix.to_vec()), suffix)
    }

    fn join(prefix: Genotype, suffix: &[Value]) -> Genotype {
        let mut g = prefix;
        g.0.extend_from_slice(suffix);
        g
    }

    /// The hyperparameters' part as a genotype of their own space.
    fn suffix_of(&self, g: &Genotype) -> Genotype {
        Genotype(self.split(g).1.to_vec())
    }
}

impl SearchSpace for JointSpace {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    fn validate(&self, g: &Genotype) -> Result<(), SpaceError> {
        if g.0.len() != self.decisions.len() {
            return Err(SpaceError::WrongLength {
                expected: self.decisions.len(),
                got: g.0.len(),
            });
        }
        let (prefix, suffix) = self.split(g);
        self.inner.validate(&prefix)?;
        let offset = prefix.0.len();
        self.suffix
            .validate(&Genotype(suffix.to_vec()))
            .map_err(|e| match e {
                SpaceError::BadValue {
                    index,
                    name,
                    reason,
                } => SpaceError::BadValue {
                    index: index + offset,
                    name,
                    reason,
                },
                other => other,
            })
    }

    fn sample(&self, rng: &mut Rng) -> Genotype {
        let prefix = self.inner.sample(rng);
        let suffix = self.suffix.sample(rng);
        Self::join(prefix, &suffix.0)
    }

    /// Changes the architecture or one hyperparameter, with chances in proportion to
    /// their numbers of decisions.
    fn mutate(&self, g: &Genotype, rng: &mut Rng) -> Genotype {
        let (prefix, suffix) = self.split(g);
        let n_inner = prefix.0.len();
        let n_hps = self
            .suffix
            .decisions
            .iter()
            .filter(|d| d.cardinality() != Some(1))
            .count();
        if n_inner + n_hps == 0 {
            return g.clone();
        }
        if rng.index(n_inner + n_hps) < n_inner {
            Self::join(self.inner.mutate(&prefix, rng), suffix)
        } else {
            let hps = self.suffix.mutate(&Genotype(suffix.to_vec()), rng);
            Self::join(prefix, &hps.0)
        }
    }

    /// The inner space's crossover of the architectures (one parent's whole architecture
    /// where it has none), and each hyperparameter from either parent.
    fn crossover(&self, a: &Genotype, b: &Genotype, rng: &mut Rng) -> Option<Genotype> {
        let ((pa, _), (pb, _)) = (self.split(a), self.split(b));
        let prefix = match self.inner.crossover(&pa, &pb, rng) {
            Some(child) => child,
            None if rng.chance(0.5) => pa,
            None => pb,
        };
        let suffix = self
            .suffix
            .crossover(&self.suffix_of(a), &self.suffix_of(b), rng)?;
        Some(Self::join(prefix, &suffix.0))
    }

    /// The inner space's neighbors with the same hyperparameters, then the
    /// hyperparameters' neighbors with the same architecture.
    fn neighbors(&self, g: &Genotype) -> Vec<Genotype> {
        let (prefix, suffix) = self.split(g);
        let mut out: Vec<Genotype> = self
            .inner
            .neighbors(&prefix)
            .into_iter()
            .map(|n| Self::join(n, suffix))
            .collect();
        out.extend(
            self.suffix
                .neighbors(&Genotype(suffix.to_vec()))
                .into_iter()
                .map(|n| Self::join(prefix.clone(), &n.0)),
        );
        out
    }

    /// The inner space's fingerprint (which knows its isomorphisms) with the
    /// hyperparameters' values.
    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        let (prefix, suffix) = self.split(g);
        let mut h = StableHasher::default();
        self.inner.fingerprint(&prefix).0.hash(&mut h);
        suffix.hash(&mut h);
        Fingerprint(h.finish())
    }

    fn encode(&self, g: &Genotype) -> Vec<f32> {
        let (prefix, suffix) = self.split(g);
        let mut out = self.inner.encode(&prefix);
        out.extend(self.suffix.encode(&Genotype(suffix.to_vec())));
        out
    }

    /// The inner space's string, then ` path=value` per hyperparameter:
    /// `64-32:relu:0.1 learning_rate=0.01 optimizer=adam`.
    /// The architecture's drawing; the hyperparameters are not part of it.
    fn draw(&self, g: &Genotype) -> Vec<crate::drawing::ArchGraph> {
        self.inner.draw(&self.split(g).0)
    }

    fn render(&self, g: &Genotype) -> String {
        let (prefix, suffix) = self.split(g);
        let mut out = self.inner.render(&prefix);
        for (i, v) in suffix.iter().enumerate() {
            out.push_str(&format!(" {}={}", self.hps.path(i), self.hps.shown(i, v)));
        }
        out
    }

    /// Reads [`render`](JointSpace::render)'s form back: the hyperparameters are taken
    /// off the end, last first, so the inner space's string may hold spaces.
    fn parse(&self, s: &str) -> Result<Genotype, SpaceError> {
        let err = |reason: String| SpaceError::Parse {
            input: s.to_string(),
            reason,
        };
        let mut rest = s.trim_end();
        let mut values = vec![Value::Index(0); self.hps.len()];
        for i in (0..self.hps.len()).rev() {
            let key = format!(" {}=", self.hps.path(i));
            let at = rest.rfind(&key).ok_or_else(|| {
                err(format!(
                    "no `{}=` at the end (an architecture with hyperparameters ends with{})",
                    self.hps.path(i),
                    (0..self.hps.len())
                        .map(|j| format!(" {}=...", self.hps.path(j)))
                        .collect::<String>()
                ))
            })?;
            let text = &rest[at + key.len()..];
            values[i] = self.hps.read(i, text).map_err(err)?;
            rest = &rest[..at];
        }
        let prefix = self.inner.parse(rest)?;
        let g = Self::join(prefix, &values);
        self.validate(&g).map_err(|e| err(e.to_string()))?;
        Ok(g)
    }

    fn size(&self) -> Option<u128> {
        self.inner.size()?.checked_mul(self.suffix.size()?)
    }

    /// The inner space's functions times the hyperparameters' values: the fingerprint
    /// tells exactly these apart.
    fn distinct_functions(&self) -> Option<u128> {
        self.inner
            .distinct_functions()?
            .checked_mul(self.suffix.size()?)
    }
}
